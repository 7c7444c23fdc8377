"""The media engine: probe uploads, plan the ladder, transcode to CMAF HLS + DASH, validate."""

from media_svc.transcode.analysis import QualityWarning
from media_svc.transcode.ladder import Rung, plan_ladder
from media_svc.transcode.pipeline import transcode
from media_svc.transcode.probe import InvalidMedia, MediaInfo, probe
from media_svc.transcode.result import (
    AudioRendition,
    Rendition,
    SampledFrame,
    Segment,
    TranscodeCancelled,
    TranscodeError,
    TranscodeResult,
)
from media_svc.transcode.validate import OutputInvalid, validate_outputs

__all__ = [
    "AudioRendition",
    "InvalidMedia",
    "MediaInfo",
    "OutputInvalid",
    "QualityWarning",
    "Rendition",
    "Rung",
    "SampledFrame",
    "Segment",
    "TranscodeCancelled",
    "TranscodeError",
    "TranscodeResult",
    "plan_ladder",
    "probe",
    "transcode",
    "validate_outputs",
]
