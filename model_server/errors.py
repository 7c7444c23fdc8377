"""Domain errors of the model server; servicer.py turns each into one gRPC status code."""

from __future__ import annotations


class ModelServerError(Exception):
    """Base class: the message is safe to return to the caller."""


class NotFound(ModelServerError):
    """No such model, version or version label."""


class InvalidInput(ModelServerError):
    """The request does not match the signature or the limits."""


class FailedPrecondition(ModelServerError):
    """The request names a signature the model does not have (TensorFlow Serving's code)."""


class DeadlineExpired(ModelServerError):
    """The caller's deadline passed before the work could start."""
