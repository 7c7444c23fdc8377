"""JSON log lines carry the request id and trace id of the current call."""

from __future__ import annotations

import io
import json
import logging

from opentelemetry.sdk.trace import TracerProvider

from reels_runtime.context import request_scope
from reels_runtime.telemetry import JsonFormatter, current_trace_id


def _logger(stream: io.StringIO, name: str) -> logging.Logger:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("test_svc"))
    logger = logging.getLogger(name)
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def test_a_log_line_is_one_json_object_with_context_and_extra_fields() -> None:
    stream = io.StringIO()
    logger = _logger(stream, "reels.test.telemetry")
    tracer = TracerProvider().get_tracer("test")
    with request_scope("req-123"), tracer.start_as_current_span("op") as span:
        logger.info("did %s", "it", extra={"video_id": "v1", "duration_ms": 1.5})
        expected_trace = format(span.get_span_context().trace_id, "032x")
        assert current_trace_id() == expected_trace
    logger.info("outside")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "did it"
    assert first["level"] == "INFO"
    assert first["service"] == "test_svc"
    assert first["request_id"] == "req-123"
    assert first["trace_id"] == expected_trace
    assert first["video_id"] == "v1"
    assert first["duration_ms"] == 1.5
    assert "request_id" not in second
    assert "trace_id" not in second


def test_exceptions_are_kept_in_one_line() -> None:
    stream = io.StringIO()
    logger = _logger(stream, "reels.test.telemetry.exc")
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert "ValueError: boom" in entry["exception"]
