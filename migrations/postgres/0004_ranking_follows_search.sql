-- ranking_svc owns this schema: the follow graph, creator profiles, and its own index of
-- published videos (fed by video.published / video.updated / video.deleted) with full-text
-- search. Only ranking_svc writes here.
CREATE SCHEMA IF NOT EXISTS ranking;

CREATE TABLE ranking.follows (
    follower_id text NOT NULL,
    followee_id text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (follower_id, followee_id),
    CONSTRAINT follows_not_self CHECK (follower_id <> followee_id)
);

-- Followers of a creator (counts, discovery); the PK serves "whom does X follow".
CREATE INDEX follows_followee_idx ON ranking.follows (followee_id, created_at);

CREATE TABLE ranking.creator_profiles (
    creator_id      text PRIMARY KEY,
    display_name    text NOT NULL DEFAULT '',
    follower_count  bigint NOT NULL DEFAULT 0 CHECK (follower_count >= 0),
    following_count bigint NOT NULL DEFAULT 0 CHECK (following_count >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- array_to_string() is only STABLE (it is polymorphic), which a generated column refuses;
-- over text[] it is immutable in fact, so this wrapper may say so.
CREATE FUNCTION ranking.hashtags_document(tags text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN array_to_string(tags, ' ');

CREATE TABLE ranking.published_videos (
    video_id         uuid PRIMARY KEY,
    creator_id       text NOT NULL,
    title            text NOT NULL DEFAULT '',
    description      text NOT NULL DEFAULT '',
    hashtags         text[] NOT NULL DEFAULT '{}',
    sound_id         text,
    duration_seconds double precision CHECK (duration_seconds IS NULL OR duration_seconds >= 0),
    thumbnail_key    text,
    preview_key      text,
    published_at     timestamptz NOT NULL,
    -- The source time of the last event applied: an older event never overwrites a newer one.
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz,
    -- Query with the same configuration: search_vector @@ websearch_to_tsquery('english', q).
    search_vector    tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, title), 'A')
        || setweight(
            to_tsvector('english'::regconfig, coalesce(ranking.hashtags_document(hashtags), '')),
            'B')
        || setweight(to_tsvector('english'::regconfig, description), 'C')
    ) STORED
);

CREATE INDEX published_videos_search_idx ON ranking.published_videos USING gin (search_vector);
CREATE INDEX published_videos_creator_published_idx
    ON ranking.published_videos (creator_id, published_at);
-- Recent live videos (new-user and exploration candidates).
CREATE INDEX published_videos_recent_idx ON ranking.published_videos (published_at DESC)
    WHERE deleted_at IS NULL;
-- Videos carrying a hashtag (hashtags @> ARRAY['dance']).
CREATE INDEX published_videos_hashtags_idx ON ranking.published_videos USING gin (hashtags);
