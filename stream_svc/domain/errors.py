"""Errors of the engagement domain; the servicer maps each to one gRPC status code."""

from __future__ import annotations


class EngagementError(Exception):
    """Base of the engagement half's domain errors; the message is safe to return."""


class InvalidArgument(EngagementError):
    """The request is malformed (INVALID_ARGUMENT)."""


class NotFound(EngagementError):
    """The video or comment is unknown, unpublished or deleted (NOT_FOUND)."""


class PermissionDenied(EngagementError):
    """The caller may not do this to this object (PERMISSION_DENIED)."""
