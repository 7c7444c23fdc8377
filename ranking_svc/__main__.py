"""`python -m ranking_svc` runs the service until SIGTERM."""

from ranking_svc.server import run

run()
