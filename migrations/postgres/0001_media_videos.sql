-- media_svc owns this schema: the catalogue of uploaded videos and the dead-letter table of
-- transcode jobs that failed three times. Only media_svc writes here.
CREATE SCHEMA IF NOT EXISTS media;

CREATE TABLE media.videos (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    creator_id         text NOT NULL,
    title              text NOT NULL DEFAULT '',
    description        text NOT NULL DEFAULT '',
    -- Known once the upload has been probed; NULL while the bytes are still arriving.
    duration_seconds   double precision CHECK (duration_seconds IS NULL OR duration_seconds >= 0),
    status             text NOT NULL DEFAULT 'uploading'
                       CHECK (status IN ('uploading', 'processing', 'published', 'failed', 'deleted')),
    hashtags           text[] NOT NULL DEFAULT '{}',
    sound_id           text,
    progress_percent   smallint NOT NULL DEFAULT 0
                       CHECK (progress_percent BETWEEN 0 AND 100),
    transcode_attempts smallint NOT NULL DEFAULT 0 CHECK (transcode_attempts >= 0),
    failure_reason     text,
    -- Lists of {code, message, ...} objects shown to the creator / kept for moderators.
    quality_warnings   jsonb NOT NULL DEFAULT '[]',
    moderation_flags   jsonb NOT NULL DEFAULT '[]',
    -- The published ladder: [{name, width, height, bandwidth, codecs, playlist_key, ...}].
    renditions         jsonb NOT NULL DEFAULT '[]',
    -- Object-store layout: everything of a video lives under videos/{id}/.
    object_prefix      text,
    original_key       text,
    thumbnail_key      text,
    preview_key        text,
    size_bytes         bigint CHECK (size_bytes IS NULL OR size_bytes >= 0),
    content_type       text,
    -- The source's geometry, as probed.
    width              integer CHECK (width IS NULL OR width > 0),
    height             integer CHECK (height IS NULL OR height > 0),
    frame_rate         double precision CHECK (frame_rate IS NULL OR frame_rate > 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    published_at       timestamptz,
    deleted_at         timestamptz,
    CONSTRAINT videos_published_has_time CHECK (status <> 'published' OR published_at IS NOT NULL),
    CONSTRAINT videos_deleted_has_time CHECK (status <> 'deleted' OR deleted_at IS NOT NULL)
);

CREATE INDEX videos_creator_published_idx ON media.videos (creator_id, published_at);
CREATE INDEX videos_status_idx ON media.videos (status);

-- Dead letters: a transcode job that failed its attempts, with what is needed to replay it.
CREATE TABLE media.failed_videos (
    video_id      uuid PRIMARY KEY REFERENCES media.videos (id) ON DELETE CASCADE,
    reason        text NOT NULL,
    attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    first_failed_at timestamptz NOT NULL DEFAULT now(),
    last_error_at timestamptz NOT NULL DEFAULT now(),
    -- The original job (the video.uploaded event body) so that a replay re-publishes it.
    payload       jsonb NOT NULL DEFAULT '{}',
    replayed_at   timestamptz,
    replay_count  integer NOT NULL DEFAULT 0 CHECK (replay_count >= 0)
);

-- The admin listing shows the dead letters not replayed yet, newest first.
CREATE INDEX failed_videos_open_idx ON media.failed_videos (last_error_at DESC)
    WHERE replayed_at IS NULL;
