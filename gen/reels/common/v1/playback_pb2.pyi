from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class PlaybackAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLAYBACK_ACTION_UNSPECIFIED: _ClassVar[PlaybackAction]
    PLAYBACK_ACTION_WATCH_START: _ClassVar[PlaybackAction]
    PLAYBACK_ACTION_WATCH_25: _ClassVar[PlaybackAction]
    PLAYBACK_ACTION_WATCH_50: _ClassVar[PlaybackAction]
    PLAYBACK_ACTION_WATCH_75: _ClassVar[PlaybackAction]
    PLAYBACK_ACTION_WATCH_COMPLETE: _ClassVar[PlaybackAction]
    PLAYBACK_ACTION_LIKE: _ClassVar[PlaybackAction]
    PLAYBACK_ACTION_SHARE: _ClassVar[PlaybackAction]
    PLAYBACK_ACTION_COMMENT: _ClassVar[PlaybackAction]
    PLAYBACK_ACTION_WATCH_SEGMENT: _ClassVar[PlaybackAction]
    PLAYBACK_ACTION_BITRATE_SWITCH: _ClassVar[PlaybackAction]
    PLAYBACK_ACTION_REBUFFER: _ClassVar[PlaybackAction]
    PLAYBACK_ACTION_STARTUP: _ClassVar[PlaybackAction]
PLAYBACK_ACTION_UNSPECIFIED: PlaybackAction
PLAYBACK_ACTION_WATCH_START: PlaybackAction
PLAYBACK_ACTION_WATCH_25: PlaybackAction
PLAYBACK_ACTION_WATCH_50: PlaybackAction
PLAYBACK_ACTION_WATCH_75: PlaybackAction
PLAYBACK_ACTION_WATCH_COMPLETE: PlaybackAction
PLAYBACK_ACTION_LIKE: PlaybackAction
PLAYBACK_ACTION_SHARE: PlaybackAction
PLAYBACK_ACTION_COMMENT: PlaybackAction
PLAYBACK_ACTION_WATCH_SEGMENT: PlaybackAction
PLAYBACK_ACTION_BITRATE_SWITCH: PlaybackAction
PLAYBACK_ACTION_REBUFFER: PlaybackAction
PLAYBACK_ACTION_STARTUP: PlaybackAction
