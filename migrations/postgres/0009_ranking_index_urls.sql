-- ranking_svc keeps the public thumbnail and preview URLs video.published carries (its
-- cards need URLs, and the object keys alone would mean knowing media_svc's URL scheme).
ALTER TABLE ranking.published_videos
    ADD COLUMN IF NOT EXISTS thumbnail_url text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS preview_url   text NOT NULL DEFAULT '';

-- Creators by popularity, for discovery of creators to follow.
CREATE INDEX IF NOT EXISTS creator_profiles_followers_idx
    ON ranking.creator_profiles (follower_count DESC);
