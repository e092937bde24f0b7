# relay: `docker build -t notte-relay .` then `docker run -p 8080:8080 notte-relay`
# (SQLite in /var/lib/relay) or with RELAY_DATABASE_URL=postgresql://... for several
# instances on one database. deploy/ has a compose demo and Kubernetes manifests.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY relay ./relay
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/relay relay
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
# The routing config (mount your own over it) and the local runner's demo functions.
COPY config/relay.yaml /etc/relay/relay.yaml
COPY config/functions /etc/relay/functions
USER relay
WORKDIR /var/lib/relay
EXPOSE 8080
# Ready: the store answers and the delivery worker runs (503 otherwise). No curl in the image.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=2)"]
ENTRYPOINT ["relay", "serve"]
CMD ["--config", "/etc/relay/relay.yaml", "--host", "0.0.0.0", "--port", "8080"]
