"""The encoder is content-sensitive: each clip is nearer to its own scene family than to any
other, through H.264 at several qualities, resizing, sensor noise and shifts in time."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from embed_models.video_encoder import VideoEncoder
from tests.support.scenes import FAMILIES, VARIANTS, family_clip

REQUIRED_MARGIN = 0.1


def test_same_family_is_nearer_than_any_other_family(encoder: VideoEncoder) -> None:
    clips = np.stack([family_clip(family, variant) for family in FAMILIES for variant in VARIANTS])
    assert clips.shape == (len(FAMILIES) * len(VARIANTS), 10, 224, 224, 3)
    embeddings = np.concatenate(
        [
            encoder.serve(tf.constant(clips[i : i + 8]))["embedding"].numpy()
            for i in range(0, len(clips), 8)
        ]
    )
    labels = np.repeat(np.arange(len(FAMILIES)), len(VARIANTS))
    cosine = embeddings @ embeddings.T
    same = labels[:, None] == labels[None, :]
    np.fill_diagonal(same, False)
    cross = labels[:, None] != labels[None, :]
    min_same, max_cross = cosine[same].min(), cosine[cross].max()
    margin = min_same - max_cross
    print(
        f"\ncontent margin {margin:.3f}: min same-family cosine {min_same:.3f}, "
        f"max cross-family cosine {max_cross:.3f}"
    )
    for index, family in enumerate(FAMILIES):
        own = cosine[np.ix_(labels == index, labels == index)][~np.eye(len(VARIANTS), dtype=bool)]
        other = cosine[np.ix_(labels == index, labels != index)]
        print(f"  {family.name:<13} same >= {own.min():.3f}   others <= {other.max():.3f}")
    assert margin >= REQUIRED_MARGIN


def test_the_hard_pairs_are_really_hard() -> None:
    """The texture pair shares its mean colour and the motion pair its pictures."""
    fine, flat = (
        next(f for f in FAMILIES if f.name == n) for n in ("foliage_fine", "foliage_flat")
    )
    still, pan = (next(f for f in FAMILIES if f.name == n) for n in ("city_still", "city_pan"))
    variant = VARIANTS[0]
    fine_clip, flat_clip = family_clip(fine, variant), family_clip(flat, variant)
    colour_gap = np.abs(fine_clip.mean(axis=(0, 1, 2)) - flat_clip.mean(axis=(0, 1, 2)))
    assert colour_gap.max() < 3.0  # of 255: the same mean colour
    still_clip, pan_clip = family_clip(still, variant), family_clip(pan, variant)
    assert abs(still_clip.mean() - pan_clip.mean()) < 3.0
    # Only the pan moves.
    assert np.abs(np.diff(still_clip.astype(float), axis=0)).mean() < 1.0
    assert np.abs(np.diff(pan_clip.astype(float), axis=0)).mean() > 5.0
