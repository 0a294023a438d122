"""Where the dbt project lives, where dbt writes, and the warehouse file.

An installed wheel carries the dbt project (dbt_project.yml, profiles.yml,
models, macros, seeds and the dbt tests) inside the package, copied there at
build time; an editable install in a checkout uses the checkout's own files.
`EXPANSION_PROJECT_DIR` points at another copy (a fork of the models).

dbt's target and log folders, and the default warehouse file, go to the work
folder: the checkout itself, or for an installed package the current
directory (`EXPANSION_WORK_DIR` to choose), never into site-packages.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGED_PROJECT = Path(__file__).resolve().parent / "dbt_project"
CHECKOUT = Path(__file__).resolve().parent.parent


class ProjectNotFound(RuntimeError):
    """Neither a packaged dbt project nor a checkout: the installation is broken."""


def project_dir() -> Path:
    configured = os.environ.get("EXPANSION_PROJECT_DIR", "").strip()
    candidates = [Path(configured).resolve()] if configured else [PACKAGED_PROJECT, CHECKOUT]
    for candidate in candidates:
        if (candidate / "dbt_project.yml").is_file():
            return candidate
    where = configured or f"{PACKAGED_PROJECT} or {CHECKOUT}"
    raise ProjectNotFound(f"no dbt_project.yml in {where}: set EXPANSION_PROJECT_DIR to the "
                          "folder of the expansion-signals dbt project, or reinstall the package")


def is_checkout(project: Path | None = None) -> bool:
    return (project or project_dir()) == CHECKOUT


def work_dir() -> Path:
    configured = os.environ.get("EXPANSION_WORK_DIR", "").strip()
    if configured:
        return Path(configured).resolve()
    project = project_dir()
    return project if is_checkout(project) else Path.cwd()


def seeds_dir() -> Path:
    return project_dir() / "seeds"


def sources_yml() -> Path:
    return project_dir() / "models" / "staging" / "_raw__sources.yml"


def target_dir() -> Path:
    return work_dir() / "target"


def duckdb_path() -> Path:
    """The warehouse file: EXPANSION_DUCKDB_PATH (relative to the work folder), else
    warehouse.duckdb in the work folder."""
    return in_work_dir(os.environ.get("EXPANSION_DUCKDB_PATH") or "warehouse.duckdb")


def in_work_dir(path: str | Path) -> Path:
    """A path as configured: absolute as given, else relative to the work folder."""
    path = Path(path)
    return path if path.is_absolute() else work_dir() / path
