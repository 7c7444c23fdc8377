-- media_svc and stream_svc: the trace context (W3C traceparent, tracestate) and request id
-- of the call that wrote each outbox row. The relay publishes the row's event under them,
-- so a consumer's span joins the trace of the request that caused the event instead of
-- starting one of its own (see reels_runtime/outbox.py).
ALTER TABLE media.outbox ADD COLUMN IF NOT EXISTS headers jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE stream.outbox ADD COLUMN IF NOT EXISTS headers jsonb NOT NULL DEFAULT '{}'::jsonb;
