-- media_svc: resumable direct uploads (presigned multipart uploads into the object store)
-- and the videos whose embedding could not be made at publish time.

-- One row per direct upload. The video row is created only when the upload completes and
-- passes validation, so video_id is reserved here without a foreign key.
CREATE TABLE media.upload_sessions (
    upload_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    video_id        uuid NOT NULL UNIQUE,
    creator_id      text NOT NULL,
    -- The object store's multipart upload id and the key the parts go to.
    s3_upload_id    text NOT NULL,
    object_key      text NOT NULL,
    -- Metadata given when the upload was started, applied on completion.
    title           text NOT NULL DEFAULT '',
    description     text NOT NULL DEFAULT '',
    hashtags        text[] NOT NULL DEFAULT '{}',
    sound_id        text,
    content_type    text,
    size_bytes      bigint CHECK (size_bytes IS NULL OR size_bytes >= 0),
    part_size_bytes bigint CHECK (part_size_bytes IS NULL OR part_size_bytes > 0),
    part_count      integer CHECK (part_count IS NULL OR part_count > 0),
    state           text NOT NULL DEFAULT 'open'
                    CHECK (state IN ('open', 'completing', 'completed', 'aborted', 'expired')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    completed_at    timestamptz
);

CREATE INDEX upload_sessions_creator_idx ON media.upload_sessions (creator_id, created_at);
-- The sweeper aborts open uploads past their expiry.
CREATE INDEX upload_sessions_open_expiry_idx ON media.upload_sessions (expires_at)
    WHERE state IN ('open', 'completing');

-- Published videos still lacking an embedding; retried with backoff until embed_svc answers.
CREATE TABLE media.pending_embeddings (
    video_id        uuid PRIMARY KEY REFERENCES media.videos (id) ON DELETE CASCADE,
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX pending_embeddings_due_idx ON media.pending_embeddings (next_attempt_at);
