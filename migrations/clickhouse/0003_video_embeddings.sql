-- Mirror of embed_svc's vectors (written through stream_svc's mirror RPC). The newest
-- generated_at wins: read with FINAL.
CREATE TABLE IF NOT EXISTS video_embeddings
(
    video_id      String,
    embedding     Array(Float32),
    model_version LowCardinality(String),
    generated_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(generated_at)
ORDER BY video_id;
