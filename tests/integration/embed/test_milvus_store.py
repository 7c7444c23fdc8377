"""The Milvus adapter on a real Milvus Lite file: created on first use, upsert replaces,
search filters by model version and publication, deletes and creator centroids."""

from __future__ import annotations

import numpy as np
import pytest

from embed_svc.adapters.milvus_store import MilvusStore
from embed_svc.domain.model import VideoVector

pytestmark = pytest.mark.asyncio(loop_scope="session")
DIM = 256


def _unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return v / np.linalg.norm(v)


async def test_upsert_search_and_filters(tmp_path) -> None:
    store = MilvusStore(str(tmp_path / "sub" / "milvus.db"), dimension=DIM)
    try:
        assert await store.get(["nothing"]) == {}  # the collection is created on first use
        rows = [
            VideoVector(f"v{i}", f"c{i % 2}", "video_encoder/1", _unit(i), published_at=100 + i)
            for i in range(10)
        ]
        rows.append(VideoVector("draft", "c0", "video_encoder/1", _unit(0), published_at=0))
        rows.append(VideoVector("other", "c0", "video_encoder/2", _unit(0), published_at=5))
        await store.upsert(rows)

        [hits] = await store.search(_unit(3)[np.newaxis], 5, "video_encoder/1")
        assert hits[0].id == "v3" and hits[0].score == pytest.approx(1.0, abs=1e-4)
        assert hits[0].creator_id == "c1"
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        [near_zero] = await store.search(_unit(0)[np.newaxis], 20, "video_encoder/1")
        ids = [h.id for h in near_zero]
        assert "draft" not in ids and "other" not in ids  # unpublished / another version
        [v2] = await store.search(_unit(0)[np.newaxis], 5, "video_encoder/2")
        assert [h.id for h in v2] == ["other"]

        # Several queries in one call (what the coalescer sends).
        many = await store.search(np.stack([_unit(1), _unit(2)]), 1, "video_encoder/1")
        assert [m[0].id for m in many] == ["v1", "v2"]

        # Re-embedding with a new version replaces the vector.
        await store.upsert([VideoVector("v3", "c1", "video_encoder/2", _unit(99), published_at=1)])
        got = (await store.get(["v3"]))["v3"]
        assert got.model_version == "video_encoder/2"
        assert float(got.vector @ _unit(99)) == pytest.approx(1.0, abs=1e-5)
        [after] = await store.search(_unit(3)[np.newaxis], 3, "video_encoder/1")
        assert "v3" not in [h.id for h in after]

        await store.delete("v1")
        assert "v1" not in await store.get(["v1", "v2"])
        assert {v.video_id for v in await store.by_creator("c1")} == {"v3", "v5", "v7", "v9"}

        await store.upsert_centroid("c0", _unit(0), "video_encoder/1", 5)
        await store.upsert_centroid("c1", _unit(5), "video_encoder/1", 3)
        creators = await store.search_creators(_unit(5), 2, "video_encoder/1")
        assert [c.id for c in creators] == ["c1", "c0"]
        await store.upsert_centroid("c1", None, "video_encoder/1", 0)
        assert [c.id for c in await store.search_creators(_unit(5), 2, "video_encoder/1")] == ["c0"]
    finally:
        await store.close()

    # Everything persists in the file: a new client (a restarted service) sees it.
    reopened = MilvusStore(str(tmp_path / "sub" / "milvus.db"), dimension=DIM)
    try:
        assert set(await reopened.get(["v2", "draft"])) == {"v2", "draft"}
    finally:
        await reopened.close()
