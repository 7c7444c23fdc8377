#!/usr/bin/env bash
# Canary rollout of one reels service: 5 % -> 10 % -> 50 % -> 100 %, with a health check
# and an error-rate gate after every stage, and automatic rollback when either fails.
#
# How the weight is applied (docs/deployment/rollout.md explains the choice):
#   Kubernetes  a canary Deployment `<service>-canary` (label track=canary, the new image)
#               beside the stable one (track=stable); the Service selects both, so the
#               canary's share of traffic is its share of ready pods. For weight w the
#               canary gets round(stable * w / (100 - w)) pods (at least one, so with few
#               stable pods the first stages are coarser than 5 %); at 100 % the stable
#               Deployment is updated to the new image and the canary is removed.
#               The gate scrapes grpc_server_handled_total from every pod of each track
#               (`kubectl exec` to the pod's own /metrics) and compares the server-side
#               error codes before and after each stage's observation window.
#   local       (--local-envoy-admin URL) an Envoy route with weighted clusters whose
#               weights come from runtime keys <prefix>.<cluster>; the script sets them
#               through the admin /runtime_modify endpoint and reads each cluster's
#               upstream_rq_completed / upstream_rq_5xx from the admin /stats. This is
#               how the gate is tested without a cluster (tests/deploy/test_canary.py).
#   --dry-run   renders each stage's manifests (kubectl kustomize of the overlay plus the
#               canary Deployment, or the promoted stable one at 100 %) and validates them
#               with kubernetes-validate; nothing is applied.
#
# Exit status: 0 promoted (or dry run valid), 2 usage error, 3 rolled back by the gate or
# a failed health check, 4 a stage's manifests do not validate.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
VALIDATE="${VALIDATE:-$REPO/.venv/bin/kubernetes-validate}"
KUBECTL="${KUBECTL:-kubectl}"

SERVICE=""
IMAGE=""
OVERLAY="prod"
NAMESPACE=""
STAGES="5 10 50 100"
MAX_ERROR_RATE="0.01"
MIN_REQUESTS="50"
OBSERVE_SECONDS="120"
ROLLOUT_TIMEOUT="300s"
DRY_RUN=0
RENDER_DIR=""
STABLE_OVERRIDE=""
K8S_VERSION="1.32.0"
LOCAL_ADMIN=""
LOCAL_STABLE="stable"
LOCAL_CANARY="canary"
LOCAL_PREFIX="canary.weight"
# Server-side failures; client errors (INVALID_ARGUMENT, NOT_FOUND, ...) are answers.
ERROR_CODES="UNKNOWN|INTERNAL|UNAVAILABLE|DEADLINE_EXCEEDED|DATA_LOSS|UNIMPLEMENTED"

usage() {
  cat <<'EOF'
usage: video_canary_deploy.sh --service NAME --image IMAGE [options]
       video_canary_deploy.sh --local-envoy-admin URL [options]

  --service NAME            Deployment to roll out (media-svc, stream-svc, embed-svc, ranking-svc)
  --image IMAGE             the new image, e.g. ghcr.io/reels/reels:0.2.0
  --overlay NAME            k8s/overlays/NAME for --dry-run (default prod)
  --namespace NS            namespace (default: the overlay's, reels for prod)
  --stages "5 10 50 100"    canary weights in percent, the last must be 100
  --max-error-rate R        gate: abort when the canary's error rate exceeds R (default 0.01)
  --min-requests N          gate: abort when the canary served fewer than N requests in a
                            stage (not enough evidence; default 50; 0 turns it off)
  --observe-seconds S       how long each stage is watched before the gate (default 120)
  --rollout-timeout T       kubectl rollout status timeout (default 300s)
  --dry-run                 render and validate every stage's manifests; apply nothing
  --render-dir DIR          keep each stage's rendered manifests in DIR (dry run)
  --stable-replicas N       dry run: stable pods to split against (default: the HPA's minimum)
  --kubernetes-version V    schema version for kubernetes-validate (default 1.32.0)
  --local-envoy-admin URL   local mode: weights and stats through this Envoy admin
  --local-stable-cluster C  local mode: stable cluster name (default stable)
  --local-canary-cluster C  local mode: canary cluster name (default canary)
  --local-runtime-prefix P  local mode: runtime key prefix of the weights (default canary.weight)
EOF
}

log() { printf '%s canary: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 2; }

while (($#)); do
  case "$1" in --dry-run | -h | --help) ;; *) (($# >= 2)) || die "$1 needs a value" ;; esac
  case "$1" in
    --service) SERVICE="$2"; shift 2 ;;
    --image) IMAGE="$2"; shift 2 ;;
    --overlay) OVERLAY="$2"; shift 2 ;;
    --namespace) NAMESPACE="$2"; shift 2 ;;
    --stages) STAGES="$2"; shift 2 ;;
    --max-error-rate) MAX_ERROR_RATE="$2"; shift 2 ;;
    --min-requests) MIN_REQUESTS="$2"; shift 2 ;;
    --observe-seconds) OBSERVE_SECONDS="$2"; shift 2 ;;
    --rollout-timeout) ROLLOUT_TIMEOUT="$2"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    --render-dir) RENDER_DIR="$2"; shift 2 ;;
    --stable-replicas) STABLE_OVERRIDE="$2"; shift 2 ;;
    --kubernetes-version) K8S_VERSION="$2"; shift 2 ;;
    --local-envoy-admin) LOCAL_ADMIN="${2%/}"; shift 2 ;;
    --local-stable-cluster) LOCAL_STABLE="$2"; shift 2 ;;
    --local-canary-cluster) LOCAL_CANARY="$2"; shift 2 ;;
    --local-runtime-prefix) LOCAL_PREFIX="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

read -r -a STAGE_LIST <<<"$STAGES"
((${#STAGE_LIST[@]})) || die "--stages is empty"
previous=0
for weight in "${STAGE_LIST[@]}"; do
  [[ $weight =~ ^[0-9]+$ ]] && ((weight > previous && weight <= 100)) \
    || die "--stages must be increasing percentages, got '$STAGES'"
  previous=$weight
done
((previous == 100)) || die "the last stage must be 100, got '$STAGES'"
[[ $MIN_REQUESTS =~ ^[0-9]+$ ]] || die "--min-requests must be an integer"
[[ $OBSERVE_SECONDS =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--observe-seconds must be a number"
[[ $MAX_ERROR_RATE =~ ^[0-9]*[.]?[0-9]+$ ]] || die "--max-error-rate must be a number"

if [[ -n $LOCAL_ADMIN ]]; then
  MODE=local
elif ((DRY_RUN)); then
  MODE=dry-run
else
  MODE=kubernetes
fi
if [[ $MODE != local ]]; then
  [[ -n $SERVICE ]] || die "--service is required"
  [[ -n $IMAGE ]] || die "--image is required"
  case "$SERVICE" in
    media-svc | stream-svc | embed-svc | ranking-svc) ;;
    *) die "--service must be a gRPC service (media-svc, stream-svc, embed-svc, ranking-svc): the gate reads grpc_server_handled_total" ;;
  esac
fi
if [[ -z $NAMESPACE ]]; then
  case "$OVERLAY" in dev) NAMESPACE=reels-dev ;; *) NAMESPACE=reels ;; esac
fi

# --- stage manifests -----------------------------------------------------------------

# stage_manifests WEIGHT STABLE_REPLICAS < source.yaml > stage.yaml
# The source is the whole rendered overlay (dry run) or the live stable Deployment (YAML).
# Below 100 % the output is the source plus the canary Deployment; at 100 % the stable
# Deployment with the new image and no canary. Only Deployments change.
STAGE_PY="$(cat <<'PY'
import copy, sys
import yaml

service, image, weight, stable = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
if len(docs) == 1 and docs[0].get("kind") == "List":
    docs = docs[0]["items"]
out, found = [], False
for doc in docs:
    if doc.get("kind") != "Deployment" or doc["metadata"]["name"] != service:
        out.append(doc)
        continue
    found = True
    for key in ("status",):
        doc.pop(key, None)
    meta = doc["metadata"]
    for key in ("resourceVersion", "uid", "generation", "creationTimestamp", "managedFields"):
        meta.pop(key, None)
    meta.get("annotations", {}).pop("kubectl.kubernetes.io/last-applied-configuration", None)
    meta.get("annotations", {}).pop("deployment.kubernetes.io/revision", None)
    if weight >= 100:
        promoted = copy.deepcopy(doc)
        for c in promoted["spec"]["template"]["spec"]["containers"]:
            if c["name"] == service:
                c["image"] = image
        out.append(promoted)
        continue
    out.append(doc)
    canary = copy.deepcopy(doc)
    canary["metadata"]["name"] = f"{service}-canary"
    canary["metadata"].setdefault("labels", {})["track"] = "canary"
    canary["metadata"].setdefault("annotations", {})["reels.io/canary-weight"] = str(weight)
    canary["spec"]["replicas"] = max(1, round(stable * weight / (100 - weight)))
    canary["spec"]["selector"]["matchLabels"]["track"] = "canary"
    canary["spec"]["template"]["metadata"]["labels"]["track"] = "canary"
    for c in canary["spec"]["template"]["spec"]["containers"]:
        if c["name"] == service:
            c["image"] = image
    out.append(canary)
if not found:
    sys.exit(f"no Deployment named {service} in the source manifests")
yaml.safe_dump_all(out, sys.stdout, sort_keys=False)
PY
)"
stage_manifests() {
  "$PYTHON" -c "$STAGE_PY" "$SERVICE" "$IMAGE" "$1" "$2"
}

canary_replicas() { # WEIGHT STABLE
  "$PYTHON" -c 'import sys; w, s = int(sys.argv[1]), int(sys.argv[2]); print(max(1, round(s * w / (100 - w))))' "$1" "$2"
}

WORKDIR=""
dry_run() {
  local rendered stable workdir
  WORKDIR="$(mktemp -d)"
  trap 'rm -rf "$WORKDIR"' EXIT
  workdir="$WORKDIR"
  rendered="$workdir/overlay.yaml"
  "$KUBECTL" kustomize --load-restrictor LoadRestrictionsNone "$REPO/k8s/overlays/$OVERLAY" >"$rendered"
  # Without a cluster the stable size is the HPA's floor, unless given.
  stable="${STABLE_OVERRIDE:-$("$PYTHON" - "$SERVICE" "$rendered" <<'PY'
import sys, yaml
for doc in yaml.safe_load_all(open(sys.argv[2])):
    if doc and doc["kind"] == "HorizontalPodAutoscaler" and doc["metadata"]["name"] == sys.argv[1]:
        print(doc["spec"]["minReplicas"]); break
else:
    print(1)
PY
)}"
  [[ $stable =~ ^[1-9][0-9]*$ ]] || die "--stable-replicas must be a positive integer"
  local weight file
  for weight in "${STAGE_LIST[@]}"; do
    file="$workdir/stage-$weight.yaml"
    if ! stage_manifests "$weight" "$stable" <"$rendered" >"$file"; then
      log "stage $weight %: manifests could not be rendered"
      exit 4
    fi
    if ! "$VALIDATE" --quiet --strict -k "$K8S_VERSION" "$file" >&2; then
      log "stage $weight %: manifests do not validate"
      exit 4
    fi
    if ((weight < 100)); then
      local canary
      canary="$(canary_replicas "$weight" "$stable")"
      log "stage $weight %: valid; canary $SERVICE-canary $canary pod(s) beside $stable stable" \
        "(effective $((100 * canary / (canary + stable))) %)"
    else
      log "stage 100 %: valid; $SERVICE promoted to $IMAGE, canary removed"
    fi
    if [[ -n $RENDER_DIR ]]; then
      mkdir -p "$RENDER_DIR"
      cp "$file" "$RENDER_DIR/"
    fi
  done
  log "dry run: every stage of $SERVICE ($OVERLAY) renders and validates"
}

# --- traffic counters ----------------------------------------------------------------

# counters prints "<canary total> <canary errors> <stable total> <stable errors>".
counters() {
  if [[ $MODE == local ]]; then
    curl -fsS --max-time 5 "$LOCAL_ADMIN/stats" | awk -v c="cluster.$LOCAL_CANARY." -v s="cluster.$LOCAL_STABLE." '
      { name = $1; sub(/:$/, "", name) }
      name == c "upstream_rq_completed" { ct = $2 }
      name == c "upstream_rq_5xx" { ce = $2 }
      name == s "upstream_rq_completed" { st = $2 }
      name == s "upstream_rq_5xx" { se = $2 }
      END { printf "%d %d %d %d\n", ct, ce, st, se }'
  else
    local canary stable
    canary="$(track_counters canary)"
    stable="$(track_counters stable)"
    echo "$canary $stable"
  fi
}

# track_counters TRACK: requests and server-side errors summed over the track's pods.
track_counters() {
  local pods pod total=0 errors=0 line
  pods="$("$KUBECTL" -n "$NAMESPACE" get pods \
    -l "app.kubernetes.io/name=$SERVICE,track=$1" --field-selector=status.phase=Running \
    -o jsonpath='{.items[*].metadata.name}')"
  for pod in $pods; do
    line="$("$KUBECTL" -n "$NAMESPACE" exec "$pod" -c "$SERVICE" -- python -c \
      'import urllib.request as u; print(u.urlopen("http://127.0.0.1:9090/metrics", timeout=5).read().decode())' \
      | awk -v codes="^($ERROR_CODES)\$" '
        /^grpc_server_handled_total\{/ {
          code = $0; sub(/.*code="/, "", code); sub(/".*/, "", code)
          total += $NF; if (code ~ codes) errors += $NF
        }
        END { printf "%d %d\n", total, errors }')"
    total=$((total + ${line% *}))
    errors=$((errors + ${line#* }))
  done
  echo "$total $errors"
}

# gate BEFORE AFTER: 0 when the canary's error rate over the window is acceptable.
gate() {
  local -a b a
  read -r -a b <<<"$1"
  read -r -a a <<<"$2"
  local ct=$((a[0] - b[0])) ce=$((a[1] - b[1])) st=$((a[2] - b[2])) se=$((a[3] - b[3]))
  awk -v ct="$ct" -v ce="$ce" -v st="$st" -v se="$se" -v max="$MAX_ERROR_RATE" \
    -v min="$MIN_REQUESTS" '
    BEGIN {
      cr = ct > 0 ? ce / ct : 0; sr = st > 0 ? se / st : 0
      printf "canary %d requests, %d errors (%.4f); stable %d requests, %d errors (%.4f); gate %s\n",
        ct, ce, cr, st, se, sr, max > "/dev/stderr"
      if (ct < min) { print "not enough canary traffic to judge" > "/dev/stderr"; exit 1 }
      if (cr > max) { print "canary error rate above the gate" > "/dev/stderr"; exit 1 }
      exit 0
    }'
}

# --- applying weights, health and rollback --------------------------------------------

set_local_weight() {
  curl -fsS --max-time 5 -X POST \
    "$LOCAL_ADMIN/runtime_modify?$LOCAL_PREFIX.$LOCAL_CANARY=$1&$LOCAL_PREFIX.$LOCAL_STABLE=$((100 - $1))" \
    >/dev/null
}

local_healthy() {
  local ready healthy
  ready="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$LOCAL_ADMIN/ready" || true)"
  healthy="$(curl -fsS --max-time 5 "$LOCAL_ADMIN/stats" \
    | awk -v k="cluster.$LOCAL_CANARY.membership_healthy:" '$1 == k { print $2 }')"
  [[ $ready == 200 && ${healthy:-0} -ge 1 ]]
}

STABLE_REPLICAS=0
PROMOTING=0

apply_k8s_stage() {
  local weight=$1
  if ((weight >= 100)); then
    PROMOTING=1
    "$KUBECTL" -n "$NAMESPACE" get deploy "$SERVICE" -o yaml \
      | stage_manifests 100 "$STABLE_REPLICAS" | "$KUBECTL" -n "$NAMESPACE" apply -f - >&2
    "$KUBECTL" -n "$NAMESPACE" rollout status "deploy/$SERVICE" --timeout "$ROLLOUT_TIMEOUT" >&2
    "$KUBECTL" -n "$NAMESPACE" delete deploy "$SERVICE-canary" --ignore-not-found >&2
  else
    "$KUBECTL" -n "$NAMESPACE" get deploy "$SERVICE" -o yaml \
      | stage_manifests "$weight" "$STABLE_REPLICAS" \
      | "$PYTHON" -c '
import sys, yaml
docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
yaml.safe_dump_all([d for d in docs if d["metadata"]["name"].endswith("-canary")], sys.stdout)' \
      | "$KUBECTL" -n "$NAMESPACE" apply -f - >&2
    "$KUBECTL" -n "$NAMESPACE" rollout status "deploy/$SERVICE-canary" --timeout "$ROLLOUT_TIMEOUT" >&2
  fi
}

k8s_healthy() {
  local name=$SERVICE-canary spec ready
  ((PROMOTING)) && name=$SERVICE
  spec="$("$KUBECTL" -n "$NAMESPACE" get deploy "$name" -o jsonpath='{.spec.replicas}')"
  ready="$("$KUBECTL" -n "$NAMESPACE" get deploy "$name" -o jsonpath='{.status.readyReplicas}')"
  [[ -n $spec && ${ready:-0} -ge $spec ]]
}

rollback() {
  log "ROLLBACK: $*"
  if [[ $MODE == local ]]; then
    set_local_weight 0
    log "rolled back: $LOCAL_STABLE 100 %, $LOCAL_CANARY 0 %"
  else
    if ((PROMOTING)); then
      "$KUBECTL" -n "$NAMESPACE" rollout undo "deploy/$SERVICE" >&2 || true
      "$KUBECTL" -n "$NAMESPACE" rollout status "deploy/$SERVICE" --timeout "$ROLLOUT_TIMEOUT" >&2 || true
    fi
    "$KUBECTL" -n "$NAMESPACE" delete deploy "$SERVICE-canary" --ignore-not-found >&2 || true
    log "rolled back: $SERVICE-canary removed, every request on the stable $SERVICE"
  fi
  exit 3
}

rollout() {
  if [[ $MODE == kubernetes ]]; then
    STABLE_REPLICAS="$("$KUBECTL" -n "$NAMESPACE" get deploy "$SERVICE" -o jsonpath='{.spec.replicas}')"
    [[ -n $STABLE_REPLICAS ]] || die "deploy/$SERVICE not found in namespace $NAMESPACE"
    log "rolling $SERVICE to $IMAGE in $NAMESPACE ($STABLE_REPLICAS stable pods)"
  else
    log "local rollout through $LOCAL_ADMIN ($LOCAL_STABLE -> $LOCAL_CANARY)"
  fi
  local weight before after
  for weight in "${STAGE_LIST[@]}"; do
    log "stage $weight %"
    if [[ $MODE == local ]]; then
      set_local_weight "$weight" || rollback "could not set the weights to $weight %"
      local_healthy || rollback "health check failed at $weight %"
    else
      apply_k8s_stage "$weight" || rollback "stage $weight % did not become ready"
      k8s_healthy || rollback "health check failed at $weight %"
    fi
    # In a cluster 100 % is the promotion itself; its pods were checked just above.
    if ((weight >= 100)) && [[ $MODE != local ]]; then
      break
    fi
    before="$(counters)" || rollback "could not read the error counters"
    sleep "$OBSERVE_SECONDS"
    after="$(counters)" || rollback "could not read the error counters"
    if [[ $MODE == local ]]; then
      local_healthy || rollback "health check failed after $weight %"
    else
      k8s_healthy || rollback "health check failed after $weight %"
    fi
    gate "$before" "$after" || rollback "error-rate gate failed at $weight %"
    log "stage $weight %: gate passed"
  done
  log "promoted: 100 % on the new version"
}

case "$MODE" in
  dry-run) dry_run ;;
  *) rollout ;;
esac
