-- stream_svc owns this schema: engagement counters, likes, shares, comments, the ids of
-- events already counted, and bandwidth reports. Only stream_svc writes here.
CREATE SCHEMA IF NOT EXISTS stream;

-- One row per published video. Counters only move through idempotent updates (see
-- processed_events); the two ratios are derived from them, so they can never disagree.
CREATE TABLE stream.video_engagement (
    video_id             uuid PRIMARY KEY,
    -- NULL until video.published arrives, should an event overtake it.
    creator_id           text,
    view_count           bigint NOT NULL DEFAULT 0 CHECK (view_count >= 0),
    like_count           bigint NOT NULL DEFAULT 0 CHECK (like_count >= 0),
    share_count          bigint NOT NULL DEFAULT 0 CHECK (share_count >= 0),
    comment_count        bigint NOT NULL DEFAULT 0 CHECK (comment_count >= 0),
    watch_complete_count bigint NOT NULL DEFAULT 0 CHECK (watch_complete_count >= 0),
    total_watch_seconds  double precision NOT NULL DEFAULT 0 CHECK (total_watch_seconds >= 0),
    completion_rate      double precision GENERATED ALWAYS AS (
        CASE WHEN view_count > 0
             THEN LEAST(1.0, watch_complete_count::double precision / view_count)
             ELSE 0 END
    ) STORED,
    avg_watch_seconds    double precision GENERATED ALWAYS AS (
        CASE WHEN view_count > 0 THEN total_watch_seconds / view_count ELSE 0 END
    ) STORED,
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX video_engagement_creator_idx ON stream.video_engagement (creator_id);

CREATE TABLE stream.likes (
    video_id   uuid NOT NULL,
    user_id    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (video_id, user_id)
);

CREATE INDEX likes_user_idx ON stream.likes (user_id, created_at);

CREATE TABLE stream.shares (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    video_id   uuid NOT NULL,
    user_id    text NOT NULL,
    platform   text NOT NULL CHECK (char_length(platform) BETWEEN 1 AND 64),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX shares_video_idx ON stream.shares (video_id, created_at);
CREATE INDEX shares_user_idx ON stream.shares (user_id, created_at);

CREATE TABLE stream.comments (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    video_id   uuid NOT NULL,
    author_id  text NOT NULL,
    text       text NOT NULL CHECK (char_length(text) BETWEEN 1 AND 2000),
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);

-- Pages of a video's comments by (created_at, id): id breaks ties between equal times.
CREATE INDEX comments_video_created_idx ON stream.comments (video_id, created_at, id);

-- An event id seen here has been counted: insert it in the same transaction as the counter
-- update (INSERT ... ON CONFLICT DO NOTHING) so a redelivered event counts once.
CREATE TABLE stream.processed_events (
    event_id     text PRIMARY KEY,
    processed_at timestamptz NOT NULL DEFAULT now()
);

-- For pruning ids older than the bus can redeliver.
CREATE INDEX processed_events_processed_at_idx ON stream.processed_events (processed_at);

-- Client throughput reports; the latest one per user seeds the next bitrate choice.
CREATE TABLE stream.bandwidth_reports (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id               text NOT NULL,
    video_id              uuid,
    session_id            text,
    measured_kbps         integer NOT NULL CHECK (measured_kbps >= 0),
    packet_loss           real CHECK (packet_loss IS NULL OR packet_loss BETWEEN 0 AND 1),
    rtt_ms                integer CHECK (rtt_ms IS NULL OR rtt_ms >= 0),
    effective_type        text,
    save_data             boolean NOT NULL DEFAULT false,
    recommended_kbps      integer CHECK (recommended_kbps IS NULL OR recommended_kbps >= 0),
    recommended_rendition text,
    created_at            timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX bandwidth_reports_user_idx ON stream.bandwidth_reports (user_id, created_at DESC);
