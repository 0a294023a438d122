"""The `expansion` command line as a person meets it: a progress bar and one summary instead of
dbt's log, dbt's options passed through, the warehouse named, one line for every mistake."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from expansion_signals import cli, exit_codes
from expansion_signals.profiles import target_output

AS_OF = "2026-11-24"
ANSI = re.compile(r"\x1b\[")
CHECKOUT = Path(__file__).resolve().parents[2]
EXPANSION = [sys.executable, "-m", "expansion_signals.cli"]


def env_for(work: Path, warehouse: Path) -> dict[str, str]:
    """The environment of a command whose dbt files and warehouse live in a test's folder."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("EXPANSION_", "SALESFORCE_", "SLACK_", "DBT_"))}
    env.update(EXPANSION_WORK_DIR=str(work), EXPANSION_DUCKDB_PATH=str(warehouse))
    return env


def use(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name in [n for n in os.environ if n.startswith(("EXPANSION_", "SALESFORCE_", "SLACK_"))]:
        monkeypatch.delenv(name)
    for name in ("EXPANSION_WORK_DIR", "EXPANSION_DUCKDB_PATH"):
        monkeypatch.setenv(name, env[name])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """`expansion demo` on small data, run as a person would, its output going to a pipe."""
    work = tmp_path_factory.mktemp("demo")
    warehouse = work / "demo.duckdb"
    env = env_for(work, warehouse)
    done = subprocess.run(
        [*EXPANSION, "demo", "--accounts", "30", "--days", "120", "--as-of", AS_OF],
        env=env, cwd=work, capture_output=True, text=True, timeout=600)
    return {"work": work, "warehouse": warehouse, "env": env, "code": done.returncode,
            "out": done.stdout, "err": done.stderr}


@pytest.fixture
def built(demo: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> Path:
    assert demo["code"] == 0, demo["err"]
    use(monkeypatch, demo["env"])  # type: ignore[arg-type]
    return demo["warehouse"]  # type: ignore[return-value]


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def one_error_line(err: str) -> str:
    found = lines(err)
    assert len(found) == 1, err
    assert "Traceback" not in err
    return found[0]


# --- the demo and the build: a progress display and one summary ---------------------------

def test_demo_fits_on_a_screen_and_says_what_it_built(demo):
    assert demo["code"] == 0, demo["err"]
    out, err = str(demo["out"]), str(demo["err"])
    assert len(out.splitlines()) <= 60, out
    assert out.splitlines()[0] == f"Warehouse: DuckDB file {demo['warehouse']} (target duckdb)"
    summary = [line for line in out.splitlines() if line.startswith("dbt build ")]
    assert len(summary) == 1, out
    assert re.fullmatch(r"dbt build done in \d+ s: \d+ models, \d+ seeds; \d+ tests passed, "
                        r"0 failed\.", summary[0]), summary
    # dbt's per-node lines are gone; without a terminal, plain progress lines instead of a bar
    assert " START " not in out and "OK created" not in out
    assert [m.group(1) for m in re.finditer(r"^\s+(\d+)%\s+\d+ of \d+ nodes", out, re.M)] == [
        str(p) for p in range(10, 100, 10)]
    assert not ANSI.search(out) and "\r" not in out
    assert "RuntimeWarning" not in err and err.strip() == ""
    assert "Sync preview" in out and "By owner" in out


def test_dbt_keeps_its_log_file_without_escape_codes(demo):
    log = Path(demo["work"]) / "logs" / "dbt.log"
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "Began running node" in text  # dbt's debug-level log is still written
    assert not ANSI.search(text)


def test_verbose_brings_dbt_lines_back_and_select_passes_through(built, capfd):
    code = cli.main(["build", "--as-of", AS_OF, "--select", "stg_accounts", "-v"])
    out, err = capfd.readouterr()
    assert code == 0, err
    assert "OK created sql view model staging.stg_accounts" in out  # dbt's own line
    assert "Running with dbt=" in out
    assert re.search(r"dbt build done in \d+ s: 1 model; \d+ tests passed, 0 failed\.", out)
    assert "RuntimeWarning" not in out + err
    assert not ANSI.search(out)  # not a terminal: dbt is told not to colour either


def test_vars_exclude_and_target_reach_dbt(built, capsys):
    code = cli.main(["build", "--target", "duckdb", "--select", "stg_accounts", "stg_users",
                     "--exclude", "stg_users", "--vars", "{expansion_cooldown_days: 45}"])
    out = capsys.readouterr().out
    assert code == 0
    assert re.search(r"done in \d+ s: 1 model;", out), out
    run_args = json.loads((Path(os.environ["EXPANSION_WORK_DIR"]) / "target" /
                           "run_results.json").read_text())["args"]
    assert run_args["vars"]["expansion_cooldown_days"] == 45
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", run_args["vars"]["expansion_as_of"])
    assert run_args["select"] == ["stg_accounts", "stg_users"]
    assert run_args["exclude"] == ["stg_users"]
    assert run_args["target"] == "duckdb"


def test_a_failing_data_test_is_one_line_naming_table_column_and_key(built, tmp_path,
                                                                    monkeypatch, capsys):
    broken = tmp_path / "broken.duckdb"
    shutil.copy(built, broken)
    con = duckdb.connect(str(broken))
    con.execute("update raw.subscriptions set plan_tier = 'platinum' where rowid < 2")
    con.close()
    monkeypatch.setenv("EXPANSION_DUCKDB_PATH", str(broken))
    code = cli.main(["build", "--as-of", AS_OF, "--select", "source:raw.subscriptions"])
    printed = capsys.readouterr()
    assert code == exit_codes.FAILED
    assert re.search(r"^dbt build failed in \d+ s: .*[1-9]\d* failed", printed.out, re.M)
    err = lines(printed.err)
    assert err[0] == "error: dbt build failed (exit code 1)"
    assert any(re.fullmatch(r"  raw\.subscriptions\.plan_tier: \d+ values with no match in "
                            r"ref\('plan_catalog'\), e\.g\. key .* \(value 'platinum'\)", e)
               for e in err), printed.err


def test_a_terminal_gets_a_progress_bar(built):
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    child = subprocess.Popen(
        [*EXPANSION, "build", "--as-of", AS_OF, "--select", "stg_accounts"],
        stdin=follower, stdout=follower,
        stderr=follower, close_fds=True)
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    assert child.wait(timeout=120) == 0, seen
    os.close(leader)
    text = seen.decode(errors="replace")
    assert re.search(r"dbt build +\d+%\|", text), text  # tqdm's bar, redrawn in place
    assert "\r" in text
    assert re.search(r"dbt build done in \d+ s: 1 model;", text)


# --- show ---------------------------------------------------------------------------------

def _queue(built: Path, owner: str | None = None) -> list[tuple]:
    with duckdb.connect(str(built), read_only=True) as con:
        where = "where owner_email = ?" if owner else ""
        return con.execute(
            f"select account_name, owner_email, expected_value from marts.expansion_ready_accounts "
            f"{where} order by {'owner_rank' if owner else 'overall_rank'}",
            [owner] if owner else []).fetchall()


def test_show_leads_with_the_ranked_accounts_then_the_plays(built, capsys):
    assert cli.main(["show", "--limit", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"Warehouse: DuckDB file {built} (target duckdb)"
    queue = _queue(built)
    assert out[1].startswith(f"Expansion-ready accounts: {len(queue)} accounts with ")
    rows = out[3:5]
    for rank, (line, (name, owner, value)) in enumerate(zip(rows, queue[:2], strict=True), 1):
        assert line.split()[0] == str(rank)
        assert name[:20] in line and (owner or "(fallback channel)") in line
        assert f"{value:,.0f}" in line
    assert out[6] == "Signals firing today, by play:"
    assert len({line.split()[1] for line in rows}) == 2  # one line per account


def test_show_owner_gives_one_sellers_queue_in_its_own_order(built, capsys):
    owner = _queue(built)[0][1]
    mine = _queue(built, owner)
    assert cli.main(["show", "--owner", owner.upper()]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith(f"{owner}'s queue: {len(mine)} accounts")
    listed = out[3:3 + len(mine)]
    assert [line.split()[0] for line in listed] == [str(i) for i in range(1, len(mine) + 1)]
    assert all(name[:20] in line for line, (name, _, _) in zip(listed, mine, strict=True))


def test_show_owner_lists_the_touches_due_this_week(built, tmp_path, monkeypatch, capsys):
    """The owner's expansion-calendar touches not done and due in the 7 days from as_of."""
    copy = tmp_path / "touches.duckdb"
    shutil.copy(built, copy)
    owner = _queue(built)[0][1]
    with duckdb.connect(str(copy)) as con:
        as_of = con.execute("select max(as_of) from marts.expansion_calendar").fetchone()[0]
        account = con.execute(
            "select account_id from marts.expansion_ready_accounts where owner_email = ? "
            "order by owner_rank limit 1", [owner]).fetchone()[0]
        # one of the owner's touches falls due in two days, and another is done
        con.execute("update marts.expansion_calendar set is_done = false, due_on = ? "
                    "where account_id = ? and touch = 'business_review'",
                    [as_of + timedelta(days=2), account])
        con.execute("update marts.expansion_calendar set is_done = true, due_on = ? "
                    "where account_id = ? and touch = 'outcome_review'",
                    [as_of + timedelta(days=1), account])
        calendar = con.execute(
            "select account_name, touch, due_on, is_done, owner_email, responsible_email "
            "from marts.expansion_calendar").fetchall()
    due = sorted((d, n, t) for n, t, d, done, accountable, responsible in calendar
                 if owner.lower() in ((accountable or "").lower(), (responsible or "").lower())
                 and not done and as_of <= d <= as_of + timedelta(days=6))
    monkeypatch.setenv("EXPANSION_DUCKDB_PATH", str(copy))
    assert cli.main(["show", "--owner", owner]) == 0
    out = capsys.readouterr().out.splitlines()
    at = out.index(f"Expansion touches due this week ({len(due)}):")
    listed = out[at + 1:at + 1 + len(due)]
    assert [line.split()[0] for line in listed] == [str(d) for d, _, _ in due]
    assert any("business review" in line for line in listed)
    assert not any("outcome review" in line and str(as_of + timedelta(days=1)) in line
                   for line in listed)


def test_show_owner_for_who_makes_the_first_move_on_others_accounts(
        built, tmp_path, monkeypatch, capsys):
    """The handoffs a CSM starts are in their queue; a CSM accountable for nothing today
    still has one."""
    copy = tmp_path / "handoffs.duckdb"
    shutil.copy(built, copy)
    with duckdb.connect(str(copy)) as con:
        person, count = con.execute(
            "select responsible_email, count(*) from marts.expansion_signals "
            "where lower(responsible_email) <> lower(coalesce(owner_email, '')) "
            "group by 1 order by 2 desc, 1 limit 1").fetchone()
        # the person owns no expansion-ready account today
        con.execute("delete from marts.expansion_ready_accounts where owner_email = ?", [person])
    monkeypatch.setenv("EXPANSION_DUCKDB_PATH", str(copy))
    assert cli.main(["show", "--owner", person]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"{person}'s queue: no account of theirs fires today." in out
    at = out.index(f"First moves on accounts others are accountable for ({count}):")
    listed = out[at + 1:at + 1 + count]
    assert len(listed) == count and all(" for " in line for line in listed)


def test_show_owner_with_a_typo_names_the_nearest_owners(built, capsys):
    owner = _queue(built)[0][1]
    assert cli.main(["show", "--owner", owner[:-1]]) == exit_codes.BAD_INPUT
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith(f"error: --owner {owner[:-1]}: no expansion-ready account is owned")
    assert f"did you mean {owner}" in line


@pytest.mark.parametrize("limit", ["-1", "0", "ten", "1.5"])
def test_show_limit_must_be_a_positive_whole_number(limit, capsys):
    assert cli.main(["show", "--limit", limit]) == exit_codes.BAD_INPUT
    assert one_error_line(capsys.readouterr().err) == (
        f"error: argument --limit: not a positive whole number: '{limit}' "
        "(see `expansion show --help`)")


def test_show_before_any_build_says_to_build(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EXPANSION_DUCKDB_PATH", str(tmp_path / "missing.duckdb"))
    assert cli.main(["show"]) == exit_codes.BAD_INPUT
    assert "run `expansion build`" in one_error_line(capsys.readouterr().err)

    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    monkeypatch.setenv("EXPANSION_DUCKDB_PATH", str(empty))
    assert cli.main(["show"]) == exit_codes.BAD_INPUT
    assert one_error_line(capsys.readouterr().err) == (
        f"error: marts.expansion_signals is not in {empty}: run `expansion build` first")


HOLD_FILE = "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('held', flush=True); " \
            "sys.stdin.read()"


@pytest.fixture
def held(built: Path) -> Iterator[Path]:
    """Another process holding the warehouse file, as a build or a sync would."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD_FILE, str(built)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    yield built
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(timeout=30)


def test_show_while_another_process_holds_the_file_exits_locked(held, capsys):
    assert cli.main(["show"]) == exit_codes.LOCKED
    assert one_error_line(capsys.readouterr().err) == (
        f"Skipped: another run is using the warehouse {held}; nothing was done")


def test_build_while_another_process_holds_the_file_exits_locked(held, capsys):
    assert cli.main(["build", "--as-of", AS_OF, "--select", "stg_accounts"]) == exit_codes.LOCKED
    err = capsys.readouterr().err
    assert one_error_line(err) == (
        f"Skipped: another run is using the warehouse {held}; nothing was done")


def test_output_into_a_reader_that_stops_early_ends_quietly(built):
    child = subprocess.Popen([*EXPANSION, "show", "--limit", "50"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # `| head` that has already had enough
    err = child.stderr.read()
    assert child.wait(timeout=60) == 0
    assert err == ""


# --- bad input: one line, exit 2 ----------------------------------------------------------

@pytest.mark.parametrize(("argv", "expected"), [
    (["build", "--vars", "[1, 2]"],
     r"error: argument --vars: not a YAML or JSON dictionary: '\[1, 2\]'; e\.g\. .*"),
    (["run", "--vars", "{a: [1"], r"error: argument --vars: not a YAML or JSON dictionary: .*"),
    (["build", "--vars", "{expansion_as_of: someday}"],
     r"error: --vars: expansion_as_of is not a date: 'someday'; .*"),
    (["build", "--as-of", "2026-11-24", "--vars", "{expansion_as_of: 2026-11-25}"],
     r"error: --as-of 2026-11-24 and --vars expansion_as_of: 2026-11-25 disagree; .*"),
    (["build", "--as-of", "2026-02-30"],
     r"error: argument --as-of: not a date: '2026-02-30'; give it as YYYY-MM-DD, .*"),
    (["build", "--target", "nowhere"],
     r"error: unknown target 'nowhere': profiles\.yml has duckdb, postgres, spark"),
    (["show", "--target", "nowhere"],
     r"error: unknown target 'nowhere': profiles\.yml has duckdb, postgres, spark"),
    (["sync", "--target", "nowhere"], r"error: unknown target 'nowhere'.*"),
    (["demo", "--target", "postgres"], r"error: --target postgres: the demo writes its data "
                                       r"into DuckDB; .*"),
    (["generate", "--accounts", "0"],
     r"error: argument --accounts: not a positive whole number: '0' .*"),
])
def test_bad_input_is_one_line_and_exit_2(argv, expected, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EXPANSION_DUCKDB_PATH", str(tmp_path / "never-built.duckdb"))
    assert cli.main(argv) == exit_codes.BAD_INPUT
    assert re.fullmatch(expected, one_error_line(capsys.readouterr().err))
    assert not (tmp_path / "never-built.duckdb").exists()


def test_every_option_says_what_it_does_and_its_default():
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    for name, sub in commands.choices.items():  # type: ignore[union-attr]
        for action in sub._actions:
            if action.dest == "help":
                continue
            assert action.help and "default" in action.help, (name, action.option_strings)


# --- docs ---------------------------------------------------------------------------------

def test_readme_defaults_are_those_of_profiles_yml():
    readme = (CHECKOUT / "README.md").read_text(encoding="utf-8")
    duckdb_output = target_output("duckdb", {})[1]
    memory = re.search(r"`EXPANSION_DUCKDB_MEMORY_LIMIT`\s+\(default\s+`([^`]+)`\)", readme)
    threads = re.search(r"`EXPANSION_THREADS`\s+\(default\s+(\d+)", readme)
    assert memory and memory.group(1) == duckdb_output["settings"]["memory_limit"]
    assert threads and int(threads.group(1)) == duckdb_output["threads"]


def test_docs_point_only_at_files_in_the_repository():
    tracked = subprocess.run(["git", "ls-files", "*.py", "*.md", "*.yml", "*.yaml", "*.toml"],
                             cwd=CHECKOUT, capture_output=True, text=True, check=True)
    outside = re.compile(r"\.\./shared|shared/(?:spec|reference)|\breference §|\bspec/\w+\.md")
    offenders = [f"{path}:{n}" for path in tracked.stdout.split()
                 if (CHECKOUT / path).is_file() and path != "tests/sync/test_cli.py"
                 for n, line in enumerate((CHECKOUT / path).read_text(
                     encoding="utf-8", errors="replace").splitlines(), 1)
                 if outside.search(line)]
    assert offenders == []


def test_a_target_the_sync_cannot_read_stops_before_the_build(tmp_path, monkeypatch, capsys):
    """A Snowflake output builds with dbt, but `expansion run` would stop at the sync: it says
    so before building anything."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "dbt_project.yml").symlink_to(CHECKOUT / "dbt_project.yml")
    (project / "profiles.yml").write_text((CHECKOUT / "profiles.yml").read_text() + """
    snowflake:
      type: snowflake
      account: example
      user: someone
      password: "{{ env_var('SNOWFLAKE_PASSWORD', '') }}"
      database: analytics
      warehouse: transforming
      schema: expansion
""")
    monkeypatch.setenv("EXPANSION_PROJECT_DIR", str(project))
    monkeypatch.setenv("EXPANSION_WORK_DIR", str(tmp_path))
    code = cli.main(["run", "--target", "snowflake", "--skip-freshness"])
    err = capsys.readouterr().err
    assert code == exit_codes.BAD_INPUT
    assert one_error_line(err) == (
        "error: the sync reads DuckDB, PostgreSQL or Spark, and target 'snowflake' is "
        "snowflake: build it with `expansion build`, sync from a duckdb, postgres or spark "
        "target")
    assert not (tmp_path / "target").exists()
