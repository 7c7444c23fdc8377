"""Predict through the real PredictionServiceStub: embeddings, versions, ranking scores."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from embed_models import RANKING_MODEL, VIDEO_ENCODER
from model_server.tensors import to_ndarray
from tests.support.scenes import FAMILIES, VARIANTS, family_clip

from .conftest import Stubs, predict_request

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _clip(frames: int = 10, batch: int = 1, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (batch, frames, 224, 224, 3), np.uint8)


async def test_ten_frames_give_one_unit_256_d_embedding(stubs: Stubs) -> None:
    request = predict_request(VIDEO_ENCODER, {"frames": _clip(10)})
    response = await stubs.prediction.Predict(request, timeout=10)
    embedding = to_ndarray(response.outputs["embedding"])
    assert embedding.shape == (1, 256) and embedding.dtype == np.float32
    assert abs(float(np.linalg.norm(embedding)) - 1.0) < 1e-5
    assert response.model_spec.name == VIDEO_ENCODER
    assert response.model_spec.version.value == 2  # the latest by default
    assert response.model_spec.signature_name == "serving_default"


async def test_a_hundred_frames_in_one_request(stubs: Stubs) -> None:
    """15 MB of frames: above gRPC's 4 MB default receive limit."""
    request = predict_request(VIDEO_ENCODER, {"frames": _clip(10, batch=10)})
    assert request.ByteSize() > 15_000_000
    response = await stubs.prediction.Predict(request, timeout=30)
    embedding = to_ndarray(response.outputs["embedding"])
    assert embedding.shape == (10, 256)
    np.testing.assert_allclose(np.linalg.norm(embedding, axis=1), 1.0, atol=1e-5)


async def test_versions_are_served_side_by_side(stubs: Stubs, model_base) -> None:  # type: ignore[no-untyped-def]
    clips = np.stack([family_clip(FAMILIES[i], VARIANTS[0]) for i in (0, 4)])
    outputs = {}
    for version in (1, 2):
        request = predict_request(VIDEO_ENCODER, {"frames": clips}, version=version)
        response = await stubs.prediction.Predict(request, timeout=30)
        assert response.model_spec.version.value == version
        outputs[version] = to_ndarray(response.outputs["embedding"])
    default = await stubs.prediction.Predict(
        predict_request(VIDEO_ENCODER, {"frames": clips}), timeout=30
    )
    stable = await stubs.prediction.Predict(
        predict_request(VIDEO_ENCODER, {"frames": clips}, label="stable"), timeout=30
    )
    np.testing.assert_array_equal(to_ndarray(default.outputs["embedding"]), outputs[2])
    np.testing.assert_array_equal(to_ndarray(stable.outputs["embedding"]), outputs[2])
    # Another rotation of the same statistics: other vectors, the same angles.
    assert not np.allclose(outputs[1], outputs[2], atol=1e-3)
    np.testing.assert_allclose(outputs[1] @ outputs[1].T, outputs[2] @ outputs[2].T, atol=1e-5)
    # Version 1 served is version 1 on disk.
    loaded = tf.saved_model.load(str(model_base / VIDEO_ENCODER / "1"))
    direct = loaded.signatures["serving_default"](frames=tf.constant(clips))["embedding"].numpy()
    np.testing.assert_allclose(outputs[1], direct, atol=1e-6)


async def test_ranking_scores_five_hundred_candidates(stubs: Stubs) -> None:
    rng = np.random.default_rng(5)
    user = rng.standard_normal((1, 256)).astype(np.float32)
    candidates = rng.standard_normal((1, 500, 256)).astype(np.float32)
    candidates[0, 0] = user[0]  # the user's own taste
    request = predict_request(
        RANKING_MODEL, {"user_embedding": user, "candidate_embeddings": candidates}
    )
    response = await stubs.prediction.Predict(request, timeout=10)
    scores = to_ndarray(response.outputs["scores"])
    assert scores.shape == (1, 500)
    assert ((scores >= 0) & (scores <= 1)).all()
    assert scores[0, 0] == scores.max() and scores[0, 0] > 0.9


async def test_output_filter(stubs: Stubs) -> None:
    request = predict_request(VIDEO_ENCODER, {"frames": _clip(2)})
    request.output_filter.append("embedding")
    response = await stubs.prediction.Predict(request, timeout=10)
    assert list(response.outputs) == ["embedding"]
