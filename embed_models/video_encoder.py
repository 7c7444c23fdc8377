"""The video encoder: hand-crafted clip statistics, standardised, randomly rotated, L2-normalised.

Not a learned network. Each clip's colour, texture and motion statistics (features.py)
are standardised with the mean and spread measured on procedurally generated calibration
clips (calibration.py), clipped, normalised group by group so that colour, texture and
motion weigh the same, and multiplied by a fixed seeded random matrix with orthonormal
rows. That matrix preserves angles, so the cosine similarity of two embeddings is the
mean of the cosine similarities of their colour, texture and motion statistics.
"""

from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf

from embed_models import DEFAULT_DIM, DEFAULT_SEED, FRAME_SIZE
from embed_models.calibration import CALIBRATION_SEED, calibration_batches
from embed_models.features import FEATURE_COUNT, GROUP_SIZES, clip_features

CALIBRATION_CLIPS = 192
# A standardised statistic beyond this many spreads is clipped: one extreme value (a black
# frame's log-energy, say) must not outweigh all the others.
Z_CLIP = 4.0
# Floor on a statistic's spread, so one that barely varied in calibration does not turn
# into a noise amplifier.
MIN_SPREAD = 1e-2
# Each group's vector is divided by sqrt(|z|^2 + FLOOR^2 * n): unit length when the clip is
# clearly off the calibration mean, shrinking towards zero (instead of pointing anywhere)
# when a group is unremarkable.
GROUP_FLOOR = 0.25

FRAMES_SPEC = tf.TensorSpec([None, None, FRAME_SIZE, FRAME_SIZE, 3], tf.uint8, name="frames")


@functools.cache
def _features_fn() -> tf.types.experimental.GenericFunction:
    return tf.function(clip_features, input_signature=[FRAMES_SPEC])


@functools.cache
def calibrate(
    seed: int = CALIBRATION_SEED, clips: int = CALIBRATION_CLIPS
) -> tuple[np.ndarray, np.ndarray]:
    """Per-statistic mean and spread over the seeded calibration clips (float64)."""
    features = _features_fn()
    rows = [features(batch).numpy() for batch in calibration_batches(seed, clips)]
    table = np.concatenate(rows).astype(np.float64)
    return table.mean(axis=0), np.maximum(table.std(axis=0), MIN_SPREAD)


def projection(dim: int, seed: int) -> np.ndarray:
    """[FEATURE_COUNT, dim] with orthonormal rows: a random rotation into `dim` dimensions."""
    if dim < FEATURE_COUNT:
        raise ValueError(f"dim must be at least {FEATURE_COUNT} (the number of statistics)")
    rng = np.random.default_rng([seed, dim])
    q, r = np.linalg.qr(rng.standard_normal((dim, FEATURE_COUNT)))
    q *= np.sign(np.diag(r))  # a unique Q: LAPACK's sign convention must not leak in
    return q.T


class VideoEncoder(tf.Module):
    """frames uint8 [batch, frames, 224, 224, 3] -> embedding float32 [batch, dim], norm 1."""

    def __init__(self, mean: np.ndarray, spread: np.ndarray, rotation: np.ndarray) -> None:
        super().__init__(name="video_encoder")
        self.dim = rotation.shape[1]
        self.feature_mean = tf.Variable(mean.astype(np.float32), trainable=False)
        self.feature_inv_spread = tf.Variable((1.0 / spread).astype(np.float32), trainable=False)
        self.projection = tf.Variable(rotation.astype(np.float32), trainable=False)

    @tf.function(input_signature=[FRAMES_SPEC])
    def serve(self, frames: tf.Tensor) -> dict[str, tf.Tensor]:
        raw = clip_features(frames)
        z = tf.clip_by_value((raw - self.feature_mean) * self.feature_inv_spread, -Z_CLIP, Z_CLIP)
        groups = tf.split(z, list(GROUP_SIZES.values()), axis=-1)
        balanced = tf.concat(
            [
                g * tf.math.rsqrt(tf.reduce_sum(g * g, -1, keepdims=True) + GROUP_FLOOR**2 * n)
                for g, n in zip(groups, GROUP_SIZES.values(), strict=True)
            ],
            axis=-1,
        )
        embedding = tf.linalg.l2_normalize(tf.matmul(balanced, self.projection), axis=-1)
        return {"embedding": embedding}


def build_video_encoder(dim: int = DEFAULT_DIM, seed: int = DEFAULT_SEED) -> VideoEncoder:
    """The encoder for `dim` whose random rotation comes from `seed` (calibration is fixed)."""
    mean, spread = calibrate()
    return VideoEncoder(mean, spread, projection(dim, seed))
