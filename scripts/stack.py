"""Runs the local reels mesh under supervisord: `up`, `down`, `status`."""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import grpc
from botocore.exceptions import BotoCoreError, ClientError
from grpc_health.v1 import health_pb2, health_pb2_grpc

from reels_runtime import localstack
from reels_runtime.config import Config, ConfigError
from reels_runtime.object_store import s3_client

REPO = Path(__file__).resolve().parent.parent
VAR = REPO / "var"
RUN = VAR / "run"
LOGS = VAR / "log"
CONF = RUN / "supervisord.conf"
SOCKET = RUN / "supervisor.sock"
PIDFILE = RUN / "supervisord.pid"
BIN = REPO / ".venv" / "bin"
UP_TIMEOUT_S = 90.0


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _port(address: str) -> int:
    return int(address.rpartition(":")[2])


@dataclass(frozen=True)
class Component:
    """One supervised program and how to tell that it is healthy."""

    name: str
    command: str
    kind: str  # "grpc", "http", "s3", "cdn" or "envoy": which health check applies
    address: str
    environment: tuple[tuple[str, str], ...] = ()


# Each service's gRPC address variable and its Prometheus port (SeaweedFS holds 9101).
SERVICES = (
    ("media_svc", "MEDIA_SVC_ADDR", 9461),
    ("stream_svc", "STREAM_SVC_ADDR", 9462),
    ("embed_svc", "EMBED_SVC_ADDR", 9463),
    ("ranking_svc", "RANKING_SVC_ADDR", 9464),
)


WORKER_METRICS_PORT = 9465
MODEL_SERVER_METRICS_PORT = 9466
# Exported by `make models` (python -m embed_models.export --out models); git-ignored.
MODEL_BASE = REPO / "models"


def components(config: Config) -> list[Component]:
    """The mesh as `make up` runs it; addresses come from the same variables as Config."""
    weed = localstack.seaweed_command(
        config.data_dir.resolve() / "seaweedfs",
        RUN / "s3-identities.json",
        config.s3_bucket_video,
        localstack.SeaweedPorts(s3=weed_port(config)),
    )
    s3_address = f"127.0.0.1:{weed_port(config)}"
    result = [Component("seaweedfs", shlex.join(weed), "s3", s3_address)]
    # The model server listens where TENSORFLOW_SERVING_URL points embed_svc; its health
    # turns SERVING once every model version is loaded and warmed up.
    model_address = config.tensorflow_serving_url
    model_host, _, model_port = model_address.rpartition(":")
    model_server = [
        f"{BIN}/python",
        "-m",
        "model_server",
        "--model-base",
        str(MODEL_BASE),
        "--host",
        model_host.strip("[]"),
        "--port",
        model_port,
        "--metrics-port",
        str(MODEL_SERVER_METRICS_PORT),
    ]
    result.append(Component("model_server", shlex.join(model_server), "grpc", model_address))
    # The CDN stand-in: a caching Envoy in front of SeaweedFS on CDN_URL's port. It can be
    # stopped on its own (`supervisorctl stop cdn`): stream_svc then redirects to the origin.
    cdn = urllib.parse.urlsplit(config.cdn_url)
    cdn_address = f"{cdn.hostname}:{cdn.port or 80}"
    cdn_command = shlex.join(localstack.envoy_command(RUN / "cdn.yaml"))
    result.append(Component("cdn", cdn_command, "cdn", cdn_address))
    for name, variable, metrics_port in SERVICES:
        address = getattr(config, variable.lower())
        environment = (
            ("SERVICE_NAME", name),
            ("GRPC_LISTEN", address),
            ("METRICS_PORT", str(metrics_port)),
        )
        result.append(Component(name, f"{BIN}/python -m {name}", "grpc", address, environment))
    # The transcode worker is its own process; its metrics endpoint doubles as liveness.
    worker_env = (("SERVICE_NAME", "media_worker"), ("METRICS_PORT", str(WORKER_METRICS_PORT)))
    worker = f"{BIN}/python -m media_svc.worker"
    result.append(
        Component("media_worker", worker, "http", f"127.0.0.1:{WORKER_METRICS_PORT}", worker_env)
    )
    envoy = shlex.join(localstack.envoy_command(RUN / "envoy.yaml"))
    gateway = f"127.0.0.1:{_env('GATEWAY_PORT', '8080')}"
    result.append(Component("envoy", envoy, "envoy", gateway))
    return result


def weed_port(config: Config) -> int:
    """The S3 port SeaweedFS serves, taken from S3_ENDPOINT_URL."""
    return urllib.parse.urlsplit(config.s3_endpoint_url).port or 8333


def _write_s3_identities(config: Config) -> None:
    localstack.write_s3_identities(
        RUN / "s3-identities.json", config.s3_access_key_id, config.s3_secret_access_key
    )


def _write_supervisor_conf(parts: list[Component]) -> None:
    lines = [
        "[supervisord]",
        f"logfile={LOGS}/supervisord.log",
        f"pidfile={PIDFILE}",
        f"directory={REPO}",
        "childlogdir=" + str(LOGS),
        "",
        "[unix_http_server]",
        f"file={SOCKET}",
        "chmod=0700",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{SOCKET}",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
    ]
    for part in parts:
        lines += [
            f"[program:{part.name}]",
            f"command={part.command}",
            f"directory={REPO}",
            "autorestart=true",
            "startsecs=1",
            "stopsignal=TERM",
            "stopwaitsecs=15",
            # Stop the whole process group, so nothing a component started outlives it.
            "stopasgroup=true",
            "killasgroup=true",
            f"stdout_logfile={LOGS}/{part.name}.log",
            "redirect_stderr=true",
        ]
        if part.environment:
            env = ",".join(f'{key}="{value}"' for key, value in part.environment)
            lines.append(f"environment={env}")
        lines.append("")
    CONF.write_text("\n".join(lines))


def _supervisorctl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "supervisorctl"), "-c", str(CONF), *args],
        check=check,
        capture_output=True,
        text=True,
    )


def _supervisord_pid() -> int | None:
    try:
        pid = int(PIDFILE.read_text().strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    return pid


def _program_pids() -> dict[str, int]:
    pids: dict[str, int] = {}
    for line in _supervisorctl("status", check=False).stdout.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[1] == "RUNNING" and fields[2] == "pid":
            pids[fields[0]] = int(fields[3].rstrip(","))
    return pids


def _http_status(url: str, timeout: float = 1.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def check_health(part: Component, config: Config) -> tuple[bool, str]:
    """Asks the component itself whether it serves, the way its clients would."""
    if part.kind == "grpc":
        try:
            with grpc.insecure_channel(part.address) as channel:
                reply = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=""), timeout=1.0
                )
        except grpc.RpcError as error:
            return False, f"health check failed: {error.code().name}"
        serving = reply.status == health_pb2.HealthCheckResponse.SERVING
        return serving, health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    if part.kind == "http":
        code = _http_status(f"http://{part.address}/metrics")
        return code == 200, f"metrics HTTP {code}"
    if part.kind == "cdn":
        code = _http_status(f"http://{part.address}/healthz")
        return code == 200, f"/healthz HTTP {code}"
    if part.kind == "s3":
        # A signed HEAD on the bucket: S3 answers and `weed mini -bucket` has created it.
        try:
            s3_client(config, timeout_s=1.0).head_bucket(Bucket=config.s3_bucket_video)
        except (BotoCoreError, ClientError) as error:
            return False, f"bucket {config.s3_bucket_video!r} not ready: {error}"
        return True, f"bucket {config.s3_bucket_video!r} ready"
    admin = _http_status(f"http://127.0.0.1:{_env('GATEWAY_ADMIN_PORT', '9901')}/ready")
    health = _http_status(f"http://{part.address}/health/video-processing")
    return admin == 200 and health == 200, f"admin /ready {admin}, video-processing {health}"


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def up(config: Config) -> int:
    for directory in (RUN, LOGS):
        directory.mkdir(parents=True, exist_ok=True)
    parts = components(config)
    _write_s3_identities(config)
    subprocess.run(
        [str(BIN / "python"), "-m", "reels_runtime.envoy_config", "--out", str(RUN / "envoy.yaml")],
        check=True,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        [str(BIN / "python"), "-m", "reels_runtime.cdn_config", "--out", str(RUN / "cdn.yaml")],
        check=True,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )
    _write_supervisor_conf(parts)
    if _supervisord_pid() is None:
        subprocess.run([str(BIN / "supervisord"), "-c", str(CONF)], check=True, cwd=REPO)
    else:
        _supervisorctl("update")
        _supervisorctl("start", "all", check=False)
    deadline = time.monotonic() + UP_TIMEOUT_S
    pending = {part.name: part for part in parts}
    while pending and time.monotonic() < deadline:
        for name, part in list(pending.items()):
            healthy, _ = check_health(part, config)
            if healthy:
                print(f"  {name:<12} healthy")
                del pending[name]
        time.sleep(0.5)
    if pending:
        for name, part in pending.items():
            detail = check_health(part, config)[1]
            print(f"  {name:<12} NOT healthy: {detail} (see var/log/{name}.log)")
        return 1
    gateway = next(part for part in parts if part.name == "envoy").address
    print(f"reels is up. Gateway: http://{gateway}   (make status, make token, make down)")
    return 0


def down(config: Config) -> int:
    pid = _supervisord_pid()
    if pid is None:
        print("reels is not running")
        return 0
    _supervisorctl("shutdown", check=False)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            print("reels stopped")
            return 0
        time.sleep(0.2)
    print(f"supervisord (pid {pid}) did not stop within 30 s", file=sys.stderr)
    return 1


def status(config: Config) -> int:
    if _supervisord_pid() is None:
        print("reels is not running (make up)")
        return 1
    pids = _program_pids()
    all_healthy = True
    print(f"{'component':<12} {'pid':>7} {'rss MiB':>8}  health")
    for part in components(config):
        pid = pids.get(part.name)
        healthy, detail = check_health(part, config) if pid else (False, "not running")
        all_healthy &= healthy
        rss = f"{_rss_mib(pid):8.1f}" if pid else f"{'-':>8}"
        state = "healthy" if healthy else "UNHEALTHY"
        print(f"{part.name:<12} {pid or '-':>7} {rss}  {state} ({detail})")
    return 0 if all_healthy else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status"])
    command = parser.parse_args().command
    try:
        config = Config.from_env(service_name="devstack")
    except ConfigError as error:
        sys.exit(f"configuration error: {error}")
    sys.exit({"up": up, "down": down, "status": status}[command](config))


if __name__ == "__main__":
    main()
