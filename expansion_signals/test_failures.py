"""One actionable line per failing data test: table, column, what is wrong, an example key.

dbt reports a failing test by its generated name and a row count. A RevOps
engineer needs to know which table and column hold bad rows and one key to
look at, so after a failed build this reads dbt's run results and manifest
and, where the warehouse is reachable, the first failing row.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROBLEMS = {
    "valid_key": "null or duplicate keys",
    "not_null": "null values",
    "unique": "duplicate values",
    "value_in": "values outside the accepted list",
    "within_range": "values out of range",
    "references": "values with no match in {to}",
    "holds_for_every_row": "rows breaking `{expression}`",
    "unique_combination": "rows repeating the grain",
    "relationships": "values with no match in {to}",
    "accepted_values": "values outside the accepted list",
    "matches_play_registry": "plays the engine does not know (a typo? the known plays are "
                             "in macros/plays.sql)",
    "is_registered_play": "plays the engine does not know",
    "counts_signal_categories": "rows whose signal_count is not their number of true signals",
    "counts_categories_with_a_signal": "rows whose signal_categories is not their number of "
                                       "categories with a signal",
}


@dataclass(frozen=True)
class FailedTest:
    table: str
    column: str | None
    problem: str
    failures: int
    compiled_sql: str | None

    def describe(self, example: dict[str, object] | None) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        line = f"{where}: {self.failures} {self.problem}"
        if example:
            key = example.get("failing_key")
            value = example.get("failing_value")
            if key is not None or "failing_key" in example:
                line += f", e.g. key {key!r}"
            if value is not None:
                line += f" (value {value!r})"
        return line


def failed_tests(target_dir: Path) -> list[FailedTest]:
    try:
        results = json.loads((target_dir / "run_results.json").read_text())
        manifest = json.loads((target_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return []
    failed = []
    for result in results.get("results", []):
        if not result["unique_id"].startswith("test.") or result["status"] not in ("fail", "error"):
            continue
        node = manifest["nodes"].get(result["unique_id"], {})
        metadata = node.get("test_metadata") or {}
        kwargs = metadata.get("kwargs", {})
        if node.get("sources"):
            source, table = node["sources"][0]
            relation = f"{source}.{table}"
        elif node.get("refs"):
            relation = node["refs"][0]["name"]
        else:
            relation = node.get("name", result["unique_id"])
        template = PROBLEMS.get(metadata.get("name", ""), f"failures of {metadata.get('name')}")
        problem = template.format(
            to=str(kwargs.get("to", "")).replace("{{ ", "").replace(" }}", ""),
            expression=kwargs.get("expression", ""),
        )
        failures = result.get("failures") or 0
        if result["status"] == "error":
            problem = f"test could not run: {(result.get('message') or '').splitlines()[0:1]}"
        failed.append(
            FailedTest(relation, kwargs.get("column_name"), problem, failures,
                       result.get("compiled_code"))
        )
    return failed


def explain(target_dir: Path, first_row: Callable[[str], dict[str, object] | None]) -> list[str]:
    lines = []
    for test in failed_tests(target_dir):
        example = None
        if test.compiled_sql and test.failures:
            try:
                example = first_row(test.compiled_sql)
            except Exception:  # an example is a courtesy; the count still stands
                example = None
        lines.append(test.describe(example))
    return lines
