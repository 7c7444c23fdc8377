"""Folding a user's raw watch_history rows into history entries and completions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stream_svc.domain.affinity import Interaction
from stream_svc.domain.watch_rows import WatchRow, completed_interactions, history_entries

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=30)


def row(
    video: str,
    session: str,
    minutes_ago: float,
    completion: float,
    watch_ms: int,
    creator: str = "c",
) -> WatchRow:
    return WatchRow(
        video, session, creator, NOW - timedelta(minutes=minutes_ago), completion, watch_ms
    )


def test_a_session_counts_once_by_its_furthest_row() -> None:
    # Rows of one session repeat as it goes on (one per ingested batch).
    rows = [row("v", "s1", 1, 0.5, 10_000), row("v", "s1", 2, 0.25, 5_000)]
    [entry] = history_entries(rows, LONG_AGO, 10)
    assert (entry.completion, entry.watch_s, entry.watched_at) == (
        0.5,
        10.0,
        NOW - timedelta(minutes=1),
    )


def test_a_videos_sessions_add_up_and_keep_the_best_completion() -> None:
    rows = [row("v", "s1", 1, 0.5, 10_000), row("v", "s2", 60, 1.0, 20_000)]
    [entry] = history_entries(rows, LONG_AGO, 10)
    assert (entry.completion, entry.watch_s) == (1.0, 30.0)
    assert entry.watched_at == NOW - timedelta(minutes=1)  # the latest session's time


def test_history_is_newest_first_ties_by_video_id_and_limited() -> None:
    rows = [row("b", "s1", 5, 1, 1), row("a", "s2", 5, 1, 1), row("c", "s3", 1, 1, 1)]
    assert [e.video_id for e in history_entries(rows, LONG_AGO, 10)] == ["c", "a", "b"]
    assert [e.video_id for e in history_entries(rows, LONG_AGO, 2)] == ["c", "a"]


def test_rows_before_the_window_are_left_out() -> None:
    rows = [row("new", "s1", 1, 1, 1), row("old", "s2", 60 * 24 * 40, 1, 1)]
    assert [e.video_id for e in history_entries(rows, LONG_AGO, 10)] == ["new"]
    assert [i.video_id for i in completed_interactions(rows, LONG_AGO)] == ["new"]
    assert history_entries(rows, NOW + timedelta(minutes=5), 10) == []


def test_completion_is_capped_at_one_and_the_creator_comes_from_any_row() -> None:
    rows = [row("v", "s1", 1, 1.2, 1_000, creator=""), row("v", "s1", 2, 0.5, 500)]
    [entry] = history_entries(rows, LONG_AGO, 10)
    assert (entry.completion, entry.creator_id) == (1.0, "c")


def test_completions_count_each_video_once_at_its_latest() -> None:
    rows = [
        row("v", "s1", 1, 1.0, 1, creator="alice"),
        row("v", "s2", 30, 1.0, 1, creator="alice"),
        row("w", "s3", 2, 0.9, 1, creator="alice"),  # not to the end
        row("x", "s4", 3, 1.0, 1, creator=""),  # no creator known: no affinity to give
    ]
    [only] = completed_interactions(rows, LONG_AGO)
    assert (only.creator_id, only.video_id, only.kind) == ("alice", "v", Interaction.COMPLETED)
    assert only.at == NOW - timedelta(minutes=1)


def test_no_rows_give_no_facts() -> None:
    assert history_entries([], LONG_AGO, 10) == []
    assert completed_interactions([], LONG_AGO) == []
