"""The source contract, read from the dbt sources file that declares it.

`models/staging/_raw__sources.yml` is the one place the raw tables' names,
columns and types are written down; the generator and the tests read it here.
"""

from __future__ import annotations

from functools import cache

import yaml

from expansion_signals.project import sources_yml


@cache
def _tables() -> dict[str, list[tuple[str, str]]]:
    with open(sources_yml()) as f:
        document = yaml.safe_load(f)
    (source,) = [s for s in document["sources"] if s["name"] == "raw"]
    return {
        table["name"]: [(c["name"], c["data_type"]) for c in table["columns"]]
        for table in source["tables"]
    }


RAW_TABLES: dict[str, list[tuple[str, str]]] = _tables()


def create_table_sql(table: str, schema: str) -> str:
    columns = ", ".join(f"{name} {data_type}" for name, data_type in RAW_TABLES[table])
    return f"create table {schema}.{table} ({columns})"
