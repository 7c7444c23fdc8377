-- stream_svc's own record of what it can play, learnt from video.published / updated /
-- deleted, so manifests and segment redirects never ask media_svc at request time.
CREATE TABLE stream.playback_catalogue (
    video_id           uuid PRIMARY KEY,
    -- NULL while only a deletion is known (a video.deleted that overtook its publication).
    creator_id         text,
    object_prefix      text CHECK (object_prefix IS NULL OR object_prefix LIKE 'videos/%/'),
    dash_manifest_key  text,
    duration_seconds   double precision NOT NULL DEFAULT 0 CHECK (duration_seconds >= 0),
    -- The renditions: name, kind, size, bandwidths, codecs, frame rate, channels, init and
    -- media segments with their durations (media's playlists, read once at publication).
    tracks             jsonb,
    -- media's MPD, whose segment URLs are relative to object_prefix.
    dash_mpd           text,
    -- Bumped by every re-transcode. CDN URLs carry it (/v{version}/...), so a new version
    -- never meets an object the CDN cached for an old one.
    version            integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    -- The video.published event this row was built from: a redelivery changes nothing.
    publish_event_id   text,
    -- VideoSummary.update_time of the newest state applied: older events are skipped.
    source_update_time timestamptz,
    published_at       timestamptz,
    deleted_at         timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (deleted_at IS NOT NULL OR (tracks IS NOT NULL AND dash_mpd IS NOT NULL
                                      AND object_prefix IS NOT NULL AND creator_id IS NOT NULL))
);

-- What the CDN was told to forget and why: every deletion and re-transcode of a video.
CREATE TABLE stream.cdn_invalidations (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    video_id      uuid NOT NULL,
    object_prefix text NOT NULL,
    reason        text NOT NULL CHECK (reason IN ('deleted', 'retranscoded')),
    -- The catalogue version whose CDN URLs stop being handed out.
    version       integer NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX cdn_invalidations_video_idx ON stream.cdn_invalidations (video_id, created_at);
