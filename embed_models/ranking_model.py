"""The ranking model, version 1: a calibrated cosine similarity, sigmoid(a * cos + b).

a = 6 and b = -3 put cos 0.5 (a clip of the family the user watches, against a user
vector averaged over several families) at 0.5, cos 1 at 0.95 and unrelated content
(cos <= 0) at 0.05 or less; a user with no history (a zero vector) scores 0.047 for
everything. Later versions are meant to be trained from logged events with the same
signature.
"""

from __future__ import annotations

import tensorflow as tf

from embed_models import DEFAULT_DIM

SLOPE = 6.0
OFFSET = -3.0


class RankingModel(tf.Module):
    """user_embedding [batch, dim] + candidate_embeddings [batch, n, dim] -> scores [batch, n]."""

    def __init__(self, dim: int = DEFAULT_DIM, slope: float = SLOPE, offset: float = OFFSET):
        super().__init__(name="ranking_model")
        self.dim = dim
        self.slope = tf.Variable(slope, dtype=tf.float32, trainable=False)
        self.offset = tf.Variable(offset, dtype=tf.float32, trainable=False)
        self.serve = tf.function(
            self._serve,
            input_signature=[
                tf.TensorSpec([None, dim], tf.float32, name="user_embedding"),
                tf.TensorSpec([None, None, dim], tf.float32, name="candidate_embeddings"),
            ],
        )

    def _serve(
        self, user_embedding: tf.Tensor, candidate_embeddings: tf.Tensor
    ) -> dict[str, tf.Tensor]:
        user = tf.linalg.l2_normalize(user_embedding, axis=-1)
        candidates = tf.linalg.l2_normalize(candidate_embeddings, axis=-1)
        cosine = tf.einsum("bd,bnd->bn", user, candidates)
        return {"scores": tf.sigmoid(self.slope * cosine + self.offset)}
