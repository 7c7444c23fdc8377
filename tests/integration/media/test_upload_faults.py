"""Uploads while the object store is really down: refused as UNAVAILABLE, nothing left behind."""

from __future__ import annotations

import grpc
import pytest
import pytest_asyncio
from reels.media.v1 import media_service_pb2 as media_pb2
from reels.media.v1 import media_service_pb2_grpc as media_grpc

from media_svc.settings import MediaSettings
from reels_runtime import localstack
from tests.conftest import SeaweedFS, _bucket_exists
from tests.support.processes import free_port, running, stop_group, wait_until
from tests.support.uploads import (
    Clips,
    media_service,
    new_user,
    quota_used,
    session_rows,
    spool_files,
    upload_requests,
    video_rows,
)

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.chaos]


def _port() -> int:
    # SeaweedFS also opens port + 10000 for gRPC: keep that below 65536.
    while (port := free_port()) > 55000:
        pass
    return port


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Clips:
    return Clips(tmp_path_factory.mktemp("clips"))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def own_store(config, tmp_path_factory):
    """A SeaweedFS of this module's own, so stopping it disturbs no other test."""
    directory = tmp_path_factory.mktemp("own-seaweedfs")
    ports = localstack.SeaweedPorts(
        s3=_port(), master=_port(), volume=_port(), filer=_port(), admin=_port()
    )
    store = SeaweedFS(
        f"http://127.0.0.1:{ports.s3}",
        config.s3_access_key_id,
        config.s3_secret_access_key,
        config.s3_bucket_video,
    )
    identities = localstack.write_s3_identities(
        directory / "identities.json", store.access_key, store.secret_key
    )
    command = localstack.seaweed_command(directory / "data", identities, store.bucket, ports)
    with running(command, directory / "seaweedfs.log") as process:
        wait_until(lambda: _bucket_exists(store), 30, "SeaweedFS S3 bucket")
        yield store, process


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stub_on_stopped_store(config, own_store, tmp_path_factory):
    store, process = own_store
    spool = str(tmp_path_factory.mktemp("spool"))
    settings = MediaSettings.from_env(config, {}).replace(upload_spool_dir=spool)
    async with media_service(config.replace(s3_endpoint_url=store.endpoint_url), settings) as srv:
        stop_group(process)  # the store is killed; the service does not know yet
        async with grpc.aio.insecure_channel(srv.target) as channel:
            yield media_grpc.MediaServiceStub(channel), spool


async def _assert_clean(config, database_url: str, creator: str, spool: str) -> None:
    assert video_rows(database_url, creator) == []
    assert session_rows(database_url, creator) == []
    assert spool_files(spool) == set()
    assert await quota_used(config, creator) == 0


async def test_a_stream_upload_fails_unavailable_and_leaves_nothing(
    stub_on_stopped_store, keys, clips, config, database_url
) -> None:
    stub, spool = stub_on_stopped_store
    creator = new_user()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.UploadVideo(
            upload_requests(clips.portrait().read_bytes()),
            metadata=keys.user_metadata(creator),
            timeout=60,
        )
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    assert "object store" in caught.value.details()
    await _assert_clean(config, database_url, creator, spool)


async def test_a_direct_upload_cannot_start_and_leaves_nothing(
    stub_on_stopped_store, keys, config, database_url
) -> None:
    stub, spool = stub_on_stopped_store
    creator = new_user()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CreateUploadSession(
            media_pb2.CreateUploadSessionRequest(
                title="t", content_type="video/mp4", size_bytes=1000
            ),
            metadata=keys.user_metadata(creator),
            timeout=60,
        )
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    await _assert_clean(config, database_url, creator, spool)
