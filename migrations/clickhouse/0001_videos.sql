-- stream_svc's copy of published videos, fed by video.published / video.updated /
-- video.deleted. Every change inserts a row with a higher version; read with FINAL (or
-- argMax by version) and filter `deleted = 0`. video_id ends the sorting key so two videos of
-- one creator published in the same millisecond stay two rows.
CREATE TABLE IF NOT EXISTS videos
(
    video_id         String,
    creator_id       String,
    title            String DEFAULT '',
    description      String DEFAULT '',
    hashtags         Array(String) DEFAULT [],
    sound_id         String DEFAULT '',
    duration_seconds Float64 DEFAULT 0,
    width            UInt16 DEFAULT 0,
    height           UInt16 DEFAULT 0,
    thumbnail_key    String DEFAULT '',
    preview_key      String DEFAULT '',
    renditions       Array(String) DEFAULT [],
    published_at     DateTime64(3, 'UTC'),
    updated_at       DateTime64(3, 'UTC') DEFAULT now64(3),
    deleted          UInt8 DEFAULT 0,
    version          UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (creator_id, published_at, video_id)
TTL toDateTime(published_at) + INTERVAL 365 DAY;
