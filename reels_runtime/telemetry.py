"""Logging as JSON lines and OpenTelemetry tracing, set up once per process."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import threading
from typing import IO, Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from reels_runtime.context import current_request_id

# Attributes every LogRecord has; anything else on a record came from `extra=` and is
# emitted as a structured field.
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)
_lock = threading.Lock()
_tracer_provider: TracerProvider | None = None


def current_trace_id() -> str | None:
    """The W3C trace id (32 hex digits) of the active span, or None outside any trace."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id and trace id of the current call."""

    def __init__(self, service_name: str | None = None) -> None:
        super().__init__()
        self._service = service_name

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self._service:
            entry["service"] = self._service
        request_id = current_request_id()
        if request_id:
            entry["request_id"] = request_id
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            entry["trace_id"] = format(span_context.trace_id, "032x")
            entry["span_id"] = format(span_context.span_id, "016x")
        for key, value in record.__dict__.items():
            # A field set explicitly (e.g. the call's own request_id) wins over context.
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(
    level: str = "INFO", service_name: str | None = None, stream: IO[str] | None = None
) -> logging.Handler:
    """Routes the root logger to JSON lines on stderr; replaces handlers set up earlier."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(service_name))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def configure_tracing(service_name: str, otlp_endpoint: str | None = None) -> TracerProvider:
    """Installs the process's TracerProvider; spans are exported only to `otlp_endpoint`.

    Without an endpoint spans still get ids (so logs carry trace ids and traceparent
    is propagated) but nothing leaves the process. The global provider can be set
    once per process; later calls return the first one.
    """
    global _tracer_provider
    with _lock:
        if _tracer_provider is not None:
            return _tracer_provider
        provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
        if otlp_endpoint:
            # Imported only when used: the exporter pulls in grpc channel machinery.
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter(
                endpoint=otlp_endpoint, insecure=otlp_endpoint.startswith("http://")
            )
            provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        _tracer_provider = provider
        return provider


def configure(service_name: str, log_level: str = "INFO", otlp_endpoint: str | None = None) -> None:
    """Logging plus tracing, as every service's entry point wants them."""
    configure_logging(log_level, service_name)
    configure_tracing(service_name, otlp_endpoint)


def shutdown() -> None:
    """Flushes pending spans; call once at exit."""
    if _tracer_provider is not None:
        _tracer_provider.shutdown()
