"""Redaction accuracy and throughput on the labelled corpus (tests/data/redaction_corpus.jsonl).

Per entity: recall is the share of labelled spans that a finding of the same entity covers
whole (a partly covered card number still leaks digits, so it counts as missed); precision is the
share of findings that overlap a labelled span of the same entity. Throughput is `redact` over
the whole corpus, repeated, in snippets and characters per second on one core.

    .venv/bin/python -m bench.redaction_accuracy            # table + throughput
    .venv/bin/python -m bench.redaction_accuracy --errors   # also every miss and false alarm
    .venv/bin/python -m bench.redaction_accuracy --refills 20
        # also the same snippets filled with other numbers 20 times (seeds 26…45), summed: a
        # detector that passes by the luck of the committed numbers shows here
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from contact_center.redaction.detectors import Entity, Span, detect
from contact_center.redaction.redact import redact

CORPUS = Path(__file__).parent.parent / "tests" / "data" / "redaction_corpus.jsonl"

# The targets (docs/redaction.md).
RECALL_TARGETS = {
    Entity.CARD: 0.99,
    Entity.SECURITY_CODE: 0.99,
    Entity.DNI: 0.97,
    Entity.CUIT: 0.97,
    Entity.CBU: 0.97,
    Entity.CVU: 0.97,
}
PRECISION_TARGET = 0.95


@dataclass(frozen=True, slots=True)
class Snippet:
    id: str
    channel: str
    customer_name: str | None
    text: str
    spans: tuple[tuple[Entity, int, int], ...]


@dataclass
class Score:
    labelled: int = 0
    found: int = 0  # labelled spans covered by a finding of the same entity
    predicted: int = 0
    correct: int = 0  # findings that overlap a labelled span of the same entity
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.found / self.labelled if self.labelled else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0


def load_corpus(path: Path = CORPUS) -> list[Snippet]:
    snippets = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        spans = tuple((Entity(s["type"]), int(s["start"]), int(s["end"])) for s in row["spans"])
        snippets.append(
            Snippet(row["id"], row["channel"], row.get("customer_name"), row["text"], spans)
        )
    return snippets


def evaluate(snippets: list[Snippet]) -> dict[Entity, Score]:
    scores = {entity: Score() for entity in Entity}
    for snippet in snippets:
        found = detect(snippet.text, customer_name=snippet.customer_name)
        _score(snippet, found, scores)
    return scores


def _score(snippet: Snippet, found: list[Span], scores: dict[Entity, Score]) -> None:
    text = snippet.text
    for entity, start, end in snippet.spans:
        score = scores[entity]
        score.labelled += 1
        if any(s.entity is entity and s.start <= start and s.end >= end for s in found):
            score.found += 1
        else:
            score.misses.append(f"{snippet.id}: {text[start:end]!r} in {text!r}")
    for span in found:
        score = scores[span.entity]
        score.predicted += 1
        if any(
            entity is span.entity and start < span.end and span.start < end
            for entity, start, end in snippet.spans
        ):
            score.correct += 1
        else:
            score.false_alarms.append(
                f"{snippet.id}: {span.original!r} ({span.detector}) in {text!r}"
            )


def refilled(count: int) -> list[Snippet]:
    """The corpus's snippets filled anew with the numbers of seeds 26, 27…"""
    from bench.redaction_corpus import build

    snippets: list[Snippet] = []
    for seed in range(26, 26 + count):
        for row in build(seed):
            spans = tuple((Entity(s["type"]), s["start"], s["end"]) for s in row["spans"])
            snippets.append(
                Snippet(
                    f"{seed}:{row['id']}",
                    row["channel"],
                    row["customer_name"],
                    row["text"],
                    spans,
                )
            )
    return snippets


def _print_table(scores: dict[Entity, Score]) -> None:
    print(
        f"{'entity':<15}{'labelled':>9}{'found':>7}{'recall':>8}{'predicted':>10}"
        f"{'precision':>10}  target"
    )
    for entity, score in scores.items():
        target = RECALL_TARGETS.get(entity)
        goal = f"recall ≥ {target}, " if target else ""
        print(
            f"{entity.value:<15}{score.labelled:>9}{score.found:>7}{score.recall:>8.3f}"
            f"{score.predicted:>10}{score.precision:>10.3f}  {goal}precision ≥ {PRECISION_TARGET}"
        )


def _print_errors(scores: dict[Entity, Score]) -> None:
    for entity, score in scores.items():
        for miss in score.misses:
            print(f"MISS {entity.value}: {miss}")
        for alarm in score.false_alarms:
            print(f"FALSE {entity.value}: {alarm}")


def throughput(snippets: list[Snippet], seconds: float = 2.0) -> tuple[float, float]:
    """(snippets per second, characters per second) of `redact` on one core."""
    chars = sum(len(s.text) for s in snippets)
    rounds = 0
    started = time.perf_counter()
    while True:
        for snippet in snippets:
            redact(snippet.text, customer_name=snippet.customer_name)
        rounds += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            break
    return rounds * len(snippets) / elapsed, rounds * chars / elapsed


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--errors", action="store_true", help="print every miss and false alarm")
    parser.add_argument("--seconds", type=float, default=3.0, help="throughput run length")
    parser.add_argument("--refills", type=int, default=0, help="also score N refilled corpora")
    args = parser.parse_args()
    snippets = load_corpus(args.corpus)
    scores = evaluate(snippets)
    labelled = sum(len(s.spans) for s in snippets)
    print(f"corpus: {len(snippets)} snippets, {labelled} labelled spans; commit {_commit()}")
    _print_table(scores)
    per_second, chars_per_second = throughput(snippets, args.seconds)
    print(f"throughput: {per_second:,.0f} snippets/s, {chars_per_second:,.0f} chars/s (one core)")
    if args.errors:
        _print_errors(scores)
    if args.refills:
        again = refilled(args.refills)
        print(f"\nthe same snippets refilled {args.refills} times: {len(again)} snippets")
        again_scores = evaluate(again)
        _print_table(again_scores)
        if args.errors:
            _print_errors(again_scores)


if __name__ == "__main__":
    main()
