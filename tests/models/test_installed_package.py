"""The wheel is the product: built and installed (not editable) into a fresh environment,
it runs the scheduled job against a built warehouse, away from the checkout, and holds no
test or demo code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from expansion_signals.project import CHECKOUT

from .conftest import Warehouse


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(the wheel, the fresh environment's bin folder)."""
    root = tmp_path_factory.mktemp("installed")
    built = _run([sys.executable, "-m", "pip", "wheel", str(CHECKOUT), "--no-deps", "-q",
                  "-w", str(root / "wheel")])
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (root / "wheel").glob("expansion_signals-*.whl")
    made = _run([sys.executable, "-m", "venv", str(root / "env")])
    assert made.returncode == 0, made.stderr
    bin_dir = root / "env" / "bin"
    installed = _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)])
    assert installed.returncode == 0, installed.stderr[-2000:]
    return wheel, bin_dir


def test_the_wheel_holds_the_runtime_and_the_dbt_project_only(installed):
    wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    python = [n for n in names if n.endswith(".py")]
    assert all(n.startswith("expansion_signals/") for n in python), python
    assert not [n for n in python if "emulator" in n or "demo" in n or "fixture" in n]
    for name in python:
        text = zipfile.ZipFile(wheel).read(name).decode()
        assert "import pytest" not in text and "trustme" not in text, name
    assert "expansion_signals/dbt_project/dbt_project.yml" in names
    assert "expansion_signals/dbt_project/models/marts/expansion_signals.sql" in names
    metadata = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith("METADATA"))).decode()
    runtime = [line for line in metadata.splitlines()
               if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert not [line for line in runtime if "pytest" in line or "trustme" in line], runtime


def test_the_installed_package_runs_the_job_away_from_the_checkout(
    installed, built_warehouse: Warehouse, tmp_path: Path
):
    _, bin_dir = installed
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse.path, warehouse)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("EXPANSION_", "SALESFORCE_", "SLACK_", "VIRTUAL_ENV"))}
    env["EXPANSION_DUCKDB_PATH"] = str(warehouse)
    imports = _run([str(bin_dir / "python"), "-c", "import expansion_dev"], cwd=tmp_path, env=env)
    assert imports.returncode != 0, "the development tools must not be installed"
    for module in ("pytest", "trustme"):
        assert _run([str(bin_dir / "python"), "-c", f"import {module}"],
                    cwd=tmp_path, env=env).returncode != 0, module
    ran = _run([str(bin_dir / "expansion"), "run", "--as-of", built_warehouse.as_of.isoformat(),
                "--dry-run"], cwd=tmp_path, env=env)
    assert ran.returncode == 0, (ran.stdout[-3000:], ran.stderr[-3000:])
    assert "Sync preview" in ran.stdout, ran.stdout[-2000:]
    assert (tmp_path / "target" / "run_results.json").is_file()  # dbt wrote here, not into the env
    assert not list((bin_dir.parent / "lib").glob("python*/site-packages/expansion_signals/"
                                                     "dbt_project/target"))
    demo = _run([str(bin_dir / "expansion"), "demo"], cwd=tmp_path, env=env)
    assert demo.returncode == 2
    assert demo.stderr.strip().splitlines()[-1].startswith("error: `expansion demo` needs the "
                                                           "development tools")
