"""The video encoder's contract: shape, unit norm, determinism, batching, strict input."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from embed_models.features import FEATURE_COUNT
from embed_models.video_encoder import VideoEncoder, build_video_encoder, projection


def _clips(batch: int, frames: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (batch, frames, 224, 224, 3), np.uint8)


def _embed(encoder: VideoEncoder, clips: np.ndarray) -> np.ndarray:
    return encoder.serve(tf.constant(clips))["embedding"].numpy()


def test_embedding_is_256_d_float32_with_unit_norm(encoder: VideoEncoder) -> None:
    embedding = encoder.serve(tf.constant(_clips(3, 10)))["embedding"]
    assert embedding.dtype == tf.float32
    assert embedding.shape == (3, 256)
    np.testing.assert_allclose(np.linalg.norm(embedding.numpy(), axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("frames", [1, 2, 64])
def test_any_frame_count_from_one_to_the_limit(encoder: VideoEncoder, frames: int) -> None:
    embedding = _embed(encoder, _clips(1, frames))
    assert embedding.shape == (1, 256)
    assert np.isfinite(embedding).all()
    np.testing.assert_allclose(np.linalg.norm(embedding), 1.0, atol=1e-5)


def test_flat_black_and_white_clips_are_still_unit_vectors(encoder: VideoEncoder) -> None:
    flat = np.zeros((2, 10, 224, 224, 3), np.uint8)
    flat[1] = 255
    embedding = _embed(encoder, flat)
    assert np.isfinite(embedding).all()
    np.testing.assert_allclose(np.linalg.norm(embedding, axis=1), 1.0, atol=1e-5)


def test_same_input_same_output_and_batching_changes_nothing(encoder: VideoEncoder) -> None:
    clips = _clips(4, 10, seed=3)
    first, second = _embed(encoder, clips), _embed(encoder, clips)
    np.testing.assert_array_equal(first, second)
    alone = np.concatenate([_embed(encoder, clips[i : i + 1]) for i in range(4)])
    np.testing.assert_allclose(alone, first, atol=1e-5)


def test_512_d_variant() -> None:
    embedding = _embed(build_video_encoder(dim=512), _clips(2, 4))
    assert embedding.shape == (2, 512)
    np.testing.assert_allclose(np.linalg.norm(embedding, axis=1), 1.0, atol=1e-5)


def test_another_seed_rotates_the_space_but_keeps_every_angle(encoder: VideoEncoder) -> None:
    clips = _clips(5, 6, seed=9)
    rotated = build_video_encoder(seed=7)
    a, b = _embed(encoder, clips), _embed(rotated, clips)
    assert not np.allclose(a, b, atol=1e-3)
    np.testing.assert_allclose(a @ a.T, b @ b.T, atol=1e-5)


def test_projection_has_orthonormal_rows() -> None:
    rotation = projection(256, 123)
    assert rotation.shape == (FEATURE_COUNT, 256)
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(FEATURE_COUNT), atol=1e-10)
    np.testing.assert_array_equal(rotation, projection(256, 123))


def test_only_224_by_224_rgb_uint8_is_accepted(encoder: VideoEncoder) -> None:
    """The signature is strict; callers resize with embed_models.frames.model_frames."""
    with pytest.raises((TypeError, ValueError)):
        encoder.serve(tf.zeros([1, 2, 112, 112, 3], tf.uint8))
    with pytest.raises((TypeError, ValueError)):
        encoder.serve(tf.zeros([1, 2, 224, 224, 3], tf.float32))
