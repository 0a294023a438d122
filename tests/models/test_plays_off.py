"""The plays seed is how a team runs only the plays it has adopted: a play left out of it is
off (not evaluated, named by build and show), and a row naming a play the engine does not
know fails the build with a message that says so."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from expansion_signals.project import CHECKOUT

from .conftest import AS_OF, Warehouse

OFF = "tier_upgrade"


def _project_with_plays(root: Path, edit) -> Path:
    project = root / "project"
    for part in ("models", "macros", "seeds", "tests/dbt"):
        shutil.copytree(CHECKOUT / part, project / part)
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(CHECKOUT / name, project / name)
    plays = project / "seeds" / "plays.csv"
    with plays.open(newline="") as f:
        rows = list(csv.DictReader(f))
    rows = edit(rows)
    with plays.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return project


def _expansion(project: Path, warehouse: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "EXPANSION_PROJECT_DIR": str(project),
           "EXPANSION_WORK_DIR": str(project), "EXPANSION_DUCKDB_PATH": str(warehouse)}
    return subprocess.run([sys.executable, "-m", "expansion_signals.cli", *args], env=env,
                          capture_output=True, text=True, check=False, timeout=900)


@pytest.fixture(scope="module")
def copy_of_demo(generated_warehouse: Warehouse, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("plays_off") / "demo.duckdb"
    shutil.copy(generated_warehouse.path, path)
    return path


def test_a_play_left_out_of_the_seed_is_off_and_named(copy_of_demo, tmp_path):
    project = _project_with_plays(tmp_path, lambda rows: [r for r in rows if r["play_id"] != OFF])
    built = _expansion(project, copy_of_demo, "build", "--as-of", AS_OF.isoformat())
    assert built.returncode == 0, built.stderr[-3000:]
    line = f"Plays off (not in the plays seed, so not evaluated): {OFF}; "
    assert line in built.stdout
    shown = _expansion(project, copy_of_demo, "show")
    assert shown.returncode == 0, shown.stderr
    assert line in shown.stdout
    with duckdb.connect(str(copy_of_demo), read_only=True) as con:
        fired = {p for (p,) in con.execute(
            "select distinct play_id from intermediate.int_trigger_days").fetchall()}
        in_mart = {p for (p,) in con.execute(
            "select distinct play_id from marts.expansion_signals").fetchall()}
    assert OFF not in fired and OFF not in in_mart
    assert len(fired) >= 3  # the other plays still fire


def test_a_seed_row_naming_an_unknown_play_fails_the_build_clearly(copy_of_demo, tmp_path):
    def add_unknown(rows):
        return [*rows, {**rows[0], "play_id": "seat_expnasion"}]

    project = _project_with_plays(tmp_path, add_unknown)
    built = _expansion(project, copy_of_demo, "build", "--as-of", AS_OF.isoformat(),
                       "--select", "plays")
    assert built.returncode == 1
    assert ("plays.play_id: 1 plays the engine does not know (a typo? the known plays are in "
            "macros/plays.sql) (value 'seat_expnasion')") in built.stderr
