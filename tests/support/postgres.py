"""A throwaway PostgreSQL cluster on 127.0.0.1, and loading raw tables into it.

initdb refuses to run as root, so as root the cluster runs as the `postgres`
system user that Debian's package creates.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
from expansion_dev.contract import RAW_TABLES, create_table_sql

PG_BIN_DIRS = [Path("/usr/lib/postgresql/15/bin"), Path("/usr/local/bin"), Path("/usr/bin")]
PG_TYPES = {"double": "double precision"}


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    database: str

    def env(self) -> dict[str, str]:
        return {
            "EXPANSION_TARGET": "postgres",
            "EXPANSION_PG_HOST": self.host,
            "EXPANSION_PG_PORT": str(self.port),
            "EXPANSION_PG_USER": self.user,
            "EXPANSION_PG_PASSWORD": "",
            "EXPANSION_PG_DATABASE": self.database,
            "EXPANSION_PG_SCHEMA": "analytics",
        }

    def connect(self):
        import psycopg2

        return psycopg2.connect(host=self.host, port=self.port, user=self.user,
                                dbname=self.database)


def _binary(name: str) -> str:
    for directory in PG_BIN_DIRS:
        if (directory / name).exists():
            return str(directory / name)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (Debian package: postgresql)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_cluster_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextmanager
def postgres_cluster() -> Iterator[PostgresServer]:
    root = Path(tempfile.mkdtemp(prefix="expansion-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = _free_port()
    subprocess.run(
        _as_cluster_user([_binary("initdb"), "-D", str(data), "-U", "postgres",
                          "--auth=trust", "--no-sync", "-E", "UTF8"]),
        check=True, capture_output=True,
    )
    subprocess.run(
        _as_cluster_user([
            _binary("pg_ctl"), "-D", str(data), "-w", "-l", str(root / "server.log"), "start",
            "-o", f"-h 127.0.0.1 -p {port} -k {sockets} -F -c fsync=off "
                  "-c synchronous_commit=off -c full_page_writes=off",
        ]),
        check=True, capture_output=True,
    )
    server = PostgresServer("127.0.0.1", port, "postgres", "postgres")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                server.connect().close()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        conn = server.connect()
        conn.autocommit = True
        conn.cursor().execute("create database expansion")
        conn.close()
        yield PostgresServer("127.0.0.1", port, "postgres", "expansion")
    finally:
        subprocess.run(
            _as_cluster_user([_binary("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def copy_raw_tables(duckdb_file: Path, server: PostgresServer, schema: str = "raw") -> None:
    """Copies every raw table of the contract from a DuckDB file into PostgreSQL."""
    source = duckdb.connect(str(duckdb_file), read_only=True)
    target = server.connect()
    try:
        with target, target.cursor() as cursor:
            cursor.execute(f"drop schema if exists {schema} cascade; create schema {schema}")
            for table in RAW_TABLES:
                ddl = create_table_sql(table, schema)
                for portable, postgres_name in PG_TYPES.items():
                    ddl = ddl.replace(f" {portable},", f" {postgres_name},").replace(
                        f" {portable})", f" {postgres_name})")
                cursor.execute(ddl)
                with tempfile.TemporaryDirectory() as scratch:
                    path = Path(scratch) / f"{table}.csv"
                    source.execute(f"copy raw.{table} to '{path}' (header false)")
                    with open(path, newline="") as f:
                        cursor.copy_expert(f"copy {schema}.{table} from stdin with (format csv)", f)
                cursor.execute(f"select count(*) from {schema}.{table}")
                copied = cursor.fetchone()[0]
                expected = source.execute(f"select count(*) from raw.{table}").fetchone()[0]
                if copied != expected:
                    raise RuntimeError(f"copied {copied} of {expected} rows of raw.{table}")
    finally:
        source.close()
        target.close()

