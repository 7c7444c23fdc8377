"""Renders envoy/envoy.yaml for a pod: the template's clusters are STATIC, so each
service's DNS name is resolved to its (stable) ClusterIP before the template is filled."""

import os
import socket
import sys
from pathlib import Path

from reels_runtime import envoy_config

environ = dict(os.environ)
for variable in ("MEDIA_SVC_ADDR", "STREAM_SVC_ADDR", "RANKING_SVC_ADDR"):
    host, _, port = environ[variable].rpartition(":")
    environ[variable] = f"{socket.gethostbyname(host)}:{port}"
out = Path(sys.argv[1])
out.write_text(envoy_config.render(envoy_config.gateway_values(environ)))
print(f"rendered {out}", file=sys.stderr)
