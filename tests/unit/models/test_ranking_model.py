"""The ranking model, version 1: sigmoid(a * cos + b), a score in [0, 1] per candidate."""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from embed_models.ranking_model import OFFSET, SLOPE, RankingModel


def _unit(rng: np.random.Generator, *shape: int) -> np.ndarray:
    v = rng.standard_normal(shape).astype(np.float32)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _scores(model: RankingModel, user: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    return model.serve(tf.constant(user), tf.constant(candidates))["scores"].numpy()


def test_one_score_in_0_1_per_candidate(ranking: RankingModel) -> None:
    rng = np.random.default_rng(1)
    scores = _scores(ranking, _unit(rng, 3, 256), _unit(rng, 3, 500, 256))
    assert scores.shape == (3, 500)
    assert scores.dtype == np.float32
    assert ((scores >= 0) & (scores <= 1)).all()


def test_the_more_similar_candidate_scores_higher(ranking: RankingModel) -> None:
    rng = np.random.default_rng(2)
    user = _unit(rng, 1, 256)
    noise = _unit(rng, 1, 256)
    near = user + 0.3 * noise
    far = user + 1.5 * noise
    opposite = -user
    scores = _scores(ranking, user, np.stack([far, near, opposite], axis=1))[0]
    assert scores[1] > scores[0] > scores[2]


def test_calibration_is_the_documented_sigmoid(ranking: RankingModel) -> None:
    rng = np.random.default_rng(3)
    user = _unit(rng, 1, 256)
    orthogonal = _unit(rng, 1, 256)
    orthogonal -= (orthogonal @ user.T) * user
    candidates = np.stack([user[0] * 7.0, orthogonal[0], -user[0]])[None]  # norms do not matter
    scores = _scores(ranking, user, candidates)[0]
    sigmoid = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    expected = [sigmoid(SLOPE + OFFSET), sigmoid(OFFSET), sigmoid(-SLOPE + OFFSET)]
    np.testing.assert_allclose(scores, expected, atol=1e-5)


def test_a_user_without_history_gets_the_same_low_score_everywhere(ranking: RankingModel) -> None:
    rng = np.random.default_rng(4)
    scores = _scores(ranking, np.zeros((1, 256), np.float32), _unit(rng, 1, 20, 256))
    np.testing.assert_allclose(scores, 1 / (1 + math.exp(-OFFSET)), atol=1e-6)
