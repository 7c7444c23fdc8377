-- One row per watch session of a user: feeds user embeddings, affinity and discovery.
-- Redelivered batches are dropped as in video_events (insert_deduplication_token).
CREATE TABLE IF NOT EXISTS watch_history
(
    user_id    String,
    video_id   String,
    creator_id String DEFAULT '',
    session_id String DEFAULT '',
    watched_at DateTime64(3, 'UTC'),
    watch_ms   UInt32 DEFAULT 0,
    completion Float32 DEFAULT 0
)
ENGINE = MergeTree
ORDER BY (user_id, watched_at)
TTL toDateTime(watched_at) + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 10000;
