"""Coalesces concurrent searches into one multi-query call.

Milvus Lite makes a Python pass over every stored row on each search call, whatever the
number of query vectors: while one call runs, the searches that arrive wait and then go
together as a single call, so a burst of recalls pays that pass once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np

from embed_svc.domain.model import Scored

logger = logging.getLogger(__name__)

SearchMany = Callable[[np.ndarray, int, str], Awaitable[list[list[Scored]]]]


@dataclass
class _Pending:
    query: np.ndarray
    limit: int
    model_version: str
    future: asyncio.Future[list[Scored]]


class SearchCoalescer:
    """`await coalescer(query, limit, model_version)`: one search, batched with its peers."""

    def __init__(self, search_many: SearchMany, *, max_batch: int = 64) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._search_many = search_many
        self._max_batch = max_batch
        self._pending: list[_Pending] = []
        self._drainer: asyncio.Task[None] | None = None
        self.calls = 0  # search calls made (for tests and the benchmark)
        self.queries = 0  # queries answered through them

    async def __call__(self, query: np.ndarray, limit: int, model_version: str) -> list[Scored]:
        future: asyncio.Future[list[Scored]] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(query, limit, model_version, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        # A caller that gives up cancels its future; the drainer then skips it.
        return await future

    async def close(self) -> None:
        if self._drainer is not None:
            self._drainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drainer
        for pending in self._pending:
            pending.future.cancel()
        self._pending.clear()

    async def _drain(self) -> None:
        while True:
            self._pending = [p for p in self._pending if not p.future.done()]
            if not self._pending:
                return
            version = self._pending[0].model_version
            batch = [p for p in self._pending if p.model_version == version][: self._max_batch]
            taken = {id(p) for p in batch}
            self._pending = [p for p in self._pending if id(p) not in taken]
            limit = max(p.limit for p in batch)
            try:
                results = await self._search_many(
                    np.stack([p.query for p in batch]).astype(np.float32), limit, version
                )
            except asyncio.CancelledError:
                for pending in batch:
                    pending.future.cancel()
                raise
            except Exception as error:  # every waiter of the batch gets the failure
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(error)
                continue
            self.calls += 1
            self.queries += len(batch)
            for pending, hits in zip(batch, results, strict=True):
                if not pending.future.done():
                    pending.future.set_result(hits[: pending.limit])
