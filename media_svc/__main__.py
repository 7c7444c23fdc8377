"""`python -m media_svc` runs the media service until SIGTERM."""

from media_svc.server import run

run()
