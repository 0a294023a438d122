"""The warehouse side of the sync: one connection, the mart it reads, the plays.

The connection is the dbt target's, read from profiles.yml: DuckDB (the
default target), PostgreSQL or Spark (dbt-spark's session method). SQL here is
written once with `?` placeholders and portable types; each connection spells
them its own way. A DuckDB file has a single writer, so the sync opens it
only after dbt has finished with it.

The ledger needs transactions and row updates. Where the warehouse has them
it lives there; Spark's own tables have neither, so on Spark the ledger is the
DuckDB file the target names (`ledger_path`) and `Database.ledger_db` points at it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from expansion_signals.profiles import ProfileError, target_output
from expansion_signals.project import duckdb_path, in_work_dir, work_dir
from expansion_signals.talk_tracks import unknown_names
from expansion_signals.types import ModelSettings, Play, SignalRow

MART = "marts.expansion_signals"
PLAYS = "marts.sync_plays"
SETTINGS = "marts.sync_settings"
SIGNAL_COLUMNS = (
    "signal_id", "account_id", "crm_account_id", "account_name", "play_id", "motion", "product",
    "episode_start", "as_of", "urgency", "close_path", "owner_role", "owner_email", "sla_due_on",
    "signal_count", "compound", "days_to_renewal", "evidence", "signal_categories",
    "priority_score", "priority_rank", "responsible_role", "responsible_email", "informed_emails",
    "held_until",
)


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened, or the mart is not there (run the build first)."""


class WarehouseBusy(WarehouseError):
    """Another process (a build or a sync) holds the DuckDB file: another run is under way."""


# What DuckDB says when another process holds the file's write lock.
DUCKDB_LOCK_MESSAGES = ("Could not set lock on file", "Conflicting lock is held")


def is_duckdb_lock_conflict(text: str) -> bool:
    return any(message in text for message in DUCKDB_LOCK_MESSAGES)


def warehouse_busy(path: Path | str) -> WarehouseBusy:
    return WarehouseBusy(f"another run is using the warehouse {path}; nothing was done")


class Database:
    """A DB-API connection with `?` placeholders, autocommit, and explicit transactions."""

    def __init__(
        self, connection: Any, dialect: str, description: str, ledger: Database | None = None
    ) -> None:
        self.connection = connection
        self.dialect = dialect
        self.description = description  # where it points, for messages (no password)
        self._in_transaction = False
        self._ledger = ledger

    @property
    def ledger_db(self) -> Database:
        """Where the sync keeps its ledger: this warehouse, unless it cannot hold one."""
        return self._ledger or self

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgres" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self.dialect == "duckdb":
            # A DuckDB cursor() is a second connection: a transaction begun on one
            # cursor could not be committed on another, so use the connection itself.
            result = self.connection.execute(sql, list(params))
            return list(result.fetchall()) if result.description else []
        cursor = self.connection.cursor()
        try:
            cursor.execute(self._sql(sql), list(params))
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            cursor.close()

    def insert_rows(
        self, head: str, rows: Sequence[Sequence[Any]], tail: str = "", chunk: int = 500
    ) -> None:
        """`head VALUES (...), (...) tail`, or a set of rows wherever a VALUES list may stand.

        On DuckDB the rows go in as one list per column, unnested in a single statement: a
        statement binds a few lists far faster than thousands of scalar parameters.
        Elsewhere they go as `VALUES` lists of `chunk` rows.
        """
        if not rows:
            return
        width = len(rows[0])
        if self.dialect == "duckdb":
            unnested = ", ".join(["unnest(?)"] * width)
            columns = [list(column) for column in zip(*rows, strict=True)]
            self.execute(f"{head} select {unnested} {tail}", columns)
            return
        placeholder = "(" + ", ".join(["?"] * width) + ")"
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            values = ", ".join([placeholder] * len(part))
            self.execute(f"{head} values {values} {tail}", [v for row in part for v in row])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_transaction:
            yield
            return
        self.execute("begin")
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self._in_transaction = False
            self.execute("rollback")
            raise
        self._in_transaction = False
        self.execute("commit")

    def table_exists(self, schema: str, table: str) -> bool:
        found = self.execute(
            "select count(*) from information_schema.tables where table_schema = ? "
            "and table_name = ?",
            [schema, table],
        )
        return bool(found and found[0][0])

    def columns(self, schema: str, table: str) -> set[str]:
        """The table's column names, lower case."""
        return {str(row[0]).lower() for row in self.execute(
            "select column_name from information_schema.columns where table_schema = ? "
            "and table_name = ?", [schema, table])}

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
        self.connection.close()


class SparkDatabase(Database):
    """Spark SQL through a SparkSession: `?` markers are Spark's own positional
    parameters, varchar is string, and there are no transactions (each
    statement stands alone; the ledger is elsewhere)."""

    TYPES = ((re.compile(r"\bdouble precision\b", re.IGNORECASE), "double"),
             (re.compile(r"\bvarchar\b", re.IGNORECASE), "string"))

    def _sql(self, sql: str) -> str:
        for pattern, name in self.TYPES:
            sql = pattern.sub(name, sql)
        return sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        frame = self.connection.sql(self._sql(sql), args=list(params) if params else None)
        return [tuple(row) for row in frame.collect()]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    def table_exists(self, schema: str, table: str) -> bool:
        return bool(self.connection.catalog.tableExists(f"{schema}.{table}"))

    def columns(self, schema: str, table: str) -> set[str]:
        if not self.table_exists(schema, table):
            return set()
        return {c.name.lower() for c in self.connection.catalog.listColumns(f"{schema}.{table}")}

    def replace_table(self, table: str, columns: str, rows: Sequence[Sequence[Any]]) -> None:
        """`table` becomes `rows` (columns: `name type, ...`), created as needed."""
        schema = table.split(".")[0]
        self.execute(f"create schema if not exists {schema}")
        frame = self.connection.createDataFrame([tuple(r) for r in rows], self._sql(columns))
        frame.write.mode("overwrite").saveAsTable(table)

    def close(self) -> None:
        # The session stays for the process (pyspark keeps one per JVM); the ledger closes.
        if self._ledger is not None:
            self._ledger.close()


def connect_duckdb(path: Path, create: bool = False) -> Database:
    import duckdb

    if not create and not path.exists():
        raise WarehouseError(f"no warehouse at {path}: run `expansion build` (or `expansion demo`)")
    try:
        connection = duckdb.connect(str(path))
    except duckdb.IOException as error:
        # Another process (dbt, or another sync) holds the file: one writer at a time.
        if is_duckdb_lock_conflict(str(error)):
            raise warehouse_busy(path) from None
        raise WarehouseError(f"cannot open {path}: {error}") from None
    return Database(connection, "duckdb", str(path))


def connect_postgres(env: dict[str, str] | None = None, target: str = "postgres") -> Database:
    """A PostgreSQL output of the dbt profile, as dbt connects to it."""
    return _connect_postgres(target_output(target, env)[1])


def postgres_dsn(output: dict[str, Any]) -> str:
    """A PostgreSQL output as people read it: postgresql://user@host:port/db, no password."""
    database = output.get("dbname") or output.get("database")
    return f"postgresql://{output.get('user')}@{output.get('host')}:{output.get('port')}/{database}"


def _connect_postgres(output: dict[str, Any]) -> Database:
    import psycopg2

    params = {
        "host": output.get("host"),
        "port": int(output.get("port") or 5432),
        "user": output.get("user"),
        "password": output.get("password") or "",
        "dbname": output.get("dbname") or output.get("database"),
    }
    where = postgres_dsn(output)
    try:
        connection = psycopg2.connect(**params)
    except psycopg2.Error as error:
        raise WarehouseError(f"cannot connect to {where}: {error}".strip()) from None
    connection.autocommit = True
    return Database(connection, "postgres", where)


def connect_warehouse(target: str | None = None) -> Database:
    """The warehouse dbt built into: the target given, else the profile's default target."""
    try:
        name, output = target_output(target)
    except ProfileError as error:
        raise WarehouseError(str(error)) from None
    if output.get("type") == "postgres":
        return _connect_postgres(output)
    if output.get("type") == "spark":
        return connect_spark(name, output)
    if output.get("type") != "duckdb":
        raise WarehouseError(f"the sync reads DuckDB, PostgreSQL or Spark; target {name!r} is "
                             f"{output.get('type')!r}")
    return connect_duckdb(duckdb_path())


@contextmanager
def _jvm_output_to(path: Path) -> Iterator[None]:
    """The JVM pyspark starts inherits this process's stdout and stderr: while it starts,
    point them at Spark's log file, so its start-up lines and warnings land there and
    not among what the command prints."""
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = [os.dup(1), os.dup(2)]
    with path.open("ab") as log:
        try:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def connect_spark(name: str, output: dict[str, Any]) -> SparkDatabase:
    """A Spark output of the dbt profile, as dbt-spark's session method opens it (in the
    work folder, where dbt runs), with its ledger in the DuckDB file `ledger_path`."""
    method = output.get("method")
    if method != "session":
        raise WarehouseError(f"target {name!r} connects to Spark by {method!r}; the sync reads "
                             "Spark through the session method (method: session)")
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise WarehouseError(f"target {name!r} is Spark and pyspark is not installed: "
                             "pip install 'expansion-signals[spark]'") from None
    ledger_path = in_work_dir(output.get("ledger_path") or "spark-ledger.duckdb")
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in (output.get("server_side_parameters") or {}).items():
        builder = builder.config(key, str(value))
    here = Path.cwd()
    os.chdir(work_dir())  # relative paths in the parameters mean what they mean to dbt
    try:
        with _jvm_output_to(work_dir() / "logs" / "spark.log"):
            session = builder.getOrCreate()
    except Exception as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise WarehouseError(f"cannot start Spark for target {name!r}: {first} "
                             f"(Spark's log: {work_dir() / 'logs' / 'spark.log'})") from None
    finally:
        os.chdir(here)
    session.sparkContext.setLogLevel("ERROR")
    ledger = connect_duckdb(ledger_path, create=True)
    return SparkDatabase(session, "spark", f"Spark ({name}), ledger {ledger_path}", ledger)


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def read_signals(db: Database) -> list[SignalRow]:
    """Today's signals; raises WarehouseError when the mart has not been built."""
    _require(db, MART)
    rows = db.execute(f"select {', '.join(SIGNAL_COLUMNS)} from {MART} order by signal_id")
    signals = []
    for values in rows:
        data = dict(zip(SIGNAL_COLUMNS, values, strict=True))
        signals.append(
            SignalRow(
                signal_id=str(data["signal_id"]),
                account_id=str(data["account_id"]),
                crm_account_id=data["crm_account_id"] or None,
                account_name=str(data["account_name"] or ""),
                play_id=str(data["play_id"]),
                motion=str(data["motion"]),
                product=str(data["product"] or ""),
                episode_start=_date(data["episode_start"]),
                as_of=_date(data["as_of"]),
                urgency=str(data["urgency"]),
                close_path=str(data["close_path"]),
                owner_role=data["owner_role"],
                owner_email=(data["owner_email"] or "").strip() or None,
                sla_due_on=_date(data["sla_due_on"]),
                signal_count=int(data["signal_count"] or 0),
                compound=bool(data["compound"]),
                days_to_renewal=data["days_to_renewal"],
                evidence=str(data["evidence"] or "{}"),
                signal_categories=int(data["signal_categories"] or 0),
                priority_score=float(data["priority_score"] or 0.0),
                priority_rank=int(data["priority_rank"] or 0),
                responsible_role=data["responsible_role"] or None,
                responsible_email=(data["responsible_email"] or "").strip() or None,
                informed_emails=split_emails(data["informed_emails"]),
                held_until=_date(data["held_until"]) if data["held_until"] else None,
            )
        )
    return signals


def split_emails(text: str | None) -> tuple[str, ...]:
    """`a@x.com;b@x.com` -> the addresses, each once, in order."""
    found: list[str] = []
    for email in (text or "").split(";"):
        email = email.strip()
        if email and email.lower() not in (f.lower() for f in found):
            found.append(email)
    return tuple(found)


def _play(values: dict[str, Any]) -> Play:
    track = values.get("talk_track")
    unknown = unknown_names(track)
    if unknown:
        names = ", ".join("{" + n + "}" for n in unknown)
        raise WarehouseError(
            f"the talk_track of play {values['play_id']} in seeds/plays.csv names {names}, "
            "which no signal has: correct the name (see the plays section of the README) "
            "and run `expansion build`")
    return Play(
        play_id=str(values["play_id"]),
        motion=str(values["motion"]),
        description=str(values["description"]),
        sla_days=int(values["sla_days"]),
        collateral=str(values["collateral"]),
        opens_opportunity=str(values["opens_opportunity"]).strip().lower() in ("true", "1", "t"),
        talk_track=str(track) if track else None,
    )


def _require(db: Database, table: str) -> None:
    if not db.table_exists(*table.split(".")):
        raise WarehouseError(
            f"{table} is not in {db.description}: run `expansion build` before the sync"
        )


def require_sync_marts(db: Database) -> None:
    """Every mart the sync reads is there; WarehouseError naming the first one missing."""
    for table in (MART, PLAYS, SETTINGS):
        _require(db, table)


def read_plays(db: Database) -> dict[str, Play]:
    """The play catalog as the models publish it (marts.sync_plays)."""
    _require(db, PLAYS)
    columns = ("play_id", "motion", "description", "sla_days", "collateral", "opens_opportunity",
               "talk_track")
    rows = db.execute(f"select {', '.join(columns)} from {PLAYS}")
    plays = [_play(dict(zip(columns, r, strict=True))) for r in rows]
    return {p.play_id: p for p in plays}


def read_model_settings(db: Database) -> ModelSettings:
    """The one row of marts.sync_settings: as_of, cooldown, default SLA, history window."""
    _require(db, SETTINGS)
    found = db.execute(
        f"select as_of, cooldown_days, default_sla_days, history_days from {SETTINGS}")
    if len(found) != 1:
        raise WarehouseError(f"{SETTINGS} in {db.description} has {len(found)} rows, not one: "
                             "run `expansion build`")
    as_of, cooldown, sla, history = found[0]
    return ModelSettings(_date(as_of), int(cooldown), int(sla), int(history))


@dataclass(frozen=True)
class MartSnapshot:
    rows: list[SignalRow]
    plays: dict[str, Play]
    settings: ModelSettings


def read_snapshot(db: Database) -> MartSnapshot:
    return MartSnapshot(read_signals(db), read_plays(db), read_model_settings(db))
