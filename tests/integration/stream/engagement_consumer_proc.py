"""A stream_svc-like `video_events` consumer in a process of its own, for crash tests.

    python -m tests.integration.stream.engagement_consumer_proc --group G --name N \
        [--crash-after-commit] [--until-drained] [--start-id ID]

It opens the same engines as stream_svc (its own chDB path: one process per path) and
runs the engagement half's batch consumer. With --crash-after-commit it kills itself
with SIGKILL right after its first PostgreSQL commit, before acknowledging the batch —
the worst moment to die. With --until-drained it exits once its group has nothing left.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence

from reels_runtime.config import Config
from stream_svc.engagement_wiring import EngagementSettings, events_consumer
from stream_svc.wiring import open_shared


async def _main(args: argparse.Namespace) -> int:
    config = Config.from_env(service_name="stream-consumer-test")
    shared = await open_shared(config)

    async def crash(events: Sequence[str]) -> None:
        print(f"committed {len(events)}", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    consumer = events_consumer(
        config,
        shared,
        settings=EngagementSettings(events_batch=args.batch, events_claim_idle_ms=2000),
        name=args.name,
        group=args.group,
        after_commit=crash if args.crash_after_commit else None,
    )
    if args.start_id:
        await shared.bus.ensure_group("video_events", args.group, args.start_id)
    else:
        await shared.bus.ensure_group("video_events", args.group)
    print("ready", flush=True)
    if not args.until_drained:
        await consumer.run()
        return 0
    handled = 0
    while True:
        handled += await consumer.run_once()
        pending = await shared.bus.pending_count("video_events", args.group)
        lag = await shared.bus.lag("video_events", args.group)
        if pending == 0 and lag == 0:
            break
    print(f"drained {handled}", flush=True)
    for close in shared.closers:
        await close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--group", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--start-id", default="")
    parser.add_argument("--crash-after-commit", action="store_true")
    parser.add_argument("--until-drained", action="store_true")
    return asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
