"""Exports the SavedModels in TensorFlow Serving's layout: `<out>/<model>/<version>/`.

    python -m embed_models.export --out models --dim 256 [--seed N] [--version 1]
                                  [--model video_encoder --model ranking_model]

Reproducible: the same arguments give models with the same outputs, export after export
(fixed seeds, no downloaded weights). Each version directory is written beside its final
place and renamed into it, so a server watching the directory never sees half a model.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from embed_models import (
    DEFAULT_DIM,
    DEFAULT_SEED,
    DIMS,
    MAX_CANDIDATES,
    MAX_FRAMES,
    RANKING_MODEL,
    VIDEO_ENCODER,
)

logger = logging.getLogger(__name__)

MODELS = (VIDEO_ENCODER, RANKING_MODEL)
# Read by model_server for limits beyond the signature's shapes; TensorFlow Serving ignores
# assets.extra/ (apart from its warm-up file), so the directory stays servable as it is.
LIMITS_FILE = "assets.extra/reels_limits.json"
# Per input: axis -> [smallest, largest] size accepted (the batch axis is the server's).
LIMITS = {
    VIDEO_ENCODER: {"frames": {"1": [1, MAX_FRAMES]}},
    RANKING_MODEL: {"candidate_embeddings": {"1": [1, MAX_CANDIDATES]}},
}


def configure_tensorflow() -> None:
    """Quiet logs and two intra/inter-op threads (call before TensorFlow runs anything)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.get_logger().setLevel(logging.ERROR)  # "Assets written to ..." for every model
    try:
        # Two cores here; and a fixed thread count keeps float reductions in a fixed order.
        tf.config.threading.set_intra_op_parallelism_threads(2)
        tf.config.threading.set_inter_op_parallelism_threads(2)
    except RuntimeError:
        logger.debug("TensorFlow already initialised in this process; threads unchanged")


def _build(name: str, dim: int, seed: int):  # type: ignore[no-untyped-def]
    if name == VIDEO_ENCODER:
        from embed_models.video_encoder import build_video_encoder

        return build_video_encoder(dim, seed)
    if name == RANKING_MODEL:
        from embed_models.ranking_model import RankingModel

        return RankingModel(dim)
    raise ValueError(f"unknown model {name!r} (known: {', '.join(MODELS)})")


def export_model(out: Path, name: str, *, dim: int, seed: int, version: int) -> Path:
    """Writes `out/name/version/` (replacing an existing one) and returns its path."""
    import tensorflow as tf

    if version < 1:
        raise ValueError("version must be a positive integer")
    module = _build(name, dim, seed)
    model_dir = out / name
    model_dir.mkdir(parents=True, exist_ok=True)
    final = model_dir / str(version)
    # Not a number, so TensorFlow Serving (and model_server) ignore it while it is written.
    staging = Path(tempfile.mkdtemp(prefix=f".{version}.staging-", dir=model_dir))
    try:
        tf.saved_model.save(
            module,
            str(staging),
            signatures={"serving_default": module.serve.get_concrete_function()},
        )
        limits = staging / LIMITS_FILE
        limits.parent.mkdir(parents=True, exist_ok=True)
        limits.write_text(json.dumps(LIMITS[name], indent=2, sort_keys=True) + "\n")
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    logger.info("exported %s", final, extra={"model": name, "version": version, "dim": dim})
    return final


def export_models(
    out: Path,
    *,
    dim: int = DEFAULT_DIM,
    seed: int = DEFAULT_SEED,
    version: int = 1,
    models: Sequence[str] = MODELS,
) -> list[Path]:
    """Exports each of `models` as `version`; returns the version directories."""
    configure_tensorflow()
    return [export_model(out, name, dim=dim, seed=seed, version=version) for name in models]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Export the reels SavedModels.")
    parser.add_argument("--out", type=Path, default=Path("models"), help="model base path")
    parser.add_argument("--dim", type=int, default=DEFAULT_DIM, choices=DIMS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="projection seed")
    parser.add_argument("--version", type=int, default=1)
    parser.add_argument(
        "--model", action="append", choices=MODELS, help="repeatable; default: all models"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("absl").setLevel(logging.WARNING)  # SavedModel writer's chatter
    try:
        paths = export_models(
            args.out,
            dim=args.dim,
            seed=args.seed,
            version=args.version,
            models=args.model or MODELS,
        )
    except ValueError as error:
        sys.exit(f"export failed: {error}")
    for path in paths:
        print(path)


if __name__ == "__main__":
    main()
