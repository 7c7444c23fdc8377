#!/usr/bin/env bash
# Regenerates gen/ (Python messages, .pyi stubs, gRPC stubs) and Envoy's
# descriptor set envoy/reels_descriptor.pb from protos/reels/**.
#
# The one generator (`make protos` calls it). Output is byte-reproducible: the
# file list is sorted under the C locale and protoc embeds no timestamps.
# google/api/* Python modules are not generated: they come from the
# googleapis-common-protos package at runtime.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
export LC_ALL=C

mapfile -t protos < <(cd protos && find reels -type f -name '*.proto' | sort)
if [[ ${#protos[@]} -eq 0 ]]; then
  echo "gen_protos: no .proto files under protos/reels" >&2
  exit 1
fi

includes=(-I protos -I third_party/googleapis)

rm -rf gen
mkdir -p gen envoy

"$PYTHON" -m grpc_tools.protoc "${includes[@]}" \
  --python_out=gen --pyi_out=gen --grpc_python_out=gen \
  "${protos[@]}"

# Regular packages (not namespace packages), so setuptools finds them.
find gen/reels -type d | sort | while IFS= read -r dir; do
  : >"$dir/__init__.py"
done

# Envoy's grpc_json_transcoder needs the imports and the source info.
tmp="$(mktemp envoy/.reels_descriptor.pb.XXXXXX)"
trap 'rm -f "$tmp"' EXIT
"$PYTHON" -m grpc_tools.protoc "${includes[@]}" \
  --include_imports --include_source_info \
  --descriptor_set_out="$tmp" \
  "${protos[@]}"
chmod 0644 "$tmp"
mv -f "$tmp" envoy/reels_descriptor.pb
trap - EXIT

echo "gen_protos: ${#protos[@]} files -> gen/, envoy/reels_descriptor.pb"
