#!/usr/bin/env bash
# README's first session, checked: `make up`, the curl calls with their expected codes,
# `make down`, and no process of ours left. CI runs it after `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

gateway="http://127.0.0.1:${GATEWAY_PORT:-8080}"
unknown="00000000-0000-4000-8000-000000000000"
failures=0

expect() {  # expect CODE DESCRIPTION curl-args...
  local want=$1 what=$2
  shift 2
  local got
  got=$(curl -s -o /tmp/reels-smoke-body -w '%{http_code}' "$@")
  if [[ $got == "$want" ]]; then
    echo "ok    $want $what"
  else
    echo "FAIL  $what: HTTP $got, expected $want: $(cat /tmp/reels-smoke-body)"
    failures=$((failures + 1))
  fi
}

make up
trap 'make down' EXIT
TOKEN=$(make -s token USER=alice)
auth=(-H "Authorization: Bearer $TOKEN")
expect 404 "unknown video" "${auth[@]}" "$gateway/api/v1/reels/$unknown/status"
expect 400 "malformed video id" "${auth[@]}" "$gateway/api/v1/reels/not-a-uuid/status"
expect 401 "no token" "$gateway/api/v1/reels/$unknown/status"
expect 200 "video-processing health" "$gateway/health/video-processing"

# Upload a real clip through the gateway and watch it publish, then play it with ffprobe.
clip=$(mktemp --suffix=.mp4)
.venv/bin/python -c "import sys; from pathlib import Path; from tests.support.clips import \
make_clip; make_clip(Path(sys.argv[1]), 720, 1280, 4.0)" "$clip"
video_id=$(curl -s "${auth[@]}" -F "file=@$clip" -F title="smoke test" -F hashtags="#smoke" \
  "$gateway/api/v1/reels/upload" | .venv/bin/python -c "import json,sys; print(json.load(sys.stdin)['video_id'])")
rm -f "$clip"
state=""
for _ in $(seq 1 120); do
  state=$(curl -s "${auth[@]}" "$gateway/api/v1/reels/$video_id/status" \
    | .venv/bin/python -c "import json,sys; print(json.load(sys.stdin)['status'])")
  [[ $state == VIDEO_STATUS_PUBLISHED || $state == VIDEO_STATUS_FAILED ]] && break
  sleep 1
done
if [[ $state == VIDEO_STATUS_PUBLISHED ]]; then
  echo "ok    uploaded $video_id and it was published"
  master="${S3_ENDPOINT_URL:-http://127.0.0.1:8333}/${S3_BUCKET_VIDEO:-videos}/videos/$video_id/master.m3u8"
  rungs=$(ffprobe -v error -select_streams v -show_entries stream=height -of csv=p=0 "$master" | sort -u | xargs)
  if [[ $rungs == "1280 640 854" ]]; then echo "ok    HLS plays in ffprobe at heights $rungs"
  else echo "FAIL  HLS rungs seen by ffprobe: '$rungs'"; failures=$((failures + 1)); fi
  # Watch it, like it and ask for a feed: then every metric the dashboards chart must be
  # scraped from the components' /metrics, and those this activity drives must have moved.
  expect 200 "HLS manifest through the gateway" "${auth[@]}" "$gateway/api/v1/reels/$video_id/manifest.m3u8"
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  expect 200 "playback events" "${auth[@]}" -H "Content-Type: application/json" \
    -d "{\"events\": [{\"event_id\": \"smoke-1\", \"action\": \"PLAYBACK_ACTION_WATCH_START\", \"event_time\": \"$now\", \"session_id\": \"smoke\", \"bitrate_kbps\": 1200}, {\"event_id\": \"smoke-2\", \"action\": \"PLAYBACK_ACTION_WATCH_COMPLETE\", \"event_time\": \"$now\", \"session_id\": \"smoke\", \"watch_duration\": \"4s\"}]}" \
    "$gateway/api/v1/reels/$video_id/events"
  expect 200 "like" "${auth[@]}" -H "Content-Type: application/json" -d "{}" "$gateway/api/v1/reels/$video_id/like"
  expect 200 "feed" "${auth[@]}" "$gateway/api/v1/reels?limit=10"
  sleep 3  # the embedding, the event consumers and the metric gauges catch up
  if .venv/bin/python scripts/check_metrics.py --require-activity; then
    echo "ok    every platform metric is scraped, and those this session drives moved"
  else
    failures=$((failures + 1))
  fi
else
  echo "FAIL  upload $video_id ended as '$state'"
  failures=$((failures + 1))
fi
make status
make down
trap - EXIT
leftover=$(pgrep -f "$(pwd)/(\.venv|var)/" || true)
if [[ -n $leftover ]]; then
  echo "FAIL  processes left after make down: $leftover"
  failures=$((failures + 1))
fi
exit $((failures > 0))
