-- stream_svc: the transactional outbox of likes, unlikes, shares and comments.
--
-- A like (unlike, share, comment) and its events (video.liked / unliked / shared /
-- commented and the video_events record) commit in one transaction, the events into
-- stream.outbox; stream_svc's relay publishes the rows in id order and deletes them (see
-- reels_runtime/outbox.py and media.outbox in 0005). event_id is text: the video_events
-- record of a comment is keyed `comment:<comment id>`, not a UUID.
CREATE TABLE IF NOT EXISTS stream.outbox (
    id          bigserial PRIMARY KEY,
    event_id    text NOT NULL UNIQUE,
    topic       text NOT NULL,
    payload     bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
