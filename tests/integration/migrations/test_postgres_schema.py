"""The migrated PostgreSQL schemas: constraints, derived columns and full-text search."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import errors


def _video(pg: psycopg.Connection, **columns: object) -> uuid.UUID:
    values = {"creator_id": f"c-{uuid.uuid4().hex[:8]}", **columns}
    names = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    row = pg.execute(
        f"INSERT INTO media.videos ({names}) VALUES ({marks}) RETURNING id",  # noqa: S608
        list(values.values()),
    ).fetchone()
    assert row is not None
    return row[0]


def test_video_defaults(pg: psycopg.Connection) -> None:
    video_id = _video(pg, title="t", hashtags=["a", "b"])
    row = pg.execute(
        "SELECT status, progress_percent, hashtags, quality_warnings, renditions"
        " FROM media.videos WHERE id = %s",
        (video_id,),
    ).fetchone()
    assert row == ("uploading", 0, ["a", "b"], [], [])


@pytest.mark.parametrize(
    "columns",
    [
        {"status": "bogus"},
        {"progress_percent": 101},
        {"progress_percent": -1},
        {"status": "published"},  # published without published_at
        {"status": "deleted"},  # deleted without deleted_at
    ],
)
def test_video_checks_refuse_bad_rows(pg: psycopg.Connection, columns: dict[str, object]) -> None:
    with pytest.raises(errors.CheckViolation):
        _video(pg, **columns)


def test_every_video_status_is_accepted(pg: psycopg.Connection) -> None:
    now = datetime.now(UTC)
    for status in ("uploading", "processing", "published", "failed", "deleted"):
        _video(pg, status=status, published_at=now, deleted_at=now)


def test_failed_videos_follow_their_video(pg: psycopg.Connection) -> None:
    video_id = _video(pg, status="failed", failure_reason="decode error")
    pg.execute(
        "INSERT INTO media.failed_videos (video_id, reason, attempts, payload)"
        " VALUES (%s, 'decode error', 3, '{\"k\": 1}')",
        (video_id,),
    )
    with pytest.raises(errors.ForeignKeyViolation):
        pg.execute(
            "INSERT INTO media.failed_videos (video_id, reason) VALUES (%s, 'x')", (uuid.uuid4(),)
        )
    pg.execute("DELETE FROM media.videos WHERE id = %s", (video_id,))
    assert pg.execute(
        "SELECT count(*) FROM media.failed_videos WHERE video_id = %s", (video_id,)
    ).fetchone() == (0,)


def test_following_yourself_is_refused(pg: psycopg.Connection) -> None:
    pg.execute("INSERT INTO ranking.follows (follower_id, followee_id) VALUES ('f-a', 'f-b')")
    with pytest.raises(errors.CheckViolation):
        pg.execute("INSERT INTO ranking.follows (follower_id, followee_id) VALUES ('f-a', 'f-a')")
    with pytest.raises(errors.UniqueViolation):
        pg.execute("INSERT INTO ranking.follows (follower_id, followee_id) VALUES ('f-a', 'f-b')")


def test_comment_length_is_bounded(pg: psycopg.Connection) -> None:
    video_id = uuid.uuid4()
    insert = "INSERT INTO stream.comments (video_id, author_id, text) VALUES (%s, 'u', %s)"
    pg.execute(insert, (video_id, "é" * 2000))  # characters, not bytes
    for text in ("x" * 2001, ""):
        with pytest.raises(errors.CheckViolation):
            pg.execute(insert, (video_id, text))


def test_likes_are_one_per_user_and_video(pg: psycopg.Connection) -> None:
    video_id = uuid.uuid4()
    insert = "INSERT INTO stream.likes (video_id, user_id) VALUES (%s, 'u1')"
    pg.execute(insert, (video_id,))
    with pytest.raises(errors.UniqueViolation):
        pg.execute(insert, (video_id,))
    assert pg.execute(insert + " ON CONFLICT DO NOTHING", (video_id,)).rowcount == 0


def test_engagement_ratios_follow_the_counters(pg: psycopg.Connection) -> None:
    video_id = uuid.uuid4()
    row = pg.execute(
        "INSERT INTO stream.video_engagement (video_id, creator_id) VALUES (%s, 'c')"
        " RETURNING completion_rate, avg_watch_seconds",
        (video_id,),
    ).fetchone()
    assert row == (0.0, 0.0)
    row = pg.execute(
        "UPDATE stream.video_engagement SET view_count = 4, watch_complete_count = 1,"
        " total_watch_seconds = 30 WHERE video_id = %s"
        " RETURNING completion_rate, avg_watch_seconds",
        (video_id,),
    ).fetchone()
    assert row == (0.25, 7.5)
    with pytest.raises(errors.CheckViolation):
        pg.execute(
            "UPDATE stream.video_engagement SET like_count = -1 WHERE video_id = %s", (video_id,)
        )


def test_processed_events_make_counting_idempotent(pg: psycopg.Connection) -> None:
    video_id, event_id = uuid.uuid4(), f"ev-{uuid.uuid4().hex}"
    pg.execute("INSERT INTO stream.video_engagement (video_id) VALUES (%s)", (video_id,))
    count_once = """
        WITH fresh AS (
            INSERT INTO stream.processed_events (event_id) VALUES (%s)
            ON CONFLICT DO NOTHING RETURNING event_id
        )
        UPDATE stream.video_engagement SET view_count = view_count + 1
        WHERE video_id = %s AND EXISTS (SELECT 1 FROM fresh)
    """
    for _ in range(3):
        pg.execute(count_once, (event_id, video_id))
    assert pg.execute(
        "SELECT view_count FROM stream.video_engagement WHERE video_id = %s", (video_id,)
    ).fetchone() == (1,)


def test_search_vector_gin_query(pg: psycopg.Connection) -> None:
    creator = f"c-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    rows = {
        "title": ("Dancing cats on the beach", "sunset vibes", ["summer"], None),
        "hashtag": ("My morning", "coffee first", ["dance", "routine"], None),
        "description": ("Cooking pasta", "then we danced in the kitchen", ["food"], None),
        "deleted": ("Dance battle", "gone", ["dance"], now),
        "unrelated": ("Mountain hike", "fresh air", ["outdoors"], None),
    }
    ids = {}
    for label, (title, description, hashtags, deleted_at) in rows.items():
        ids[label] = uuid.uuid4()
        pg.execute(
            "INSERT INTO ranking.published_videos (video_id, creator_id, title, description,"
            " hashtags, published_at, deleted_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                ids[label],
                creator,
                title,
                description,
                hashtags,
                now - timedelta(hours=1),
                deleted_at,
            ),
        )
    search = """
        SELECT video_id FROM ranking.published_videos
        WHERE search_vector @@ to_tsquery('english', %s) AND deleted_at IS NULL
          AND creator_id = %s
        ORDER BY ts_rank(search_vector, to_tsquery('english', %s)) DESC
    """
    found = [r[0] for r in pg.execute(search, ("dance", creator, "dance")).fetchall()]
    # Stemming matches dancing/danced; title (A) outranks hashtags (B), then description (C).
    assert found == [ids["title"], ids["hashtag"], ids["description"]]
    found = [r[0] for r in pg.execute(search, ("cat & beach", creator, "cat & beach")).fetchall()]
    assert found == [ids["title"]]

    # An edit regenerates the vector.
    pg.execute(
        "UPDATE ranking.published_videos SET title = 'Mountain dance' WHERE video_id = %s",
        (ids["unrelated"],),
    )
    found = {r[0] for r in pg.execute(search, ("dance", creator, "dance")).fetchall()}
    assert ids["unrelated"] in found

    with pg.transaction():
        pg.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in pg.execute(
                "EXPLAIN SELECT video_id FROM ranking.published_videos"
                " WHERE search_vector @@ websearch_to_tsquery('english', 'dance')"
            ).fetchall()
        )
    assert "published_videos_search_idx" in plan
