"""`python -m embed_svc` runs the service until SIGTERM."""

from embed_svc.server import run

run()
