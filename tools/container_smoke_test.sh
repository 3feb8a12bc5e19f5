#!/usr/bin/env bash
# Build the connector's Docker image from ./Dockerfile WITHOUT pulling anything, and run
# spec / check / discover / read in it against the local API emulator.
#
# Airbyte's base image (python-connector-base 4.1.0, Python 3.13) cannot be pulled here, so the
# script:
#   1. makes a Debian trixie root file system with debootstrap (trixie is the Debian release whose
#      python3 is 3.13, the Python of Airbyte's base 4.1.x; bookworm's is 3.11), adds a venv on
#      PATH and the `airbyte` user, and imports it into podman as the local base image (cached in
#      .cache/container/ and in podman's storage);
#   2. builds wheels of the connector's dependencies and build requirements on the host
#      (`pip wheel`) with a Python of the base image's version (3.13: cp313 wheels), whatever
#      Python runs the rest;
#   3. builds ./Dockerfile with `--build-arg BASE_IMAGE=<local base>`, the wheels in the build
#      context, `PIP_INSTALL_OPTIONS=--no-index ...` and `--network none`;
#   4. starts the emulator on 127.0.0.1 and runs the image with `--network host`, config and
#      catalog mounted as files, asserting on the output (tools/protocol_check.py): spec, check
#      (good and bad keys), discover, and a read of every stream;
#   5. reads `ria_calls` once more from a second emulator that holds 20000 RIA.com calls in one
#      31-day window: one answer of 5-7 MB, over the 4 MB beyond which the connector reads an
#      answer from a temporary file. It asserts that the answer was that large (as the emulator
#      measured it) and that every call the emulator holds arrived, once each.
#
# Usage: tools/container_smoke_test.sh            (as root; installs podman runc debootstrap with
#                                                 apt-get when they are missing)
# Env:   PYTHON             Python with the project installed: runs the emulators and the checks
#                           (default .venv/bin/python; 3.11-3.13)
#        WHEEL_PYTHON       Python (with pip) that builds the wheels: the base image's version, 3.13.
#                           Default: the first 3.13 of python3.13 on PATH, pyenv's 3.13.*, $PYTHON.
#        SMOKE_CACHE        cache directory (default .cache/container)
#        DEBIAN_MIRROR      default http://deb.debian.org/debian
#        KEEP_IMAGE=1       keep the connector image afterwards (the base image is always kept)
#        CALLTRACKING_EMULATOR_SEED  the emulators' choices where the documents are silent
#                           (drawn and printed when unset; set it to replay a run)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
CACHE="${SMOKE_CACHE:-$ROOT/.cache/container}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE="trixie"            # Debian 13, whose python3 is 3.13
BASE_PYTHON="3.13"        # the Python of Airbyte's python-connector-base 4.1.x
BASE_IMAGE="localhost/calltracking-smoke-base:$SUITE-py${BASE_PYTHON/./}"
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
BASE_TAR="$CACHE/$SUITE-py${BASE_PYTHON/./}-rootfs.tar"
if ! "${PODMAN[@]}" image exists "$BASE_IMAGE"; then
  if [ ! -s "$BASE_TAR" ]; then
    step "debootstrap $SUITE (minbase + python3, python3-venv) from $MIRROR"
    rootfs="$CACHE/rootfs.partial"
    rm -rf "$rootfs"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
      "$SUITE" "$rootfs" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
      || { tail -20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
    found="$(chroot "$rootfs" /usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    [ "$found" = "$BASE_PYTHON" ] || die "Debian $SUITE's python3 is $found, not $BASE_PYTHON"
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
base_version="$("${PODMAN[@]}" run --rm --network none "$BASE_IMAGE" python -c 'import platform; print(platform.python_version())')"
[ "${base_version%.*}" = "$BASE_PYTHON" ] || die "the base image's python is $base_version, not $BASE_PYTHON"
step "base image: $BASE_IMAGE (Python $base_version)"

# ---- 2. wheels ----------------------------------------------------------------------------------
WORK="$(mktemp -d)"
EMULATOR_PID=""
LARGE_PID=""
cleanup() {
  [ -n "$EMULATOR_PID" ] && kill "$EMULATOR_PID" 2>/dev/null || true
  [ -n "$LARGE_PID" ] && kill "$LARGE_PID" 2>/dev/null || true
  rm -rf "$WORK"
  [ "${KEEP_IMAGE:-0}" = 1 ] || "${PODMAN[@]}" rmi -f "$IMAGE" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# The wheels are installed in the image, so they are built by a Python of the image's version
# (compiled dependencies such as orjson and pydantic-core are cp313 wheels for Python 3.13).
is_base_python() {
  [ -n "$1" ] && "$1" -c "import sys, pip; sys.exit('%d.%d' % sys.version_info[:2] != '$BASE_PYTHON')" 2>/dev/null
}
WHEEL_PY=""
for candidate in "${WHEEL_PYTHON:-}" "python$BASE_PYTHON" \
                 "$(pyenv root 2>/dev/null || echo /nonexistent)"/versions/"$BASE_PYTHON".*/bin/"python$BASE_PYTHON" "$PYTHON"; do
  if is_base_python "$candidate"; then WHEEL_PY="$candidate"; break; fi
done
[ -n "$WHEEL_PY" ] || die "no Python $BASE_PYTHON with pip to build the image's wheels: set WHEEL_PYTHON"
[ -z "${WHEEL_PYTHON:-}" ] || [ "$WHEEL_PY" = "$WHEEL_PYTHON" ] || die "WHEEL_PYTHON=$WHEEL_PYTHON is not a Python $BASE_PYTHON with pip"
WHEELS="$CACHE/wheelhouse-cp${BASE_PYTHON/./}"
mkdir -p "$WHEELS"
rm -f "$WHEELS"/source_calltracking-*.whl
# The project's build requirements (pyproject.toml [build-system]) are there for `pip install .`
# inside the image, which builds the project from its source without network.
mapfile -t BUILD_REQUIRES < <("$PYTHON" -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]))')
step "building wheels on the host with $WHEEL_PY ($("$WHEEL_PY" --version 2>&1); cached in $WHEELS)"
# Dependencies come from the cache when it has them, else from the package index.
if ! "$WHEEL_PY" -m pip wheel -q --no-index --find-links "$WHEELS" --wheel-dir "$WHEELS" . "${BUILD_REQUIRES[@]}" 2>/dev/null; then
  # (pip's complaints about this machine's configured local index folders are left out)
  "$WHEEL_PY" -m pip wheel -q --find-links "$WHEELS" --wheel-dir "$WHEELS" . "${BUILD_REQUIRES[@]}" 2>&1 \
    | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
  [ "${PIPESTATUS[0]}" = 0 ] || die "pip wheel failed"
fi
rm -f "$WHEELS"/source_calltracking-*.whl   # the image installs the project from its source
# Every compiled wheel must be for the image's Python (another one would fail the offline install).
foreign="$(cd "$WHEELS" && ls -- *.whl \
  | grep -Ev -e "-(py3|py2\.py3|cp${BASE_PYTHON/./})-(none|cp${BASE_PYTHON/./})-" -e "-cp3[0-9]+-abi3-" || true)"
[ -z "$foreign" ] || die "wheels not for Python $BASE_PYTHON in $WHEELS: $foreign"

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
# One seed for both emulators, printed: a failing run replays with CALLTRACKING_EMULATOR_SEED=...
export CALLTRACKING_EMULATOR_SEED="${CALLTRACKING_EMULATOR_SEED:-$(( (RANDOM * 32768 + RANDOM) % 999999 + 1 ))}"
"$PYTHON" -m testkit.emulator --config-out "$DATA/config.json" >"$WORK/emulator.out" 2>&1 &
EMULATOR_PID=$!
for _ in $(seq 1 100); do [ -s "$DATA/config.json" ] && break; sleep 0.1; done
[ -s "$DATA/config.json" ] || { cat "$WORK/emulator.out" >&2; die "the emulator did not start"; }
step "emulator (CALLTRACKING_EMULATOR_SEED=$CALLTRACKING_EMULATOR_SEED): $(head -c 200 "$WORK/emulator.out")"
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

# ---- 5. one answer over 4 MB, read from a temporary file in the container -----------------------
# A second emulator, RIA.com only, with LARGE_CALLS calls in January 2024: the default 31-day
# window is one request, and its answer (280-330 bytes a call, as the seed shapes them) is over
# the connector's SPOOL_THRESHOLD_BYTES. When stopped (SIGTERM) it writes what it sent and holds.
LARGE_CALLS=20000
"$PYTHON" - "$DATA/large_config.json" "$WORK/large_summary.json" "$LARGE_CALLS" >"$WORK/large_emulator.out" 2>&1 <<'EOF' &
import json, signal, sys, threading
from source_calltracking.components.answers import SPOOL_THRESHOLD_BYTES
from testkit.emulator.ria import default_ria
from testkit.emulator.server import Emulator
from testkit.emulator.variation import session_variation
from testkit.emulator.world import RIA_API_KEY, RIA_USER_ID, provider_block

config_out, summary_out, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
stopped = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stopped.set())
variation = session_variation()
emulator = Emulator()
emulator.variation = variation
ria = default_ria(RIA_API_KEY, RIA_USER_ID, calls=calls, start="2024-01-01", end="2024-01-31T23:59:59",
                  variation=variation)
emulator.register("ria", ria)
emulator.keep_answers = True  # to measure them: one or two answers of a few MB
emulator.start()
config = {"start_date": "2024-01-01", "end_date": "2024-01-31", "ria": provider_block(emulator, "ria")}
with open(config_out, "w") as handle:
    json.dump(config, handle)
print(json.dumps({"emulator": emulator.url("ria"), "calls": calls}), flush=True)
stopped.wait()
emulator.stop()
summary = {
    "stream": "ria_calls", "id_field": "call_id", "threshold_bytes": SPOOL_THRESHOLD_BYTES,
    "expected_ids": ria.call_ids("2024-01-01", "2024-01-31"),
    "answers": [{"status": r.status, "bytes": len(r.answer)} for r in emulator.requests_to("ria")],
}
with open(summary_out, "w") as handle:
    json.dump(summary, handle)
EOF
LARGE_PID=$!
for _ in $(seq 1 100); do [ -s "$DATA/large_config.json" ] && break; sleep 0.1; done
[ -s "$DATA/large_config.json" ] || { cat "$WORK/large_emulator.out" >&2; die "the large-answer emulator did not start"; }
"$PYTHON" - "$DATA/catalog.json" "$DATA/large_catalog.json" <<'EOF'
import json, sys
catalog = json.load(open(sys.argv[1]))
catalog["streams"] = [s for s in catalog["streams"] if s["stream"]["name"] == "ria_calls"]
assert catalog["streams"], "ria_calls is not in the catalog"
json.dump(catalog, open(sys.argv[2], "w"))
EOF
chmod 644 "$DATA"/large_*.json
run read --config /data/large_config.json --catalog /data/large_catalog.json >"$WORK/large_read.out"
kill -TERM "$LARGE_PID"
wait "$LARGE_PID" || { cat "$WORK/large_emulator.out" >&2; die "the large-answer emulator failed"; }
LARGE_PID=""
result="$(check_output large "$WORK/large_read.out" "$WORK/large_summary.json")"
step "$result"
step "PASSED: the image built offline from ./Dockerfile runs spec, check, discover and read (one answer over 4 MB included)"
