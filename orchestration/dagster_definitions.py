"""The daily `expansion run` as a Dagster job with its schedule.

    pip install dagster dagster-webserver
    dagster dev -f orchestration/dagster_definitions.py

The op runs the same command as the cron line in the README, in the folder
where the job keeps dbt's target/ and the DuckDB file (EXPANSION_WORK_DIR),
with the environment Dagster gives it (the target, the Salesforce and Slack
credentials). Its exit code becomes what Dagster does, as the README's
exit-code table says a scheduler should: retry a failure once, later; stop
without retrying on bad configuration, a held volume guard or a stale
source; succeed when the run was partial (the next run retries the rest) or
when another run held the lock (the next one catches up).
"""


import os
import shlex
import subprocess

from dagster import (
    Config,
    Definitions,
    Failure,
    OpExecutionContext,
    RetryRequested,
    ScheduleDefinition,
    job,
    op,
)

from expansion_signals import exit_codes

SUCCEED, RETRY, FAIL = "succeed", "retry", "fail"
# exit code -> (what Dagster does, what the operator reads)
OUTCOMES = {
    exit_codes.OK: (SUCCEED, "built and synced"),
    exit_codes.FAILED: (RETRY, "the build or the run failed (dbt, auth, API limit, unreachable "
                               "API); retried once, later"),
    exit_codes.BAD_INPUT: (FAIL, "bad configuration, mapping or arguments, or credentials for "
                                 "another org or workspace: a person must fix it"),
    exit_codes.PARTIAL: (SUCCEED, "partial: the records or messages that failed are retried "
                                  "by the next run"),
    exit_codes.LOCKED: (SUCCEED, "another run held the sync lock or the warehouse: nothing "
                                 "done, the next run catches up"),
    exit_codes.HELD: (FAIL, "the volume guard held the sync: RevOps looks at the mart, then "
                            "reruns with --accept-volume if it is right"),
    exit_codes.STALE: (FAIL, "a source is stale: nothing built or sent; rerun once the event "
                             "pipeline has caught up"),
}


def outcome(code: int) -> tuple[str, str]:
    """What Dagster does with an exit code of `expansion run`, and why."""
    return OUTCOMES.get(code, (FAIL, f"unexpected exit code {code}"))


class ExpansionRunConfig(Config):
    # the command line, e.g. "/srv/expansion/.venv/bin/expansion run --target postgres"
    command: str = "expansion run"
    work_dir: str = ""  # default: EXPANSION_WORK_DIR, else the current folder
    retry_after_seconds: int = 1800


@op
def expansion_run(context: OpExecutionContext, config: ExpansionRunConfig) -> None:
    work_dir = config.work_dir or os.environ.get("EXPANSION_WORK_DIR") or os.getcwd()
    done = subprocess.run(shlex.split(config.command), cwd=work_dir, capture_output=True,
                          text=True, check=False)
    for line in done.stdout.splitlines():
        context.log.info(line)
    for line in done.stderr.splitlines():
        context.log.warning(line)
    action, why = outcome(done.returncode)
    if action == RETRY:
        raise RetryRequested(max_retries=1, seconds_to_wait=config.retry_after_seconds)
    if action == FAIL:
        last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:]
        raise Failure(description=f"exit code {done.returncode}: {why}", allow_retries=False,
                      metadata={"exit code": done.returncode, "last line": "".join(last)})
    context.log.info(f"exit code {done.returncode}: {why}")


@job(description="The daily expansion run: freshness gate, dbt build, sync, read-back.")
def expansion_daily() -> None:
    expansion_run()


daily_schedule = ScheduleDefinition(job=expansion_daily, cron_schedule="30 6 * * *",
                                    execution_timezone="UTC")

defs = Definitions(jobs=[expansion_daily], schedules=[daily_schedule])
