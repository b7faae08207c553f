#!/bin/sh
# A Debian 12 base image without a registry: debootstrap from a Debian mirror, imported into
# podman as IMAGE (default localhost/debian:bookworm-slim). For machines that reach Debian's
# mirrors but no container registry; then build with BASE=IMAGE (compose.yaml, Dockerfile).
# Needs root and the debootstrap package.
set -eu
image=${1:-localhost/debian:bookworm-slim}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase bookworm "$root" "$mirror"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
tar -C "$root" -c . | podman import - "$image"
