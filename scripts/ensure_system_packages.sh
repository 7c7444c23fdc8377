#!/usr/bin/env bash
# Debian packages reels needs beside its virtualenv: the ffmpeg CLI (ffprobe/ffmpeg), the
# independent player the tests and benchmarks check our renditions with. Idempotent.
set -euo pipefail

missing=()
command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
