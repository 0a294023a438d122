"""Eight consecutive daily `expansion run`s on data whose signals outlast the window.

A fifth of all API calls fail, one run is killed mid-write and run again, one
day is a full refresh: every episode still has one record, one Opportunity,
one Task and one announcement (tests/support/replay.py says how).
"""

from __future__ import annotations

import pytest

from tests.support.replay import ReplayOptions, ReplayReport, replay


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> ReplayReport:
    options = ReplayOptions(days=8, kill_day=3, full_refresh_day=6)
    return replay(tmp_path_factory.mktemp("replay"), options)


def test_every_day_ran_and_the_killed_run_was_killed(report: ReplayReport):
    assert len({r.day for r in report.runs}) == 8
    killed = [r for r in report.runs if r.killed]
    assert len(killed) == 1
    finished = [r for r in report.runs if not r.killed]
    assert all(r.exit_code in (0, 3) for r in finished), [(r.day, r.exit_code) for r in finished]
    assert any(r.full_refresh for r in report.runs)
    assert any(sum(r.salesforce_calls.values()) for r in report.runs[1:])
    assert sum(r.failed_calls for r in report.runs) > 0, "the injected failures must be hit"


def test_signals_outlast_the_window(report: ReplayReport):
    assert report.signals > 0
    assert report.carried > 0, "some episode must have started before the last day's window"


def test_the_full_refresh_moved_starts_and_the_sync_kept_the_signals(report: ReplayReport):
    """The rebuilt warehouse gave long episodes new ids; the sync adopted them all."""
    assert sum(c.get("signal.adopted", 0) for c in report.run_counts) > 0


def test_one_record_opportunity_and_task_per_episode(report: ReplayReport):
    for sobject in ("Expansion_Signal__c", "Opportunity", "Task"):
        counts = report.per_key[sobject]
        assert counts, sobject
        assert max(counts.values()) == 1, (sobject, counts.most_common(3))
    # every signal has its Task but the backlog kept as records only on going live, and
    # those held for a renewal on the last day
    assert sum(report.per_key["Task"].values()) == (
        report.signals - report.records_only - report.held)


def test_one_announcement_per_episode(report: ReplayReport):
    assert report.announcements
    assert max(report.announcements.values()) == 1
    assert report.orphan_messages == 0
    assert report.duplicate_notices == 0
    assert report.informed_messages > 0, "the demo catalog keeps other roles informed"
