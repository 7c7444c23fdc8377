#!/usr/bin/env bash
# Debian packages reels needs beside its virtualenv: the ffmpeg CLI (ffprobe/ffmpeg), the
# independent player the tests and benchmarks check our renditions with, and promtool
# (from the prometheus package), which checks and unit-tests the alert rules, and clamd
# (clamav-daemon), the malware scanner the upload tests run, and chromium, the browser in
# which the playback tests (and bench_abr.py) play our HLS/DASH with hls.js and dash.js.
# Idempotent.
set -euo pipefail

missing=()
command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
# clamd: the tests scan uploads with a real ClamAV daemon (signatures of their own).
command -v clamd >/dev/null 2>&1 || [[ -x /usr/sbin/clamd ]] || missing+=(clamav-daemon)
# chromium: hls.js and dash.js play our manifests in it (tests/e2e/test_browser_playback.py).
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
