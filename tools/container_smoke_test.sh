#!/usr/bin/env bash
# Build the connector's Docker image from ./Dockerfile WITHOUT pulling anything, and run
# spec / check / discover / read in it against the local API emulator.
#
# Airbyte's base image cannot be pulled here, so the script:
#   1. makes a Debian bookworm root file system with debootstrap (Debian's python3 is 3.11, as in
#      Airbyte's base 4.0.2), adds a venv on PATH and the `airbyte` user, and imports it into
#      podman as the local base image (cached in .cache/container/ and in podman's storage);
#   2. builds wheels of the connector and all its dependencies on the host (`pip wheel`);
#   3. builds ./Dockerfile with `--build-arg BASE_IMAGE=<local base>`, the wheels in the build
#      context, `PIP_INSTALL_OPTIONS=--no-index ...` and `--network none`;
#   4. starts the emulator on 127.0.0.1 and runs the image with `--network host`, config and
#      catalog mounted as files, asserting on the output (tools/protocol_check.py).
#
# Usage: tools/container_smoke_test.sh            (as root; installs podman runc debootstrap with
#                                                 apt-get when they are missing)
# Env:   PYTHON             Python with the project installed (default .venv/bin/python)
#        SMOKE_CACHE        cache directory (default .cache/container)
#        DEBIAN_MIRROR      default http://deb.debian.org/debian
#        KEEP_IMAGE=1       keep the connector image afterwards (the base image is always kept)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
CACHE="${SMOKE_CACHE:-$ROOT/.cache/container}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BASE_IMAGE="localhost/calltracking-smoke-base:bookworm-py311"
VERSION="$("$PYTHON" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
IMAGE="localhost/airbyte/source-calltracking:smoke-$VERSION"

step() { printf '[smoke %4ss] %s\n' "$SECONDS" "$*"; }
die() { printf '[smoke %4ss] FAILED: %s\n' "$SECONDS" "$*" >&2; exit 1; }

# ---- tools --------------------------------------------------------------------------------------
need=()
for tool in podman runc debootstrap; do command -v "$tool" >/dev/null 2>&1 || need+=("$tool"); done
if [ "${#need[@]}" -gt 0 ]; then
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || die "missing ${need[*]} and cannot install them (needs root and apt-get)"
  step "installing ${need[*]} with apt-get"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >/dev/null
fi
mkdir -p "$CACHE"
# podman's default ulimits cannot be applied inside this sandbox: none are set.
CONF=/etc/containers/containers.conf
if ! grep -qs '^default_ulimits *= *\[\]' "$CONF"; then
  if [ -w /etc/containers ] || [ "$(id -u)" = 0 ]; then
    mkdir -p /etc/containers
    if grep -qs '^default_ulimits *=' "$CONF"; then
      sed -i 's/^default_ulimits *=.*/default_ulimits = []/' "$CONF"
    elif grep -qs '^\[containers\]' "$CONF"; then
      sed -i '/^\[containers\]/a default_ulimits = []' "$CONF"
    else
      printf '[containers]\ndefault_ulimits = []\n' >>"$CONF"
    fi
  fi
fi
PODMAN=(podman --runtime /usr/bin/runc)

# ---- 1. the local base image --------------------------------------------------------------------
BASE_TAR="$CACHE/bookworm-py311-rootfs.tar"
if ! "${PODMAN[@]}" image exists "$BASE_IMAGE"; then
  if [ ! -s "$BASE_TAR" ]; then
    step "debootstrap bookworm (minbase + python3, python3-venv) from $MIRROR"
    rootfs="$CACHE/rootfs.partial"
    rm -rf "$rootfs"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
      bookworm "$rootfs" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
      || { tail -20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
    # As in Airbyte's base image: python and pip on PATH (a venv here, Debian's python is
    # externally managed), UTC, and the unprivileged `airbyte` user.
    chroot "$rootfs" /usr/bin/python3 -m venv /opt/venv
    chroot "$rootfs" /usr/sbin/useradd --uid 1000 --create-home --shell /bin/bash airbyte
    ln -snf /usr/share/zoneinfo/Etc/UTC "$rootfs/etc/localtime"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar --numeric-owner -C "$rootfs" -cf "$BASE_TAR.partial" .
    mv "$BASE_TAR.partial" "$BASE_TAR"
    rm -rf "$rootfs"
  fi
  step "importing the base image into podman"
  "${PODMAN[@]}" import -q \
    --change 'ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' \
    "$BASE_TAR" "$BASE_IMAGE" >/dev/null
fi
step "base image: $BASE_IMAGE ($("${PODMAN[@]}" run --rm --network none "$BASE_IMAGE" python --version))"

# ---- 2. wheels ----------------------------------------------------------------------------------
WORK="$(mktemp -d)"
EMULATOR_PID=""
cleanup() {
  [ -n "$EMULATOR_PID" ] && kill "$EMULATOR_PID" 2>/dev/null || true
  rm -rf "$WORK"
  [ "${KEEP_IMAGE:-0}" = 1 ] || "${PODMAN[@]}" rmi -f "$IMAGE" >/dev/null 2>&1 || true
}
trap cleanup EXIT

WHEELS="$CACHE/wheelhouse"
mkdir -p "$WHEELS"
rm -f "$WHEELS"/source_calltracking-*.whl
step "building wheels on the host (cached in $WHEELS)"
# Dependencies come from the cache when it has them, else from the package index. setuptools and
# wheel are there for `pip install .` inside the image (the project's build backend).
if ! "$PYTHON" -m pip wheel -q --no-index --find-links "$WHEELS" --wheel-dir "$WHEELS" . 'setuptools>=68' wheel 2>/dev/null; then
  # (pip's complaints about this machine's configured local index folders are left out)
  "$PYTHON" -m pip wheel -q --find-links "$WHEELS" --wheel-dir "$WHEELS" . 'setuptools>=68' wheel 2>&1 \
    | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
  [ "${PIPESTATUS[0]}" = 0 ] || die "pip wheel failed"
fi
rm -f "$WHEELS"/source_calltracking-*.whl   # the image installs the project from its source

# ---- 3. the connector image ---------------------------------------------------------------------
CONTEXT="$WORK/context"
mkdir -p "$CONTEXT"
# The build context is the working tree (tracked and untracked files, not ignored ones), as
# `docker build .` would see it, filtered by .dockerignore; plus the wheelhouse.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard --deduplicate \
    | while IFS= read -r -d '' f; do if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi; done \
    | tar --null --no-recursion -T - -cf - | tar -C "$CONTEXT" -xf -
else
  tar --exclude=.venv --exclude=.cache --exclude=.git -cf - . | tar -C "$CONTEXT" -xf -
fi
cp -r "$WHEELS" "$CONTEXT/wheelhouse"
step "building $IMAGE from ./Dockerfile (no network)"
"${PODMAN[@]}" build --network none --pull=never -q \
  --build-arg "BASE_IMAGE=$BASE_IMAGE" \
  --build-arg "PIP_INSTALL_OPTIONS=--no-index --find-links=wheelhouse" \
  -t "$IMAGE" -f "$CONTEXT/Dockerfile" "$CONTEXT" >"$WORK/build.log" 2>&1 \
  || { tail -30 "$WORK/build.log" >&2; die "podman build failed"; }

label() { "${PODMAN[@]}" image inspect --format "{{ index .Config.Labels \"$1\" }}" "$IMAGE"; }
[ "$(label io.airbyte.name)" = "airbyte/source-calltracking" ] || die "label io.airbyte.name is '$(label io.airbyte.name)'"
[ "$(label io.airbyte.version)" = "$VERSION" ] || die "label io.airbyte.version is '$(label io.airbyte.version)', pyproject says $VERSION"
env_entry="$("${PODMAN[@]}" image inspect --format '{{ range .Config.Env }}{{ println . }}{{ end }}' "$IMAGE" | grep '^AIRBYTE_ENTRYPOINT=' || true)"
[ "$env_entry" = "AIRBYTE_ENTRYPOINT=source-calltracking" ] || die "AIRBYTE_ENTRYPOINT is '$env_entry'"
step "image built: labels io.airbyte.name=airbyte/source-calltracking io.airbyte.version=$VERSION, $env_entry"

# ---- 4. the protocol, in the container, against the emulator ------------------------------------
DATA="$WORK/data"
mkdir -p "$DATA"
"$PYTHON" -m testkit.emulator --config-out "$DATA/config.json" >"$WORK/emulator.out" 2>&1 &
EMULATOR_PID=$!
for _ in $(seq 1 100); do [ -s "$DATA/config.json" ] && break; sleep 0.1; done
[ -s "$DATA/config.json" ] || { cat "$WORK/emulator.out" >&2; die "the emulator did not start"; }
step "emulator: $(head -c 200 "$WORK/emulator.out")"
# The same config with every credential replaced: `check` must fail.
"$PYTHON" - "$DATA/config.json" "$DATA/bad_config.json" <<'EOF'
import json, sys
config = json.load(open(sys.argv[1]))
for block in config.values():
    if isinstance(block, dict):
        for key in ("api_key", "role_api_key", "access_token"):
            if key in block:
                block[key] = "0000000000000000"
json.dump(config, open(sys.argv[2], "w"))
EOF
chmod 755 "$WORK" "$DATA"
chmod 644 "$DATA"/*.json

run() { "${PODMAN[@]}" run --rm --network host -v "$DATA:/data:ro" "$IMAGE" "$@"; }
check_output() { "$PYTHON" tools/protocol_check.py "$@"; }
# (each check's output is assigned before it is printed: `step "$(check_output ...)"` would hide a
# failing check from `set -e`)

run spec >"$WORK/spec.out"
result="$(check_output spec "$WORK/spec.out")"
step "$result"
run check --config /data/config.json >"$WORK/check.out"
result="$(check_output check "$WORK/check.out" SUCCEEDED)"
step "$result"
run check --config /data/bad_config.json >"$WORK/check_bad.out" || true
result="$(check_output check "$WORK/check_bad.out" FAILED)"
step "bad keys -> $result"
run discover --config /data/config.json >"$WORK/discover.out"
"$PYTHON" -m source_calltracking.run discover --config "$DATA/config.json" >"$WORK/discover_host.out"
result="$(check_output discover "$WORK/discover.out" "$WORK/discover_host.out")"
step "$result"
check_output catalog "$WORK/discover.out" >"$DATA/catalog.json"
chmod 644 "$DATA/catalog.json"
run read --config /data/config.json --catalog /data/catalog.json >"$WORK/read.out"
result="$(check_output read "$WORK/read.out" "$DATA/catalog.json")"
step "$result"
step "PASSED: the image built offline from ./Dockerfile runs spec, check, discover and read"
