# syntax=docker/dockerfile:1
#
# Chatalot (Python) server image.
#
#   docker compose up -d --build          (see docs/deployment.md)
#   docker build -t chatalot .            (image on its own)
#
# The runtime stage works with a read-only root filesystem: at run time the
# server writes only to /app/data (a volume) and /tmp (a tmpfs in compose).

# ---------------------------------------------------------------------------
# 1. builder: install the project and its dependencies into /opt/venv
# ---------------------------------------------------------------------------
FROM python:3.12-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:${PATH}"

WORKDIR /build
# pyproject.toml names README.md as the package readme, so the build needs it.
COPY pyproject.toml README.md ./
COPY src/ ./src/
# pip compiles the .pyc files here, so nothing has to be written at run time.
RUN pip install --no-cache-dir .

# ---------------------------------------------------------------------------
# 2. static: the prebuilt web client, if the repository ships one in static/
# ---------------------------------------------------------------------------
# COPY fails on a missing source, and static/ is optional. This stage copies
# the (.dockerignore-filtered) build context and makes sure static/ exists, so
# the runtime stage can always copy it: empty when the repository has none.
FROM python:3.12-slim AS static
COPY . /context/
RUN mkdir -p /context/static

# ---------------------------------------------------------------------------
# 3. runtime
# ---------------------------------------------------------------------------
FROM python:3.12-slim AS runtime

ARG CHATALOT_UID=10001
ARG CHATALOT_GID=10001

# Fixed uid/gid so host files (the JWT private key, bind mounts) can be given
# to this user: see "Secrets" in docs/deployment.md.
RUN groupadd --system --gid "${CHATALOT_GID}" chatalot \
 && useradd --system --uid "${CHATALOT_UID}" --gid chatalot \
        --home-dir /app --no-create-home --shell /usr/sbin/nologin chatalot \
 && mkdir -p /app/data/files /app/static /app/migrations \
 && chown -R chatalot:chatalot /app/data

COPY --from=builder /opt/venv /opt/venv
COPY migrations/ /app/migrations/
COPY --from=static /context/static/ /app/static/

ENV PATH="/opt/venv/bin:${PATH}" \
    VIRTUAL_ENV=/opt/venv \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CHATALOT_MIGRATIONS_DIR=/app/migrations \
    STATIC_FILES_PATH=/app/static \
    FILE_STORAGE_PATH=/app/data/files \
    CHATALOT_DATA_DIR=/app/data \
    LISTEN_ADDR=0.0.0.0:8080 \
    JWT_PRIVATE_KEY_PATH=/run/secrets/jwt_private_key \
    JWT_PUBLIC_KEY_PATH=/run/secrets/jwt_public_key

WORKDIR /app

EXPOSE 8080

# The slim image has no curl: use Python's urllib. /api/health always answers
# 200 while the process serves requests ("degraded" in the body when the
# database is unreachable), as the original's `curl -f` health check expects.
# The port follows LISTEN_ADDR (default 0.0.0.0:8080).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('LISTEN_ADDR', '0.0.0.0:8080').rsplit(':', 1)[-1]; sys.exit(0 if urllib.request.urlopen(f'http://localhost:{port}/api/health', timeout=8).status == 200 else 1)"]

USER chatalot

# Applies pending migrations, then serves HTTP + WebSocket on LISTEN_ADDR.
CMD ["chatalot", "serve"]
