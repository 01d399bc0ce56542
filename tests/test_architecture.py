"""Import rules that keep the shape of the codebase (STYLE.md, habits 2, 3 and 9)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parent.parent / "src" / "contact_center"
VENDORS = ("twilio", "elevenlabs", "builderbot")


def _python_files() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _relative(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


@pytest.mark.parametrize("path", _python_files(), ids=_relative)
def test_vendor_sdks_only_under_providers_and_emulator(path: Path) -> None:
    if _relative(path).startswith(("providers/", "emulator/")):
        return
    assert not any(name.split(".")[0] in VENDORS for name in _imports(path))


# Where SQL may be written: repositories, the database package, models, the demo data writer.
SQL_ALLOWED = ("db/", "models/", "demo/")


SQL_CONSTRUCTS = {"select", "insert", "update", "delete", "text", "func", "and_", "or_"}


@pytest.mark.parametrize("path", _python_files(), ids=_relative)
def test_sql_lives_in_repositories(path: Path) -> None:
    relative = _relative(path)
    if relative.endswith("repository.py") or relative.startswith(SQL_ALLOWED):
        return
    # health/service.py runs "SELECT 1" and reads the table list: a probe, not domain SQL.
    allowed = {"text"} if relative == "health/service.py" else set()
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            used = {alias.name for alias in node.names} & SQL_CONSTRUCTS - allowed
            assert not used, f"{relative} builds SQL: {sorted(used)}"


# The request dependency, jobs and start-up code own transactions; services never commit.
# Webhook ingest and the ElevenLabs sync are units of work of their own (one transaction per
# delivery, per conversation), whoever calls them.
COMMIT_ALLOWED = {
    "dependencies.py",
    "db/migrate.py",
    "webhooks/ingest.py",
    "keys/service.py",
    "calls/sync.py",
    "redaction/history.py",  # the history command and the reseal: one transaction per batch
    "retention/service.py",  # the purge: one short transaction per batch, resumable
    "auth/middleware.py",  # owns the transaction of authenticating (touching last-used times)
    "cli/context.py",
}


@pytest.mark.parametrize("path", _python_files(), ids=_relative)
def test_only_transaction_owners_commit(path: Path) -> None:
    relative = _relative(path)
    if (
        relative in COMMIT_ALLOWED
        or relative.startswith(("demo/", "worker/"))
        or relative.endswith("tasks.py")
    ):
        return
    assert ".commit()" not in path.read_text(), relative


def test_nothing_connects_at_import_time() -> None:
    for path in _python_files():
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
                func = node.value.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                assert name not in {
                    "create_engine",
                    "create_async_engine",
                    "AsyncClient",
                    "Redis",
                    "from_url",
                }, _relative(path)


def test_no_source_cites_a_document_outside_the_repository() -> None:
    """What the code relies on is written in docs/; a citation of a specification the repository
    does not hold is a dead end for whoever reads the code."""
    root = SRC.parent.parent
    citing = [
        path.relative_to(root).as_posix()
        for folder in ("src", "tests", "bench", "scripts")
        for path in sorted((root / folder).rglob("*"))
        if path.is_file()
        and path.suffix in {".py", ".html", ".js", ".md", ""}
        and path.name != "test_architecture.py"
        and "SPEC §" in path.read_text(errors="replace")
    ]
    assert citing == []
