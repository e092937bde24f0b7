#!/bin/sh
# `make test-image`, step one: what the image test needs, installed only when missing.
#   - podman, runc, debootstrap (Debian packages; apt-get, as root)
#   - podman-compose (PyPI, into the project's venv: $VENV_BIN)
#   - a Debian bookworm base image with Python 3.11 ($RELAY_BASE_IMAGE), built once with
#     debootstrap (a few minutes) and then kept in podman's storage: the machine has no
#     container registry, so the official python image cannot be pulled.
set -eu

VENV_BIN=${VENV_BIN:-.venv/bin}
BASE_IMAGE=${RELAY_BASE_IMAGE:-localhost/relay-base:bookworm}
HERE=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF="$HERE/containers.conf"

missing=""
for tool in podman runc debootstrap; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing="$missing $tool"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        echo "test-image: needs$missing (Debian packages); run as root to install them" >&2
        exit 2
    fi
    echo "test-image: installing$missing (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq $missing >/dev/null 2>&1 || {
        apt-get update -qq && apt-get install -y -qq $missing >/dev/null
    }
fi

if [ ! -x "$VENV_BIN/podman-compose" ]; then
    echo "test-image: installing podman-compose (pip, into $VENV_BIN)"
    "$VENV_BIN/python" -m pip install --quiet podman-compose
fi

if podman image exists "$BASE_IMAGE"; then
    echo "test-image: base image $BASE_IMAGE is there (podman rmi it to build it again)"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "test-image: building the base image needs root (debootstrap)" >&2
    exit 2
fi
rootfs=$(mktemp -d /var/tmp/relay-base.XXXXXX)
cleanup() {  # debootstrap mounts proc and sys inside; never remove through a mount
    umount "$rootfs/proc" "$rootfs/sys" 2>/dev/null || true
    rm -rf --one-file-system "$rootfs" "$rootfs.log"
}
trap cleanup EXIT
echo "test-image: building $BASE_IMAGE with debootstrap (a few minutes, once)"
PATH="$PATH:/usr/sbin:/sbin" debootstrap --variant=minbase \
    --include=python3,python3-venv,ca-certificates bookworm "$rootfs" \
    http://deb.debian.org/debian >"$rootfs.log" 2>&1 || {
    tail -20 "$rootfs.log" >&2
    exit 1
}
rm -rf "$rootfs/var/cache/apt/archives/"*.deb "$rootfs/var/lib/apt/lists/"*
tar -C "$rootfs" -c . | podman import --change 'CMD ["python3"]' - "$BASE_IMAGE" >/dev/null
echo "test-image: base image $BASE_IMAGE built"
