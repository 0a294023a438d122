"""The child process that runs dbt: `python -m expansion_signals.dbt_child --events-fd N -- ARGS`.

dbt runs in a process of its own, so that it lets go of the DuckDB file (one
writer at a time) before the sync opens it. This entry point calls dbt's
programmatic API and turns dbt's structured events into a few JSON lines on
the file descriptor the parent handed in (expansion_signals/dbt.py reads them
and draws the progress):

    {"kind": "total", "total": 449}                 how many nodes this invocation runs
    {"kind": "node", "id": ..., "type": "model", "name": ..., "status": "success",
     "message": ..., "failures": 0}                  one per finished (or skipped) node
    {"kind": "locked"}                               DuckDB said another process holds the file
    {"kind": "end", "success": true, "error": null}  dbt is done

dbt's own console output stays off unless `--verbose` is given; its log file
(in the --log-path dbt is given) is written either way.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
from typing import Any, TextIO

from expansion_signals.warehouse import is_duckdb_lock_conflict

# Events whose `total` says how many nodes run: the start line of every node, and
# the line of a node skipped because its parent failed.
EVENTS_WITH_TOTAL = ("LogStartLine", "SkippingDetails")


class EventForwarder:
    """A dbt callback: writes what the parent needs from each event as one JSON line."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.total_sent = False
        self.locked_sent = False
        self._lock = threading.Lock()  # dbt fires events from its worker threads

    def send(self, record: dict[str, Any]) -> None:
        with self._lock:
            self.stream.write(json.dumps(record) + "\n")
            self.stream.flush()

    def __call__(self, event: Any) -> None:
        with contextlib.suppress(Exception):  # progress is a courtesy: never break a build
            self._forward(event)

    def _forward(self, event: Any) -> None:
        name = event.info.name
        if not self.locked_sent and is_duckdb_lock_conflict(event.info.msg):
            self.locked_sent = True
            self.send({"kind": "locked"})
        if name in EVENTS_WITH_TOTAL and not self.total_sent and event.data.total:
            self.total_sent = True
            self.send({"kind": "total", "total": int(event.data.total)})
        elif name == "NodeFinished":
            node, result = event.data.node_info, event.data.run_result
            message = result.message or ""
            if not self.locked_sent and is_duckdb_lock_conflict(message):
                self.locked_sent = True
                self.send({"kind": "locked"})
            self.send({
                "kind": "node",
                "id": node.unique_id,
                "type": node.resource_type,
                "name": node.node_name,
                "status": result.status,
                "message": message,
                "failures": int(result.num_failures or 0),
            })


def dbt_flags(verbose: bool, colors: bool) -> list[str]:
    """Console output: dbt's own lines when verbose, else none; the log file gets all, plain."""
    console = ["--log-level", "info"] if verbose else ["--log-level", "none"]
    return [*console, "--log-level-file", "debug",
            "--use-colors" if colors and verbose else "--no-use-colors",
            "--no-use-colors-file"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m expansion_signals.dbt_child")
    parser.add_argument("--events-fd", type=int, required=True,
                        help="file descriptor to write the JSON event lines to")
    parser.add_argument("--verbose", action="store_true", help="print dbt's own log lines")
    parser.add_argument("--colors", action="store_true",
                        help="colour dbt's lines (the parent's output is a terminal)")
    parser.add_argument("dbt_args", nargs=argparse.REMAINDER,
                        help="the dbt command and its arguments, after --")
    args = parser.parse_args(argv)
    dbt_args = args.dbt_args[1:] if args.dbt_args[:1] == ["--"] else args.dbt_args

    from dbt.cli.main import dbtRunner

    with os.fdopen(args.events_fd, "w", encoding="utf-8") as stream:
        forwarder = EventForwarder(stream)
        command, rest = dbt_args[0], dbt_args[1:]
        result = dbtRunner(callbacks=[forwarder]).invoke(
            [command, *dbt_flags(args.verbose, args.colors), *rest])
        error = str(result.exception) if result.exception is not None else None
        if error and not forwarder.locked_sent and is_duckdb_lock_conflict(error):
            forwarder.send({"kind": "locked"})
        forwarder.send({"kind": "end", "success": bool(result.success), "error": error})
    if result.success:
        return 0
    return 1 if result.exception is None else 2


if __name__ == "__main__":
    sys.exit(main())
