"""Seeds a realistic feed data set: users, creators, videos, power-law follows, playback events.

At `--scale 1`: 100k videos, 10k users (2k of them creators), 1M playback events over the
last 7 days, follows with a power-law degree (Pareto out-degree, Zipf creator popularity).
Writes with bulk SQL straight into the owners' tables, as their consumers would have left
them: ranking's index, profiles and follows (PostgreSQL `ranking.*`), stream_svc's counters
(PostgreSQL `stream.video_engagement`) and its ClickHouse `videos`, `video_events` and
`watch_history`. Run it while stream_svc is *not* running on the same chDB path (chDB allows
one process per data path).

    .venv/bin/python bench/seed_feed.py --database-url postgresql://.../reels_bench \
        --clickhouse-url chdb:///abs/path [--scale 0.01] [--seed 7]

Prints what it wrote and how long it took.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "gen"), str(REPO)]

import psycopg  # noqa: E402

from reels_runtime.clickhouse import open_clickhouse  # noqa: E402
from reels_runtime.migrate import migrate_clickhouse  # noqa: E402

TOPICS = (
    "dance comedy cooking travel fitness music pets gaming fashion art "
    "science diy cars football tech nature makeup books film photography"
).split()
ADJECTIVES = "quick lazy epic tiny golden wild quiet loud bright calm".split()


@dataclass(frozen=True)
class Sizes:
    users: int
    creators: int
    videos: int
    events: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        users = max(50, int(10_000 * scale))
        return cls(
            users=users,
            creators=max(10, users // 5),
            videos=max(200, int(100_000 * scale)),
            events=max(2_000, int(1_000_000 * scale)),
        )


def user_id(i: int) -> str:
    return f"u{i:06d}"


def _copy(conn: psycopg.Connection, table: str, columns: str, rows) -> int:  # type: ignore[no-untyped-def]
    n = 0
    with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # type: ignore[arg-type]
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def seed(database_url: str, clickhouse_url: str, scale: float, seed_value: int) -> dict:
    rng = np.random.default_rng(seed_value)
    sizes = Sizes.at(scale)
    now = datetime.now(UTC)
    started = time.monotonic()
    # Creators: Zipf popularity (how often their videos are watched and how many follow them).
    creator_pop = 1.0 / np.arange(1, sizes.creators + 1) ** 1.1
    rng.shuffle(creator_pop)
    creator_pop /= creator_pop.sum()
    creator_topic = rng.integers(0, len(TOPICS), sizes.creators)
    # Videos: creators publish in proportion to their popularity (with a floor).
    weights = 0.5 * creator_pop + 0.5 / sizes.creators
    video_creator = rng.choice(sizes.creators, sizes.videos, p=weights / weights.sum())
    same_topic = rng.random(sizes.videos) < 0.7
    video_topic = np.where(
        same_topic, creator_topic[video_creator], rng.integers(0, len(TOPICS), sizes.videos)
    )
    # Ages: most of the catalogue is from the last week, some older.
    age_h = np.where(
        rng.random(sizes.videos) < 0.8,
        rng.exponential(48, sizes.videos).clip(0, 7 * 24),
        rng.uniform(7 * 24, 60 * 24, sizes.videos),
    )
    quality = rng.beta(4, 3, sizes.videos)  # drives completion
    duration = rng.uniform(8, 60, sizes.videos)
    n_sounds = max(20, sizes.videos // 200)
    sound = rng.zipf(1.5, sizes.videos) % n_sounds
    video_ids = [str(uuid.UUID(int=int(x))) for x in rng.integers(1, 2**62, sizes.videos)]
    published = [now - timedelta(hours=float(h)) for h in age_h]
    # Playback sessions: video chosen by creator popularity x quality x recency.
    pick = creator_pop[video_creator] * (0.3 + quality) * np.exp(-age_h / 72.0)
    pick /= pick.sum()
    # A session is a start plus maybe a complete, a like and a share: size the number of
    # sessions so the expected number of events is the target.
    per_session = 1 + float(pick @ (0.9 * quality + 0.06 + 0.1 * quality + 0.01))
    sessions = int(sizes.events / per_session)
    s_video = rng.choice(sizes.videos, sessions, p=pick)
    s_user = rng.integers(0, sizes.users, sessions)
    s_age_h = np.minimum(age_h[s_video], 7 * 24) * rng.random(sessions)
    completed = rng.random(sessions) < quality[s_video] * 0.9
    liked = rng.random(sessions) < 0.06 + 0.1 * quality[s_video]
    shared = rng.random(sessions) < 0.01
    # Follows: Pareto out-degree, creators chosen by popularity (power-law in-degree).
    degree = np.minimum((rng.pareto(1.5, sizes.users) + 1) * 4, sizes.creators - 1).astype(int)
    follows: set[tuple[int, int]] = set()
    for u, k in enumerate(degree):
        for c in rng.choice(sizes.creators, k, p=creator_pop, replace=False):
            if int(c) != u:  # creator c is user c
                follows.add((u, int(c)))
    followers = np.zeros(sizes.creators, dtype=int)
    following = np.zeros(sizes.users, dtype=int)
    for u, c in follows:
        followers[c] += 1
        following[u] += 1
    # Per-video counters, as stream_svc's consumers would have counted them.
    views = np.bincount(s_video, minlength=sizes.videos)
    completes = np.bincount(s_video, weights=completed, minlength=sizes.videos).astype(int)
    likes = np.bincount(s_video, weights=liked, minlength=sizes.videos).astype(int)
    shares = np.bincount(s_video, weights=shared, minlength=sizes.videos).astype(int)
    watch_s = np.bincount(
        s_video, weights=np.where(completed, 1.0, 0.4) * duration[s_video], minlength=sizes.videos
    )
    with psycopg.connect(database_url, autocommit=False) as conn:
        conn.execute("SET synchronous_commit = off")
        _copy(
            conn,
            "ranking.creator_profiles",
            "creator_id, display_name, follower_count, following_count",
            (
                (
                    user_id(u),
                    f"User {u}",
                    int(followers[u]) if u < sizes.creators else 0,
                    int(following[u]),
                )
                for u in range(sizes.users)
            ),
        )
        _copy(
            conn,
            "ranking.follows",
            "follower_id, followee_id",
            ((user_id(u), user_id(c)) for u, c in follows),
        )
        _copy(
            conn,
            "ranking.published_videos",
            "video_id, creator_id, title, description, hashtags, sound_id, duration_seconds,"
            " thumbnail_url, preview_url, published_at, updated_at",
            (
                (
                    video_ids[i],
                    user_id(int(video_creator[i])),
                    f"{ADJECTIVES[i % len(ADJECTIVES)]} {TOPICS[video_topic[i]]} clip {i}",
                    f"a {TOPICS[video_topic[i]]} video",
                    [TOPICS[video_topic[i]], ADJECTIVES[i % len(ADJECTIVES)]],
                    f"sound-{int(sound[i])}",
                    float(duration[i]),
                    f"http://127.0.0.1:8334/videos/videos/{video_ids[i]}/thumb.jpg",
                    f"http://127.0.0.1:8334/videos/videos/{video_ids[i]}/preview.gif",
                    published[i],
                    published[i],
                )
                for i in range(sizes.videos)
            ),
        )
        _copy(
            conn,
            "stream.video_engagement",
            "video_id, creator_id, view_count, like_count, share_count, watch_complete_count,"
            " total_watch_seconds, title, duration_seconds, published_at",
            (
                (
                    video_ids[i],
                    user_id(int(video_creator[i])),
                    int(views[i]),
                    int(likes[i]),
                    int(shares[i]),
                    int(completes[i]),
                    float(watch_s[i]),
                    f"clip {i}",
                    float(duration[i]),
                    published[i],
                )
                for i in range(sizes.videos)
            ),
        )
        conn.commit()
        conn.execute("ANALYZE ranking.published_videos")
        conn.execute("ANALYZE ranking.follows")
        conn.commit()
    pg_done = time.monotonic()
    client = open_clickhouse(clickhouse_url, create_database=True)
    migrate_clickhouse(client)
    client.insert(
        "videos",
        [
            [
                video_ids[i],
                user_id(int(video_creator[i])),
                [TOPICS[video_topic[i]]],
                f"sound-{int(sound[i])}",
                float(duration[i]),
                published[i],
                0,
                1,
            ]
            for i in range(sizes.videos)
        ],
        column_names=[
            "video_id",
            "creator_id",
            "hashtags",
            "sound_id",
            "duration_seconds",
            "published_at",
            "deleted",
            "version",
        ],
    )
    event_rows = []
    history_rows = []
    for j in range(sessions):
        v = int(s_video[j])
        at = now - timedelta(hours=float(s_age_h[j]))
        vid, creator, user = video_ids[v], user_id(int(video_creator[v])), user_id(int(s_user[j]))
        session = f"s{j}"
        dur_ms = int(duration[v] * 1000)
        event_rows.append([f"e{j}a", vid, creator, user, session, "watch_start", 0, at])
        if completed[j]:
            event_rows.append([f"e{j}c", vid, creator, user, session, "watch_complete", dur_ms, at])
        if liked[j]:
            event_rows.append([f"e{j}l", vid, creator, user, session, "like", 0, at])
        if shared[j]:
            event_rows.append([f"e{j}s", vid, creator, user, session, "share", 0, at])
        history_rows.append(
            [
                user,
                vid,
                creator,
                session,
                at,
                dur_ms if completed[j] else dur_ms // 3,
                1.0 if completed[j] else 0.33,
            ]
        )
    for start in range(0, len(event_rows), 200_000):
        client.insert(
            "video_events",
            event_rows[start : start + 200_000],
            column_names=[
                "event_id",
                "video_id",
                "creator_id",
                "user_id",
                "session_id",
                "action",
                "watch_ms",
                "event_time",
            ],
        )
    client.insert(
        "watch_history",
        history_rows,
        column_names=[
            "user_id",
            "video_id",
            "creator_id",
            "session_id",
            "watched_at",
            "watch_ms",
            "completion",
        ],
    )
    client.close()
    return {
        "users": sizes.users,
        "creators": sizes.creators,
        "videos": sizes.videos,
        "follows": len(follows),
        "max_followers": int(followers.max()),
        "median_followers": float(np.median(followers)),
        "sessions": sessions,
        "playback_events": len(event_rows),
        "postgres_s": round(pg_done - started, 1),
        "clickhouse_s": round(time.monotonic() - pg_done, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--clickhouse-url", required=True)
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    summary = seed(args.database_url, args.clickhouse_url, args.scale, args.seed)
    print(" ".join(f"{k}={v}" for k, v in summary.items()))


if __name__ == "__main__":
    main()
