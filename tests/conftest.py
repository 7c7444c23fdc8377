"""Session-wide real infrastructure for the service tests: a fresh PostgreSQL database,
a Redis database, signing keys, the services on port 0, SeaweedFS and Envoy."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import pytest_asyncio
import redis
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from reels_runtime import localstack
from reels_runtime.auth import PLAYBACK_KEY_FILE, TokenSigner, generate_dev_keys
from reels_runtime.config import Config
from reels_runtime.db import create_database_if_missing, drop_database_if_exists
from reels_runtime.envoy_config import gateway_values, render
from reels_runtime.migrate import migrate_postgres
from reels_runtime.server import ReelsServer
from tests.support.model_server import ModelServerProcess, export_models
from tests.support.processes import free_port, http_status, refusing_port, running, wait_until

BASE_DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL",
    os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/reels"),
)
# Tests use their own Redis database so they never touch a running `make up` stack's data.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@dataclass(frozen=True)
class Keys:
    private_key_path: Path
    jwks_path: Path
    signer: TokenSigner
    # The Ed25519 key ranking_svc signs playback tokens with (`playback_signer` mints them).
    playback_key_path: Path
    playback_signer: TokenSigner

    def user_metadata(self, user_id: str, **claims: object) -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {self.signer.mint_user(user_id, **claims)}")]

    def user_headers(self, user_id: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.signer.mint_user(user_id)}"}


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    private_path, jwks_path = generate_dev_keys(
        tmp_path_factory.mktemp("keys"), "reels-test-1", playback_kid="reels-test-playback-1"
    )
    signer = TokenSigner.from_pem_file(private_path, "reels-test-1", "reels-local", "reels")
    playback_path = private_path.parent / PLAYBACK_KEY_FILE
    playback = TokenSigner.from_pem_file(
        playback_path, "reels-test-playback-1", "reels-local", "reels"
    )
    return Keys(private_path, jwks_path, signer, playback_path, playback)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A throwaway database with every PostgreSQL migration applied."""
    base, _, _ = BASE_DATABASE_URL.rpartition("/")
    url = f"{base}/reels_test_{uuid.uuid4().hex[:12]}"
    create_database_if_missing(url)
    try:
        migrate_postgres(url)
        yield url
    finally:
        drop_database_if_exists(url)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@dataclass(frozen=True)
class SeaweedFS:
    endpoint_url: str
    access_key: str
    secret_key: str
    bucket: str


@pytest.fixture(scope="session")
def seaweedfs(data_dir: Path) -> Iterator[SeaweedFS]:
    """A real S3 server (weed mini) on free loopback ports, stopped by its pid afterwards."""
    ports = localstack.SeaweedPorts(
        s3=free_port(), master=free_port(), volume=free_port(), filer=free_port(), admin=free_port()
    )
    store = SeaweedFS(f"http://127.0.0.1:{ports.s3}", "reels-test", "reels-test-secret", "videos")
    identities = localstack.write_s3_identities(
        data_dir / "s3-identities.json", store.access_key, store.secret_key
    )
    command = localstack.seaweed_command(data_dir / "seaweedfs", identities, store.bucket, ports)
    with running(command, data_dir / "seaweedfs.log"):
        wait_until(lambda: _bucket_exists(store), 30, "SeaweedFS S3 bucket")
        yield store


def _bucket_exists(store: SeaweedFS) -> bool:
    # weed mini creates the bucket a moment after S3 answers: wait for the bucket itself.
    client = boto3.client(
        "s3",
        endpoint_url=store.endpoint_url,
        aws_access_key_id=store.access_key,
        aws_secret_access_key=store.secret_key,
        region_name="us-east-1",
        config=BotoConfig(connect_timeout=1, read_timeout=1, retries={"max_attempts": 1}),
    )
    try:
        client.head_bucket(Bucket=store.bucket)
    except (BotoCoreError, ClientError):
        return False
    return True


@pytest.fixture(scope="session")
def redis_namespace() -> Iterator[str]:
    """This session's own Redis namespace (keys and event streams), removed afterwards."""
    namespace = f"reels-test-{uuid.uuid4().hex[:10]}"
    yield namespace
    client = redis.Redis.from_url(TEST_REDIS_URL)
    try:
        for key in client.scan_iter(match=f"{namespace}:*", count=500):
            client.delete(key)
    finally:
        client.close()


@pytest.fixture(scope="session")
def service_environ(
    keys: Keys, database_url: str, data_dir: Path, seaweedfs: SeaweedFS, redis_namespace: str
) -> dict[str, str]:
    """The environment every service of the test session starts from (in or out of process)."""
    return {
        "SERVICE_NAME": "tests",
        "DATABASE_URL": database_url,
        "REDIS_URL": TEST_REDIS_URL,
        "REDIS_NAMESPACE": redis_namespace,
        "REELS_DATA_DIR": str(data_dir),
        "JWT_JWKS_PATH": str(keys.jwks_path),
        "JWT_PRIVATE_KEY_PATH": str(keys.private_key_path),
        "JWT_KEY_ID": "reels-test-1",
        "JWT_PLAYBACK_KEY_PATH": str(keys.playback_key_path),
        "JWT_PLAYBACK_KEY_ID": "reels-test-playback-1",
        "S3_ENDPOINT_URL": seaweedfs.endpoint_url,
        "S3_ACCESS_KEY_ID": seaweedfs.access_key,
        "S3_SECRET_ACCESS_KEY": seaweedfs.secret_key,
        "S3_BUCKET_VIDEO": seaweedfs.bucket,
        # Nothing listens here: the CDN stand-in is not part of these tests.
        "CDN_URL": f"http://127.0.0.1:{free_port()}",
        # Unless a test points them at a server it started, peers refuse at once: never a
        # `make up` stack's port, nor one that a process started (or paused) later took over.
        "MEDIA_SVC_ADDR": f"127.0.0.1:{refusing_port()}",
        "STREAM_SVC_ADDR": f"127.0.0.1:{refusing_port()}",
        "EMBED_SVC_ADDR": f"127.0.0.1:{refusing_port()}",
        "RANKING_SVC_ADDR": f"127.0.0.1:{refusing_port()}",
        "GRPC_LISTEN": "127.0.0.1:0",
        "METRICS_PORT": "0",
    }


@pytest.fixture(scope="session")
def config(service_environ: dict[str, str]) -> Config:
    """The configuration every in-process service of the test session starts from."""
    return Config.from_env(service_environ)


async def _started(server: ReelsServer) -> ReelsServer:
    await server.start()
    return server


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def media_server(config: Config) -> AsyncIterator[ReelsServer]:
    from media_svc.server import create_server

    server = await _started(await create_server(config.replace(service_name="media_svc")))
    yield server
    await server.stop(grace=1)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def stream_server(config: Config) -> AsyncIterator[ReelsServer]:
    from stream_svc.server import create_server

    server = await _started(await create_server(config.replace(service_name="stream_svc")))
    yield server
    await server.stop(grace=1)


@pytest.fixture(scope="module")
def cdn(config: Config, seaweedfs: SeaweedFS, tmp_path_factory: pytest.TempPathFactory):
    """The CDN stand-in (a caching Envoy) in front of the test SeaweedFS, one per module."""
    from tests.support.playback import cdn_standin

    with cdn_standin(config.cdn_url, seaweedfs.endpoint_url, tmp_path_factory.mktemp("cdn")) as c:
        yield c


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def clip(media_server, stream_server, keys, service_environ, tmp_path_factory):
    """A clip uploaded, transcoded, published and playable, one per module."""
    from tests.support.playback import publish_clip, wait_playable

    published = await publish_clip(
        media_server.target, keys, service_environ, tmp_path_factory.mktemp("clip")
    )
    await wait_playable(stream_server.target, keys, published.video_id)
    return published


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def ranking_server(config: Config, stream_server: ReelsServer) -> AsyncIterator[ReelsServer]:
    """ranking_svc in front of the in-process stream_svc; embed_svc stays wherever
    EMBED_SVC_ADDR points (nothing, unless a test starts one): the feed falls back to rules.

    Its PostgreSQL and stream_svc sources get generous deadlines
    (tests/support/ranking_settings.py)."""
    from ranking_svc.server import create_server
    from ranking_svc.settings import RankingSettings
    from tests.support.ranking_settings import with_generous_unfaulted_sources

    ranking_config = config.replace(
        service_name="ranking_svc", stream_svc_addr=stream_server.target
    )
    settings = with_generous_unfaulted_sources(RankingSettings.from_env())
    server = await _started(await create_server(ranking_config, settings))
    yield server
    await server.stop(grace=1)


# --- models, the model server and embed_svc (issue 5) ------------------------------------


@pytest.fixture(scope="session")
def exported_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """video_encoder/1 and ranking_model/1 (256-d), exported once per session as `make models`
    does, in a process of its own (this one stays free of TensorFlow's state)."""
    base = tmp_path_factory.mktemp("models")
    return export_models(base, base.parent / f"{base.name}-export.log")


@pytest.fixture(scope="session")
def model_server(
    exported_models: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ModelServerProcess]:
    """The model server as a separate process (`.address`, `.pid`); a test may `stop()`,
    `start()`, `restart()`, `pause()` (SIGSTOP) or `resume()` it, or use `with
    model_server.stopped():` / `with model_server.paused():`, which restore it afterwards."""
    server = ModelServerProcess(exported_models, tmp_path_factory.mktemp("model-server"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def embed_server(
    config: Config,
    stream_server: ReelsServer,
    model_server: ModelServerProcess,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[ReelsServer]:
    """embed_svc in-process on port 0, over the model server above, a Milvus Lite file of its
    own and the session's stream_svc (watch history, ClickHouse mirror)."""
    from embed_svc.server import create_server
    from embed_svc.settings import EmbedSettings

    milvus = tmp_path_factory.mktemp("milvus") / "milvus.db"
    embed_config = config.replace(
        service_name="embed_svc",
        tensorflow_serving_url=model_server.address,
        milvus_uri=str(milvus),
        stream_svc_addr=stream_server.target,
    )
    # Short waits, so refreshes and mirrors happen within a test's time.
    settings = EmbedSettings(user_refresh_delay_s=0.3, mirror_interval_s=0.2)
    server = await _started(await create_server(embed_config, settings))
    yield server
    await server.stop(grace=1)


@dataclass(frozen=True)
class Gateway:
    url: str
    address: str
    admin_url: str
    config_path: Path


def gateway_config(
    keys: Keys, out: Path, media: str, stream: str, ranking: str
) -> tuple[Path, int, int]:
    """Renders envoy/envoy.yaml for these upstreams on free ports."""
    port, admin_port = free_port(), free_port()
    values = gateway_values(
        {
            "GATEWAY_PORT": str(port),
            "GATEWAY_ADMIN_PORT": str(admin_port),
            "JWT_JWKS_PATH": str(keys.jwks_path),
            "MEDIA_SVC_ADDR": media,
            "STREAM_SVC_ADDR": stream,
            "RANKING_SVC_ADDR": ranking,
        }
    )
    out.write_text(render(values))
    return out, port, admin_port


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def gateway(
    keys: Keys,
    data_dir: Path,
    media_server: ReelsServer,
    stream_server: ReelsServer,
    ranking_server: ReelsServer,
) -> AsyncIterator[Gateway]:
    """A real Envoy in front of the in-process services."""
    path, port, admin_port = gateway_config(
        keys,
        data_dir / "envoy.yaml",
        media_server.target,
        stream_server.target,
        ranking_server.target,
    )
    admin_url = f"http://127.0.0.1:{admin_port}"
    with running(localstack.envoy_command(path), data_dir / "envoy.log"):
        wait_until(lambda: http_status(f"{admin_url}/ready") == 200, 30, "Envoy")
        yield Gateway(f"http://127.0.0.1:{port}", f"127.0.0.1:{port}", admin_url, path)
