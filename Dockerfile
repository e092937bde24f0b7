# relay: `docker build -t notte-relay .`, then run it with your routing config, a volume for
# the data and the secrets in the environment (docs/operations.md):
#
#   docker run -p 8080:8080 -v relay-data:/var/lib/relay \
#     -v ./relay.yaml:/etc/relay/relay.yaml:ro \
#     -e GITHUB_WEBHOOK_SECRET=... -e NOTTE_API_KEY=... -e RELAY_ADMIN_TOKEN=... notte-relay
#
# SQLite lives in /var/lib/relay (a VOLUME); RELAY_DATABASE_URL=postgresql://... for several
# instances on one database. The image carries no routing config and so no demo secrets:
# without one it says what to mount and exits. deploy/ has a compose demo and Kubernetes
# manifests. BASE: any image with Python >= 3.11 and its venv module (`make test-image`
# builds on a Debian bookworm image made with debootstrap).
ARG BASE=python:3.11-slim

FROM ${BASE} AS build
WORKDIR /src
RUN python3 -m venv /opt/build
COPY pyproject.toml README.md ./
COPY relay ./relay
RUN /opt/build/bin/pip wheel --no-cache-dir --wheel-dir /wheels . && \
    python3 -m venv /opt/relay && \
    /opt/relay/bin/pip install --no-cache-dir --no-compile /wheels/*.whl

FROM ${BASE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/relay/bin:$PATH \
    RELAY_CONTAINER=1
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/relay relay
# The venv built above (same base, same path): a copy is hashed into the layer cache, so a
# rebuild with other sources never keeps an older relay (a RUN mounting the build stage's
# files is not, with buildah/podman, and fails when that stage came from the cache).
COPY --from=build /opt/relay /opt/relay
# The local runner's demo functions (deploy/compose.yaml runs `relay local-runner` on them).
# No routing config: mount yours at /etc/relay/relay.yaml (deploy/relay.yaml is a start).
COPY config/functions /etc/relay/functions
USER relay
WORKDIR /var/lib/relay
# The SQLite database (relay.db, its WAL and lock): keep it on a volume.
VOLUME ["/var/lib/relay"]
EXPOSE 8080
# Ready: the store answers and the delivery worker runs (503 otherwise). No curl in the image.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=2)"]
ENTRYPOINT ["relay", "serve"]
CMD ["--config", "/etc/relay/relay.yaml", "--host", "0.0.0.0", "--port", "8080"]
