"""A CPU-time sampling profiler for one Python server process, and its breakdown by package.

    python bench/cpu_sampler.py OUT_FILE -m contact_center serve --no-worker
    kill -USR1 <pid>    # start sampling (200 samples per second of the process's CPU time)
    kill -USR2 <pid>    # stop, and write OUT_FILE: one "frame;frame;… count" line per stack

Wall-clock samplers (py-spy) count a thread as active whenever it is runnable, including while
it waits in the run queue after being preempted; on a small machine shared by the load generator,
PostgreSQL and the servers that is most of the time, and it lands on whatever ran last (a socket
write that woke PostgreSQL). This sampler uses `ITIMER_PROF`, the process's own user + system
CPU time, so a sample is only taken while the process burns CPU; the Python handler records the
interrupted stack. C work is charged to the Python line that called it; work that never returns
to bytecode (the event loop's own polling) lands on the next bytecode run. Frames inside
SQLAlchemy's greenlets start at the greenlet's entry.

The output is in the collapsed-stack format flame graph tools read. `breakdown()` sums it by the
package of the innermost frame (what burnt the CPU), as `bench.compare --profile` prints it.
The file is run by path (not `-m bench.cpu_sampler`) so that it can wrap another checkout's
processes; it uses the standard library only.
"""

from __future__ import annotations

import collections
import os
import runpy
import signal
import sys
from pathlib import Path
from types import FrameType

INTERVAL = 1 / 200

# Package groups, by the first component of the innermost frame's path (relative to sys.path).
GROUPS: dict[str, tuple[str, ...]] = {
    "SQLAlchemy": ("sqlalchemy", "greenlet"),
    "asyncpg": ("asyncpg",),
    "uvicorn / event loop": (
        "uvicorn",
        "uvloop",
        "asyncio",
        "httptools",
        "h11",
        "selectors.py",
        "socket.py",
    ),
    "starlette / fastapi / pydantic": (
        "starlette",
        "fastapi",
        "pydantic",
        "pydantic_core",
        "anyio",
        "sse_starlette",
    ),
    "project code": ("contact_center", "bench"),
    "logging": ("structlog", "logging"),
    "queue (saq, redis)": ("saq", "redis"),
    "HTTP client (httpx)": ("httpx", "httpcore"),
}


class Sampler:
    """Counts the stacks the process is in each time it has used another INTERVAL of CPU."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.counts: collections.Counter[str] = collections.Counter()
        self.prefixes: list[str] = []

    def install(self) -> None:
        signal.signal(signal.SIGUSR1, self._start)
        signal.signal(signal.SIGUSR2, self._stop)

    def short(self, path: str) -> str:
        for prefix in self.prefixes:
            if path.startswith(prefix):
                return path[len(prefix) :]
        if "/lib/python3" in path:
            return path.split("/lib/python3", 1)[1].split("/", 1)[1]
        return path

    def _sample(self, _signum: int, frame: FrameType | None) -> None:
        names = []
        while frame is not None:
            code = frame.f_code
            names.append(f"{code.co_qualname} ({self.short(code.co_filename)}:{frame.f_lineno})")
            frame = frame.f_back
        self.counts[";".join(reversed(names))] += 1

    def _start(self, _signum: int, _frame: FrameType | None) -> None:
        self.counts.clear()
        self.prefixes = sorted(
            {p.rstrip("/") + "/" for p in sys.path if p and os.path.isdir(p)},
            key=len,
            reverse=True,
        )
        signal.signal(signal.SIGPROF, self._sample)
        signal.setitimer(signal.ITIMER_PROF, INTERVAL, INTERVAL)

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        with self.out.open("w", encoding="utf-8") as out:
            for stack, count in self.counts.items():
                out.write(f"{stack} {count}\n")


def leaf_module(stack: str) -> str:
    """The innermost frame's file, relative to sys.path: `sqlalchemy/engine/base.py`."""
    leaf = stack.rsplit(";", 1)[-1]
    return leaf.rsplit(" (", 1)[-1].rsplit(":", 1)[0]


def group_of(module: str) -> str:
    first = module.split("/", 1)[0]
    for group, names in GROUPS.items():
        if first in names:
            return group
    return "other"


def read_samples(path: Path) -> collections.Counter[str]:
    """Samples per innermost module, from a collapsed-stack file."""
    modules: collections.Counter[str] = collections.Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack:
            modules[leaf_module(stack)] += int(count)
    return modules


def breakdown(path: Path) -> tuple[int, dict[str, int], list[tuple[str, int]]]:
    """(samples, samples per package group, the top "other" packages) of a collapsed-stack file."""
    modules = read_samples(path)
    groups: collections.Counter[str] = collections.Counter()
    others: collections.Counter[str] = collections.Counter()
    for module, count in modules.items():
        group = group_of(module)
        groups[group] += count
        if group == "other":
            parts = [part for part in module.split("/") if part]
            name = "/".join(parts[-2:]) if module.startswith("/") else parts[0]
            others[name.removesuffix(".py") or module] += count
    ordered = {name: groups[name] for name in [*GROUPS, "other"]}
    return sum(modules.values()), ordered, others.most_common(6)


def main() -> None:
    if len(sys.argv) < 4 or sys.argv[2] != "-m":
        raise SystemExit(__doc__)
    Sampler(Path(sys.argv[1])).install()
    module = sys.argv[3]
    sys.argv = [module, *sys.argv[4:]]
    # As `python -m` would: the working directory first (the checkout's root, for `bench`).
    sys.path[0] = os.getcwd()
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
