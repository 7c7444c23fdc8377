-- stream_svc engagement, continued.
--
-- video_engagement also becomes stream_svc's record of which videos are published and
-- which deleted (from video.published / video.updated / video.deleted), so the engagement
-- RPCs answer NOT_FOUND from one primary-key read. catalogue_version is the newest
-- catalogue event applied (ms since the epoch): older, redelivered ones are skipped, and
-- it orders the rows written to ClickHouse's ReplacingMergeTree `videos`.
ALTER TABLE stream.video_engagement
    ADD COLUMN title             text NOT NULL DEFAULT '',
    ADD COLUMN duration_seconds  double precision,
    ADD COLUMN published_at      timestamptz,
    ADD COLUMN deleted_at        timestamptz,
    ADD COLUMN catalogue_version bigint NOT NULL DEFAULT 0;

-- The furthest watch time each viewing session reported. Players send the session's
-- cumulative watch time with every event; total_watch_seconds grows by how far this
-- maximum moves, so a session counts once however many events repeat its watch time.
CREATE TABLE stream.watch_sessions (
    video_id     uuid NOT NULL,
    user_id      text NOT NULL,
    session_id   text NOT NULL,
    max_watch_ms bigint NOT NULL DEFAULT 0 CHECK (max_watch_ms >= 0),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (video_id, user_id, session_id)
);

-- For pruning sessions older than any event the bus or a client can still send.
CREATE INDEX watch_sessions_updated_idx ON stream.watch_sessions (updated_at);
