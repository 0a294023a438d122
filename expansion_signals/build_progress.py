"""What a person sees while dbt builds: a progress bar, then one summary line.

On a terminal, a tqdm bar that redraws in place; anywhere else (a pipe, a
scheduler's log) no bar and no escape codes, only a plain line every tenth of
the way. The counts behind the summary line come from the node events the dbt
child process forwards (expansion_signals/dbt_child.py).
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TextIO

TEST_TYPES = ("test", "unit_test")
PASSED = ("pass", "success")
FAILED = ("fail", "error", "runtime error")
PLAIN_STEPS = 10  # without a terminal: one line per tenth of the nodes


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


@dataclass
class BuildTally:
    """How the nodes of one dbt invocation went, counted from the child's node events."""

    total: int | None = None
    finished: int = 0
    statuses: Counter[tuple[str, str]] = field(default_factory=Counter)  # (type, status)
    errors: list[str] = field(default_factory=list)  # one line per failed model, seed, unit test

    def add(self, node: dict[str, Any]) -> None:
        self.finished += 1
        kind, status = node.get("type", ""), node.get("status", "")
        self.statuses[(kind, status)] += 1
        # Data tests are explained from the warehouse (test_failures.explain); a model,
        # a seed or a unit test that failed is one line here, with dbt's first words on it.
        if kind != "test" and status in FAILED:
            name = str(node.get("name"))
            if kind == "unit_test":  # unit_test.<project>.<model>.<test>
                name = ".".join(str(node.get("id", "")).split(".")[2:]) or name
            first = (node.get("message") or "").strip().splitlines()[:1]
            self.errors.append(f"{kind} {name}: {first[0].rstrip(':') if first else status}")

    def count(self, kinds: tuple[str, ...], statuses: tuple[str, ...]) -> int:
        return sum(n for (k, s), n in self.statuses.items() if k in kinds and s in statuses)

    def summary(self, command: str, seconds: float, success: bool) -> str:
        if self.finished == 0 and success:
            return f"dbt {command}: no nodes matched the selection; nothing was run."
        built = []
        for kind in ("model", "seed", "snapshot"):
            done, failed = self.count((kind,), PASSED), self.count((kind,), FAILED)
            if done or failed:
                built.append(_plural(done, kind) + (f" ({failed} failed)" if failed else ""))
        parts = [", ".join(built)] if built else []
        if any(k in TEST_TYPES for k, _ in self.statuses):
            tests = (f"{_plural(self.count(TEST_TYPES, PASSED), 'test')} passed, "
                     f"{self.count(TEST_TYPES, FAILED)} failed")
            warned = self.count(TEST_TYPES, ("warn",))
            parts.append(tests + (f", {warned} warned" if warned else ""))
        skipped = self.count(tuple(k for k, _ in self.statuses), ("skipped",))
        if skipped:
            parts.append(f"{skipped} skipped")
        head = f"dbt {command} " + ("done" if success else "failed")
        return f"{head} in {seconds:.0f} s: {'; '.join(parts) or 'nothing ran'}."


class BuildProgress:
    """Draws the tally as it grows: a bar on a terminal, a line per tenth elsewhere."""

    def __init__(self, command: str, out: TextIO, *, terminal: bool, quiet: bool = False) -> None:
        self.command = command
        self.out = out
        self.terminal = terminal
        self.quiet = quiet  # verbose runs print dbt's own lines instead
        self.bar: Any = None
        self.steps_shown = 0

    def started(self) -> None:
        if not self.quiet:
            self._line(f"dbt {self.command}: reading the project ...")

    def total(self, total: int) -> None:
        if self.quiet or not self.terminal:
            return
        from tqdm import tqdm

        # the terminal's size (COLUMNS and LINES first); one that reports none gets 80 x 24
        size = shutil.get_terminal_size((80, 24))
        self.bar = tqdm(total=total, file=self.out, desc=f"dbt {self.command}", unit="node",
                        leave=False, ncols=size.columns or 80, nrows=size.lines or 24,
                        bar_format="{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
                                   "[{elapsed}<{remaining}{postfix}]")

    def node(self, tally: BuildTally, node: dict[str, Any], seconds: float) -> None:
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.set_postfix_str(str(node.get("name", ""))[:40], refresh=False)
            self.bar.update(1)
            return
        if not tally.total:
            return
        step = tally.finished * PLAIN_STEPS // tally.total
        if step > self.steps_shown and step < PLAIN_STEPS:
            self.steps_shown = step
            self._line(f"  {step * 100 // PLAIN_STEPS:>3}%  {tally.finished} of {tally.total}"
                       f" nodes, {seconds:.0f} s")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _line(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()
