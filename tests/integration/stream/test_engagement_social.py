"""Likes, shares and comments over gRPC against the real stores and event bus."""

from __future__ import annotations

import uuid

import grpc
import pytest
from redis.asyncio import Redis
from reels.common.v1 import events_pb2
from reels.stream.v1 import stream_service_pb2 as pb
from reels.stream.v1 import stream_service_pb2_grpc as stream_grpc

from tests.integration.stream.engagement_support import (
    delete_video,
    engagement,
    eventually,
    new_id,
    publish_video,
    user_auth,
    wait_published,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def stub(stream_server):
    async with grpc.aio.insecure_channel(stream_server.target) as channel:
        yield stream_grpc.StreamServiceStub(channel)


@pytest.fixture
async def video(stub, keys, config) -> tuple[str, str]:
    creator = new_id("creator")
    video_id = await publish_video(config, creator, title="social")
    await wait_published(stub, keys, video_id)
    return video_id, creator


async def _events_of(config, topic: str, message_type, video_id: str, count: int) -> list:
    """The video's events on the topic, once `count` are there: stream_svc's outbox relay
    publishes them moments after the RPC."""

    async def probe() -> list:
        redis = Redis.from_url(config.redis_url)
        try:
            entries = await redis.xrange(f"{config.event_stream_prefix}{topic}")
        finally:
            await redis.aclose()
        messages = [message_type.FromString(fields[b"payload"]) for _, fields in entries]
        return [m for m in messages if m.video_id == video_id]

    return await eventually(probe, lambda found: len(found) >= count, within=10)


async def test_liking_twice_counts_once_and_publishes_once(stub, keys, config, video) -> None:
    video_id, creator = video
    alice, bob = new_id("alice"), new_id("bob")
    first = await stub.LikeVideo(
        pb.LikeVideoRequest(video_id=video_id), metadata=user_auth(keys, alice), timeout=5
    )
    again = await stub.LikeVideo(
        pb.LikeVideoRequest(video_id=video_id), metadata=user_auth(keys, alice), timeout=5
    )
    assert first.liked and again.liked
    assert first.counters.like_count == again.counters.like_count == 1
    other = await stub.LikeVideo(
        pb.LikeVideoRequest(video_id=video_id), metadata=user_auth(keys, bob), timeout=5
    )
    assert other.counters.like_count == 2
    liked = await _events_of(config, "video.liked", events_pb2.VideoLikedEvent, video_id, 2)
    assert sorted((e.user_id, e.like_count) for e in liked) == sorted([(alice, 1), (bob, 2)])
    assert all(e.creator_id == creator for e in liked)

    gone = await stub.UnlikeVideo(
        pb.UnlikeVideoRequest(video_id=video_id), metadata=user_auth(keys, alice), timeout=5
    )
    gone_again = await stub.UnlikeVideo(
        pb.UnlikeVideoRequest(video_id=video_id), metadata=user_auth(keys, alice), timeout=5
    )
    assert not gone.liked
    assert gone.counters.like_count == gone_again.counters.like_count == 1
    unliked = await _events_of(config, "video.unliked", events_pb2.VideoUnlikedEvent, video_id, 1)
    assert [(e.user_id, e.like_count) for e in unliked] == [(alice, 1)]
    found = await engagement(stub, keys, video_id)
    assert found.counters.like_count == 1


async def test_share_validates_the_platform_and_counts(stub, keys, config, video) -> None:
    video_id, _ = video
    user = new_id("sharer")
    for bad in ("", "Not A Platform", "x" * 33, "what's-app"):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.ShareVideo(
                pb.ShareVideoRequest(video_id=video_id, platform=bad),
                metadata=user_auth(keys, user),
                timeout=5,
            )
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT, bad
    one = await stub.ShareVideo(
        pb.ShareVideoRequest(video_id=video_id, platform="whatsapp"),
        metadata=user_auth(keys, user),
        timeout=5,
    )
    two = await stub.ShareVideo(
        pb.ShareVideoRequest(video_id=video_id, platform="Copy_Link"),
        metadata=user_auth(keys, user),
        timeout=5,
    )
    assert (one.counters.share_count, two.counters.share_count) == (1, 2)
    shared = await _events_of(config, "video.shared", events_pb2.VideoSharedEvent, video_id, 2)
    assert sorted(e.platform for e in shared) == ["copy_link", "whatsapp"]


async def test_unknown_deleted_and_malformed_videos(stub, keys, config, video) -> None:
    video_id, creator = video
    auth = user_auth(keys, new_id("user"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.LikeVideo(pb.LikeVideoRequest(video_id=str(uuid.uuid4())), metadata=auth)
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.LikeVideo(pb.LikeVideoRequest(video_id="not-a-uuid"), metadata=auth)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT

    await delete_video(config, video_id, creator)
    await eventually(lambda: engagement(stub, keys, video_id), lambda e: e is None)
    for call in (
        stub.LikeVideo(pb.LikeVideoRequest(video_id=video_id), metadata=auth),
        stub.CreateComment(pb.CreateCommentRequest(video_id=video_id, text="hi"), metadata=auth),
        stub.ListComments(pb.ListCommentsRequest(video_id=video_id), metadata=auth),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() is grpc.StatusCode.NOT_FOUND


async def test_comments_are_validated_and_paginated_newest_first(stub, keys, config, video) -> None:
    video_id, _ = video
    author = new_id("author")
    auth = user_auth(keys, author)
    for bad in ("", "   ", "x" * 501):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.CreateComment(
                pb.CreateCommentRequest(video_id=video_id, text=bad), metadata=auth
            )
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    created = []
    for i in range(7):
        reply = await stub.CreateComment(
            pb.CreateCommentRequest(video_id=video_id, text=f"  comment {i}  "), metadata=auth
        )
        created.append(reply.comment.comment_id)
        assert reply.comment.text == f"comment {i}"
        assert reply.comment.author_id == author
        assert reply.counters.comment_count == i + 1
    long_ok = await stub.CreateComment(
        pb.CreateCommentRequest(video_id=video_id, text="y" * 500), metadata=auth
    )
    created.append(long_ok.comment.comment_id)

    seen, token, pages = [], "", 0
    while True:
        page = await stub.ListComments(
            pb.ListCommentsRequest(video_id=video_id, page_size=3, page_token=token),
            metadata=user_auth(keys, new_id("reader")),
        )
        pages += 1
        seen += [c.comment_id for c in page.comments]
        token = page.next_page_token
        if not token:
            break
    assert pages == 3
    assert seen == list(reversed(created))

    commented = await _events_of(
        config, "video.commented", events_pb2.VideoCommentedEvent, video_id, len(created)
    )
    assert sorted(e.comment_id for e in commented) == sorted(created)


@pytest.mark.security
async def test_page_tokens_are_checked(stub, keys, config, video) -> None:
    video_id, _ = video
    auth = user_auth(keys, new_id("reader"))
    for _ in range(3):
        await stub.CreateComment(
            pb.CreateCommentRequest(video_id=video_id, text="a"), metadata=auth
        )
    page = await stub.ListComments(
        pb.ListCommentsRequest(video_id=video_id, page_size=1), metadata=auth
    )
    assert page.next_page_token
    other = await publish_video(config, new_id("creator"))
    await wait_published(stub, keys, other)
    for request in (
        pb.ListCommentsRequest(video_id=video_id, page_token="garbage!"),
        pb.ListCommentsRequest(video_id=other, page_token=page.next_page_token),
        pb.ListCommentsRequest(video_id=video_id, page_size=-1),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.ListComments(request, metadata=auth)
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.security
async def test_only_the_author_deletes_a_comment(stub, keys, video) -> None:
    video_id, creator = video
    author, mallory = new_id("author"), new_id("mallory")
    created = await stub.CreateComment(
        pb.CreateCommentRequest(video_id=video_id, text="mine"), metadata=user_auth(keys, author)
    )
    request = pb.DeleteCommentRequest(video_id=video_id, comment_id=created.comment.comment_id)
    for intruder in (mallory, creator):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.DeleteComment(request, metadata=user_auth(keys, intruder))
        assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
    first = await stub.DeleteComment(request, metadata=user_auth(keys, author))
    again = await stub.DeleteComment(request, metadata=user_auth(keys, author))
    assert first.counters.comment_count == again.counters.comment_count == 0
    listed = await stub.ListComments(
        pb.ListCommentsRequest(video_id=video_id), metadata=user_auth(keys, author)
    )
    assert list(listed.comments) == []
    for bad in (
        pb.DeleteCommentRequest(video_id=video_id, comment_id=str(uuid.uuid4())),
        pb.DeleteCommentRequest(video_id=str(uuid.uuid4()), comment_id=request.comment_id),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.DeleteComment(bad, metadata=user_auth(keys, author))
        assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.DeleteComment(
            pb.DeleteCommentRequest(video_id=video_id, comment_id="nope"),
            metadata=user_auth(keys, author),
        )
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
