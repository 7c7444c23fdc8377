"""What can go wrong in embed_svc, independent of gRPC (the servicer maps these to codes)."""

from __future__ import annotations


class EmbedError(Exception):
    """Base of embed_svc's domain errors; the message is safe to show the caller."""


class InvalidInput(EmbedError):
    """The request is malformed (INVALID_ARGUMENT)."""


class NotFound(EmbedError):
    """The video, or the model version asked for, does not exist (NOT_FOUND)."""


class Unavailable(EmbedError):
    """The model server or another dependency is down; the caller retries later (UNAVAILABLE)."""


class DeadlineExceeded(EmbedError):
    """The caller's deadline passed, or leaves no time for the work (DEADLINE_EXCEEDED)."""
