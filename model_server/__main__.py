"""`python -m model_server --model-base models --port 8500`."""

import os

# Before TensorFlow is imported: its C++ start-up chatter is not our log.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from model_server.server import main

main()
