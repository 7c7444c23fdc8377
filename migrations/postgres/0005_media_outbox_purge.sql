-- media_svc: the transactional outbox and object purging.
--
-- A state change and the event announcing it are written in one transaction (the event
-- into media.outbox); a relay publishes outbox rows to the event bus and deletes them.
-- So a crash between "row updated" and "event published" loses nothing, and consumers
-- deduplicate on event_id when the relay publishes a row twice.
CREATE TABLE media.outbox (
    id          bigserial PRIMARY KEY,
    event_id    uuid NOT NULL UNIQUE,
    topic       text NOT NULL,
    payload     bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Deleted videos keep their objects for a grace period; purged_at records the removal.
ALTER TABLE media.videos ADD COLUMN purged_at timestamptz;
CREATE INDEX videos_purge_due_idx ON media.videos (deleted_at)
    WHERE status = 'deleted' AND purged_at IS NULL;
