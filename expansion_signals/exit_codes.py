"""The exit codes of every command, in one place (README, "Exit codes")."""

OK = 0  # everything acknowledged, or a preview
FAILED = 1  # the build or the run failed (auth, API limit, unreachable, dbt)
BAD_INPUT = 2  # bad arguments, configuration, mapping file, or no mart to read
PARTIAL = 3  # some records or messages failed; recorded, retried on the next run
LOCKED = 4  # another run holds the sync lock or the warehouse; this one did nothing
HELD = 5  # the volume guard held the run: too many new Opportunities; nothing was written
STALE = 6  # a source is stale (the freshness gate of `expansion run`): nothing built or sent

# A sync run's status -> the command's exit code.
# "unbound": the credentials point at another org or workspace than the sync state's.
BY_STATUS = {"ok": OK, "preview": OK, "failed": FAILED, "partial": PARTIAL, "locked": LOCKED,
             "held": HELD, "unbound": BAD_INPUT}
