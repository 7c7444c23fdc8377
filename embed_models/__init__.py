"""The reels models: a hand-crafted video encoder and a similarity ranking model (SavedModels)."""

from __future__ import annotations

VIDEO_ENCODER = "video_encoder"
RANKING_MODEL = "ranking_model"
FRAME_SIZE = 224  # the encoder takes exactly 224x224 RGB frames (see frames.model_frames)
DEFAULT_DIM = 256
DIMS = (256, 512)
MAX_FRAMES = 64  # frames per clip the encoder accepts (the server enforces it)
MAX_CANDIDATES = 2048  # candidates per user the ranking model accepts (the server enforces it)
DEFAULT_SEED = 20250101
