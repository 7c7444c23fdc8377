-- Playback and interaction events as players posted them. ingested_at measures
-- post→queryable. A redelivered batch must not land twice: the deduplication window drops a
-- re-inserted identical block, or any block whose insert_deduplication_token was seen.
CREATE TABLE IF NOT EXISTS video_events
(
    event_id     String,
    video_id     String,
    creator_id   String DEFAULT '',
    user_id      String,
    session_id   String DEFAULT '',
    -- watch_start, watch_25%, watch_50%, watch_75%, watch_complete, like, share, comment,
    -- watch_segment, bitrate_switch, rebuffer, startup
    action       LowCardinality(String),
    bitrate_kbps UInt32 DEFAULT 0,
    rendition    LowCardinality(String) DEFAULT '',
    device       LowCardinality(String) DEFAULT '',
    watch_ms     UInt32 DEFAULT 0,
    position_ms  UInt32 DEFAULT 0,
    startup_ms   UInt32 DEFAULT 0,
    rebuffer_ms  UInt32 DEFAULT 0,
    event_time   DateTime64(3, 'UTC'),
    ingested_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(event_time)
ORDER BY (video_id, event_time)
SETTINGS non_replicated_deduplication_window = 10000;
