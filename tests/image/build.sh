#!/bin/sh
# `make test-image`, step two: build relay's image on the base image prepare.sh made.
# The host's CA bundle and a pip.conf naming it are lent to the build (not kept in the
# image): on these machines the package index is reached through a proxy with its own CA.
set -eu
IMAGE=${RELAY_TEST_IMAGE:-localhost/notte-relay:test}
BASE_IMAGE=${RELAY_BASE_IMAGE:-localhost/relay-base:bookworm}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export CONTAINERS_CONF="$HERE/containers.conf"
CA=/etc/ssl/certs/ca-certificates.crt
lend=""
if [ -f "$CA" ]; then
    lend="-v $CA:$CA:ro -v $HERE/pip.conf:/etc/pip.conf:ro"
fi
echo "test-image: building $IMAGE on $BASE_IMAGE"
# shellcheck disable=SC2086
podman --runtime runc build --pull=never --format docker --network host $lend \
    --build-arg "BASE=$BASE_IMAGE" -t "$IMAGE" "$ROOT"
