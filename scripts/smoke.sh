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
make status
make down
trap - EXIT
leftover=$(pgrep -f "$(pwd)/(\.venv|var)/" || true)
if [[ -n $leftover ]]; then
  echo "FAIL  processes left after make down: $leftover"
  failures=$((failures + 1))
fi
exit $((failures > 0))
