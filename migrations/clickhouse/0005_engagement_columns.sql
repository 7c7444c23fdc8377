-- What the engagement half needs beyond the first tables: the segment of a watch_segment
-- event (init segments are left out of the bitrate distribution), the published ladder of
-- a video (heights and bit rates beside `renditions`, index for index, so analytics can
-- tell HD rungs and name their bit rates), and the creator of a mirrored embedding.
ALTER TABLE video_events ADD COLUMN IF NOT EXISTS segment_id String DEFAULT '';
ALTER TABLE videos ADD COLUMN IF NOT EXISTS rendition_heights Array(UInt16) DEFAULT [];
ALTER TABLE videos ADD COLUMN IF NOT EXISTS rendition_kbps Array(UInt32) DEFAULT [];
ALTER TABLE video_embeddings ADD COLUMN IF NOT EXISTS creator_id String DEFAULT '';
