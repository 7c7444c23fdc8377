"""`python -m stream_svc` runs the service until SIGTERM."""

from stream_svc.server import run

run()
