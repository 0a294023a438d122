"""Where the dbt project lives, and the paths the commands share."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SEEDS_DIR = PROJECT_ROOT / "seeds"
SOURCES_YML = PROJECT_ROOT / "models" / "staging" / "_raw__sources.yml"


def duckdb_path() -> Path:
    """The warehouse file: EXPANSION_DUCKDB_PATH, else warehouse.duckdb at the project root."""
    configured = os.environ.get("EXPANSION_DUCKDB_PATH")
    if not configured:
        return PROJECT_ROOT / "warehouse.duckdb"
    path = Path(configured)
    return path if path.is_absolute() else PROJECT_ROOT / path
