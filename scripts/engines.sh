#!/usr/bin/env bash
# The engine matrix: runs a reduced set of the checker's end-to-end tests against other
# container engines than the host's, each running INSIDE a container on the host's engine.
#
#   engines.sh image  <engine>       build the engine's image (skipped when present)
#   engines.sh start  <engine>       run it, start the engine, load the base images
#   engines.sh exec   <engine> cmd…  run cmd inside (CHECKER_DOCKER set; `checker` on PATH)
#   engines.sh test   <engine>       run the reduced test set on a started engine
#   engines.sh stop   <engine>       remove the container and its storage volume
#   engines.sh matrix                image, start, test, stop for each engine of $ENGINES
#   engines.sh remote                tests/e2e_remote.rs from the host against docker-trixie-tcp
#   engines.sh samples <engine>      record its save archive and info/version JSON for
#                                    tests/engine_samples.rs (on a started engine)
#
# Engines: docker-trixie (Debian trixie's docker.io 26.1, buildx 0.13, overlay2),
# docker-trixie-containerd (the same with the containerd image store), podman-trixie
# (Podman 5.4, used as CHECKER_DOCKER=podman), podman-bookworm (Podman 4.3; not in the
# default matrix). $ENGINES picks the matrix's engines (space-separated). docker-trixie-tcp
# is docker-trixie also listening on tcp://<its IP>:2375, a remote engine as GitLab's
# docker:dind is (its published ports are on its own 127.0.0.1, out of the host's reach).
#
# The repository and the cargo target dir are mounted at their own absolute paths, so the
# test binaries compiled on the host (whose paths are baked in) run inside unchanged: the
# engine container needs no cargo, only target/debug/checker and the engine's client.
# Everything this script creates on the host is labelled dev.workshop.engines (the
# checker's own leftovers are labelled dev.workshop.checker; its tests look for those).
set -euo pipefail

SELF=$(realpath "${BASH_SOURCE[0]}")
REPO=$(cd "$(dirname "$SELF")/.." && pwd)
TARGET=$(realpath -m "${CARGO_TARGET_DIR:-$REPO/target}")
DOCKER=${CHECKER_DOCKER:-docker}                  # the HOST's client
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
BASE_IMAGES=("${DEBIAN_TAG:-debian:bookworm-slim}" "${RUST_TAG:-rust:1.95-slim-bookworm}")
read -r -a MATRIX <<<"${ENGINES:-docker-trixie docker-trixie-containerd podman-trixie}"
LABEL=dev.workshop.engines
LOGS=$TARGET/engines
# Each test binary must end within this many seconds.
TEST_TIMEOUT=${ENGINES_TEST_TIMEOUT:-1500}

say() { printf 'engines: %s\n' "$*"; }
die() { printf 'engines: error: %s\n' "$*" >&2; exit 1; }

# --- engines -------------------------------------------------------------------------

known() {
  case "$1" in
    docker-trixie | docker-trixie-containerd | docker-trixie-tcp | podman-trixie | podman-bookworm) ;;
    *) die "unknown engine '$1': one of docker-trixie, docker-trixie-containerd, docker-trixie-tcp, podman-trixie, podman-bookworm" ;;
  esac
}
image_of() { case "$1" in docker-trixie*) echo docker-trixie ;; *) echo "$1" ;; esac; }
tag_of() { echo "workshop-engine:$(image_of "$1")"; }
client_of() { case "$1" in docker-*) echo docker ;; podman-*) echo podman ;; esac; }
storage_of() { case "$1" in docker-*) echo /var/lib/docker ;; podman-*) echo /var/lib/containers ;; esac; }
name_of() { echo "workshop-engine-$1"; }       # the container's and its volume's name

# --- image ---------------------------------------------------------------------------

# The engine's image: the host's debian:bookworm-slim, its apt sources switched to the
# engine's suite (no registry needed, only Debian's mirror).
cmd_image() {
  local engine=$1 tag suite packages
  known "$engine"; tag=$(tag_of "$engine")
  if "$DOCKER" image inspect "$tag" >/dev/null 2>&1; then say "$tag: present"; return; fi
  case "$(image_of "$engine")" in
    docker-trixie) suite=trixie; packages="docker.io docker-cli docker-buildx iptables procps ca-certificates" ;;
    # netavark (Podman 5) sets up networks with nft; Podman 4.3 with CNI and iptables. runc,
    # not crun: crun refuses a cgroups v1 host whose cgroup2 mount has a controller.
    podman-trixie) suite=trixie; packages="podman runc netavark aardvark-dns nftables procps catatonit ca-certificates" ;;
    podman-bookworm) suite=bookworm; packages="podman runc containernetworking-plugins iptables procps catatonit ca-certificates" ;;
  esac
  "$DOCKER" image inspect "${BASE_IMAGES[0]}" >/dev/null 2>&1 \
    || die "${BASE_IMAGES[0]} is missing on the host: run scripts/base-images.sh first"
  say "$tag: building from ${BASE_IMAGES[0]} with Debian $suite's $packages"
  local log; log=$(mktemp)
  # A testing suite's Release file can read as expired: Check-Valid-Until=false.
  if ! "$DOCKER" build -t "$tag" --label "$LABEL=image" \
      --build-arg "SUITE=$suite" --build-arg "MIRROR=$MIRROR" --build-arg "PACKAGES=$packages" - >"$log" 2>&1 <<DOCKERFILE
FROM ${BASE_IMAGES[0]}
ARG SUITE MIRROR PACKAGES
ENV DEBIAN_FRONTEND=noninteractive
RUN rm -f /etc/apt/sources.list.d/* \\
 && printf 'deb %s %s main\n' "\$MIRROR" "\$SUITE" >/etc/apt/sources.list \\
 && apt-get -q -o Acquire::Check-Valid-Until=false update \\
 && apt-get -q -y -o Dpkg::Options::=--force-confnew full-upgrade \\
 && apt-get -q -y install --no-install-recommends \$PACKAGES \\
 && apt-get clean && rm -rf /var/lib/apt/lists/*
DOCKERFILE
  then
    tail -n 30 "$log" >&2; rm -f "$log"; die "building $tag failed (log above)"
  fi
  rm -f "$log"
  say "$tag: built ($(( $("$DOCKER" image inspect -f '{{.Size}}' "$tag") / 1000000 )) MB)"
}

# --- start ---------------------------------------------------------------------------

# What an engine needs to run inside a container on a host whose bounding set lacks
# CAP_SYS_RESOURCE (so --privileged fails with "unable to apply caps").
FLAGS=(--cap-add ALL --cap-drop SYS_RESOURCE
       --security-opt seccomp=unconfined --security-opt apparmor=unconfined
       --security-opt systempaths=unconfined
       --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw)

# Runs a command in the engine's container as root, no tty.
inside() { local engine=$1; shift; "$DOCKER" exec -i "$(name_of "$engine")" "$@"; }

running() { [ "$("$DOCKER" container inspect -f '{{.State.Running}}' "$(name_of "$1")" 2>/dev/null)" = true ]; }

engine_answers() { inside "$1" "$(client_of "$1")" info >/dev/null 2>&1; }

# The container's own hard limits: Podman may not raise ulimits past them (that takes
# CAP_SYS_RESOURCE), and its defaults are higher.
podman_config() {
  cat <<'SH'
set -eu
mkdir -p /etc/containers
cat >/etc/containers/containers.conf <<CONF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=$(ulimit -Hu):$(ulimit -Hu)"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
cat >/etc/containers/storage.conf <<CONF
[storage]
driver = "overlay"
graphroot = "/var/lib/containers/storage"
runroot = "/run/containers/storage"
CONF
SH
}

cmd_start() {
  local engine=$1 name client
  known "$engine"; name=$(name_of "$engine"); client=$(client_of "$engine")
  [ -x "$TARGET/debug/checker" ] || say "note: $TARGET/debug/checker does not exist yet (cargo build -p checker)"
  if running "$engine" && engine_answers "$engine"; then
    say "$engine: already running ($name)"
  else
    "$DOCKER" rm -f "$name" >/dev/null 2>&1 || true
    "$DOCKER" image inspect "$(tag_of "$engine")" >/dev/null 2>&1 || cmd_image "$engine"
    "$DOCKER" volume inspect "$name" >/dev/null 2>&1 \
      || "$DOCKER" volume create --label "$LABEL=$engine" "$name" >/dev/null
    mkdir -p "$TARGET"
    local mounts=(-v "$name:$(storage_of "$engine")" -v "$REPO:$REPO" -v "$TARGET:$TARGET")
    say "$engine: starting container $name"
    # Podman 5 warns on every command that the host's cgroups v1 are deprecated (the host's
    # doing, not the engine's; a cgroups v2 host shows nothing): hidden.
    "$DOCKER" run -d --name "$name" --hostname "$name" --label "$LABEL=$engine" --init \
      -e PODMAN_IGNORE_CGROUPSV1_WARNING=1 \
      "${FLAGS[@]}" "${mounts[@]}" "$(tag_of "$engine")" sleep infinity >/dev/null
    inside "$engine" ln -sf "$TARGET/debug/checker" /usr/local/bin/checker
    case "$engine" in
      docker-*)
        local json='{"storage-driver": "overlay2", "cgroup-parent": "/'"$name"'"}'
        [ "$engine" = docker-trixie-containerd ] \
          && json='{"features": {"containerd-snapshotter": true}, "cgroup-parent": "/'"$name"'"}'
        # Plain TCP as docker:dind serves it (tls false said explicitly: no 15 s warning pause).
        [ "$engine" = docker-trixie-tcp ] \
          && json='{"storage-driver": "overlay2", "cgroup-parent": "/'"$name"'", "tls": false, "hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2375"]}'
        inside "$engine" sh -c "mkdir -p /etc/docker && printf '%s\n' '$json' >/etc/docker/daemon.json"
        "$DOCKER" exec -d "$name" sh -c 'exec dockerd >/var/log/dockerd.log 2>&1'
        ;;
      podman-*) podman_config | inside "$engine" bash ;;
    esac
    local waited=0
    until engine_answers "$engine"; do
      if [ "$waited" -ge 60 ]; then
        case "$engine" in
          docker-*) inside "$engine" tail -n 20 /var/log/dockerd.log >&2 || true ;;
          podman-*) inside "$engine" podman info >&2 || true ;;
        esac
        die "$engine: '$client info' did not answer within 60 s (above: why)"
      fi
      sleep 1; waited=$((waited + 1))
    done
  fi
  load_base_images "$engine"
  say "$engine: $(version_of "$engine")"
}

# The steps' base images, from the host's engine (no registry): only those missing inside.
load_base_images() {
  local engine=$1 client missing=() image
  client=$(client_of "$engine")
  for image in "${BASE_IMAGES[@]}"; do
    "$DOCKER" image inspect "$image" >/dev/null 2>&1 \
      || die "$image is missing on the host: run scripts/base-images.sh first"
    inside "$engine" "$client" image inspect "$image" >/dev/null 2>&1 || missing+=("$image")
  done
  [ ${#missing[@]} -gt 0 ] || { say "$engine: base images present"; return; }
  say "$engine: loading ${missing[*]} from the host"
  "$DOCKER" save "${missing[@]}" | inside "$engine" "$client" load -q >/dev/null \
    || die "$engine: loading ${missing[*]} failed"
  # Podman names a loaded image without a registry localhost/…; a pulled one is docker.io/….
  [ "$client" = podman ] || return 0
  for image in "${missing[@]}"; do
    local full=docker.io/library/$image
    case "$image" in */*)
      case "${image%%/*}" in *.* | *:* | localhost) full=$image ;; *) full=docker.io/$image ;; esac ;;
    esac
    if [ "$full" != "$image" ] && inside "$engine" podman image exists "localhost/$image"; then
      inside "$engine" podman tag "localhost/$image" "$full"
      inside "$engine" podman untag "$full" "localhost/$image"
    fi
  done
}

version_of() {
  case "$1" in
    docker-*)
      inside "$1" docker version --format 'Docker {{.Server.Version}} (client {{.Client.Version}})' | tr -d '\n'
      printf ', %s' "$(inside "$1" docker buildx version | cut -d' ' -f1-2)"
      printf ', storage %s' "$(inside "$1" docker info --format '{{.Driver}}{{range .DriverStatus}}{{if eq (index . 0) "driver-type"}} ({{index . 1}}){{end}}{{end}}')"
      ;;
    podman-*)
      inside "$1" podman version --format 'Podman {{.Client.Version}}' | tr -d '\n'
      printf ', storage %s' "$(inside "$1" podman info --format '{{.Store.GraphDriverName}}')"
      printf ', network %s' "$(inside "$1" podman info --format '{{.Host.NetworkBackend}}' 2>/dev/null || echo '?')"
      printf ', cgroups %s' "$(inside "$1" podman info --format '{{.Host.CgroupsVersion}}')"
      ;;
  esac
}

# --- exec ----------------------------------------------------------------------------

cmd_exec() {
  local engine=$1; shift
  known "$engine"
  [ $# -gt 0 ] || die "usage: engines.sh exec <engine> command [args...]"
  running "$engine" || die "$engine is not running: scripts/engines.sh start $engine"
  local dir=$REPO tty=()
  case "$PWD/" in "$REPO"/* | "$TARGET"/*) dir=$PWD ;; esac
  [ -t 0 ] && [ -t 1 ] && tty=(-t)
  "$DOCKER" exec -i "${tty[@]}" -w "$dir" -e "CHECKER_DOCKER=$(client_of "$engine")" -e DOCKER_BUILDKIT=1 \
    "$(name_of "$engine")" "$@"
}

# --- samples -------------------------------------------------------------------------

# What the engine prints, recorded for tests/engine_samples.rs: `save` of one tiny image
# (FROM scratch, a 1,000-byte /a, then a 2,345-byte /dir/b, then a CMD) and its `info`
# and `version` JSON, named after the engine's version and image store.
cmd_samples() {
  local engine=$1 client stem fixtures=$REPO/checker/tests/fixtures format=()
  known "$engine"
  running "$engine" || die "$engine is not running: scripts/engines.sh start $engine"
  client=$(client_of "$engine")
  case "$engine" in
    docker-*)
      stem=docker-$(inside "$engine" docker version --format '{{.Server.Version}}' | cut -d. -f1,2)
      if [ "$engine" = docker-trixie-containerd ]; then stem=$stem-containerd
      else stem=$stem-$(inside "$engine" docker info --format '{{.Driver}}'); fi ;;
    podman-*)
      stem=podman-$(inside "$engine" podman version --format '{{.Client.Version}}' | cut -d. -f1,2)
      format=(--format docker) ;;
  esac
  # shellcheck disable=SC2016 # expanded inside the container
  inside "$engine" sh -c 'set -e; rm -rf /tmp/sample; mkdir -p /tmp/sample/dir
    head -c 1000 /dev/zero >/tmp/sample/a; head -c 2345 /dev/zero >/tmp/sample/dir/b
    printf "FROM scratch\nCOPY a /a\nCOPY dir /dir\nCMD [\"/a\"]\n" >/tmp/sample/Dockerfile'
  inside "$engine" env DOCKER_BUILDKIT=1 "$client" build -q "${format[@]}" -t workshop-sample /tmp/sample >/dev/null
  inside "$engine" "$client" save workshop-sample >"$fixtures/saves/$stem.tar"
  inside "$engine" "$client" info --format '{{json .}}' >"$fixtures/engines/$stem.info.json"
  inside "$engine" "$client" version --format '{{json .}}' >"$fixtures/engines/$stem.version.json"
  inside "$engine" "$client" rmi workshop-sample >/dev/null
  inside "$engine" rm -rf /tmp/sample
  say "$engine: recorded $stem (saves/$stem.tar, engines/$stem.{info,version}.json)"
}

# --- stop ----------------------------------------------------------------------------

cmd_stop() {
  local engine=$1 name
  known "$engine"; name=$(name_of "$engine")
  if "$DOCKER" container inspect "$name" >/dev/null 2>&1; then
    if running "$engine"; then
      # Stop the engine first, then remove the cgroups it made (the container shares the
      # host's cgroup tree, so they would outlive it).
      # shellcheck disable=SC2016 # expanded inside the container
      inside "$engine" sh -c '
        if [ -f /var/run/docker.pid ]; then
          pid=$(cat /var/run/docker.pid); kill "$pid" 2>/dev/null || true
          for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
        fi
        for d in /sys/fs/cgroup/*/'"$name"' /sys/fs/cgroup/*/libpod_parent; do
          [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
        done; true' || true
    fi
    "$DOCKER" rm -f "$name" >/dev/null
    say "$engine: container $name removed"
  fi
  if "$DOCKER" volume inspect "$name" >/dev/null 2>&1; then
    "$DOCKER" volume rm "$name" >/dev/null
    say "$engine: volume $name removed"
  fi
}

# --- the reduced test set ------------------------------------------------------------

# name of the test binary (a file of checker/tests), then its libtest arguments.
SET=(
  "e2e_steps --exact every_solution_passes_every_check_of_its_step"
  "e2e_bad_input --exact a_dockerfile_that_does_not_build a_server_bound_to_127_0_0_1 a_shell_as_pid_1_is_named an_image_over_its_limit_names_the_instruction_and_the_folders a_dynamically_linked_binary_in_scratch a_server_that_ignores_sigterm a_run_that_never_ends_is_stopped_and_leaves_no_process"
  "e2e_grade --exact a_step_that_cannot_be_checked_is_an_error_and_the_others_are_graded"
  "zz_nothing_left"
)
SET_STEPS=step-1,step-5,step-6,step-8

# Compiles the checker's test binaries on the host (once per matrix) and prints, for each
# of the set's, "name path".
compile_tests() {
  command -v cargo >/dev/null || die "cargo is missing: the test binaries are compiled on the host"
  say "compiling the checker's test binaries (cargo test -p checker --no-run)"
  local json
  json=$(cd "$REPO" && cargo test -p checker --no-run --message-format=json-render-diagnostics) \
    || die "cargo test -p checker --no-run failed"
  printf '%s\n' "$json" \
    | sed -n 's/.*"target":{"kind":\["test"\][^}]*"name":"\([^"]*\)".*"executable":"\([^"]*\)".*/\1 \2/p'
}

BINARIES=""
binary() {
  local path
  path=$(printf '%s\n' "$BINARIES" | awk -v n="$1" '$1 == n { print $2 }')
  [ -n "$path" ] || die "no test binary '$1' among cargo's artifacts"
  echo "$path"
}

# Runs the set inside the engine; prints each binary's result; returns 1 if any failed.
run_set() {
  local engine=$1 entry bin args status=0 log
  mkdir -p "$LOGS"; log=$LOGS/$engine.log; : >"$log"
  [ -n "$BINARIES" ] || BINARIES=$(compile_tests)
  for entry in "${SET[@]}"; do
    read -r bin args <<<"$entry"
    local path; path=$(binary "$bin")
    local expected=$(( $(wc -w <<<"$args") - 1 )); [ -n "$args" ] || expected=""
    say "$engine: $bin ${args:+(${args#--exact })}"
    local out=$LOGS/$engine.$bin.log rc
    # The binary's output streams (indented) and is kept; timeout runs inside, where the
    # tests run (a killed `docker exec` client would leave them running).
    set +e
    # shellcheck disable=SC2086 # $args: the binary's arguments, split on purpose
    cmd_exec "$engine" env CHECKER_TEST_STEPS="$SET_STEPS" \
      timeout --kill-after=30 "$TEST_TIMEOUT" "$path" --color never $args </dev/null 2>&1 \
      | tee "$out" | sed -u 's/^/    /'
    rc=${PIPESTATUS[0]}
    set -e
    local ran; ran=$(sed -n 's/^running \([0-9]*\) tests\{0,1\}$/\1/p' "$out" | tail -n1)
    cat "$out" >>"$log"; rm -f "$out"
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
      say "$engine: $bin timed out after $TEST_TIMEOUT s"; status=1
    elif [ "$rc" -ne 0 ]; then
      status=1
    elif [ -n "$expected" ] && [ "$ran" != "$expected" ]; then
      say "$engine: $bin ran ${ran:-no} tests, the set names $expected (a test renamed?)"; status=1
    fi
  done
  FAILED=$(grep -E '^test .* \.\.\. FAILED$' "$log" | sed 's/^test \(.*\) \.\.\. FAILED$/\1/' | paste -sd' ' || true)
  PASSED=$(grep -cE '^test .* \.\.\. ok$' "$log" || true)
  return "$status"
}

cmd_test() {
  known "$1"
  running "$1" || die "$1 is not running: scripts/engines.sh start $1"
  local start=$SECONDS rc=0
  run_set "$1" || rc=$?
  say "$1: set $( [ $rc -eq 0 ] && echo passed || echo failed ) ($PASSED tests passed${FAILED:+, failed: $FAILED}) in $(minutes $((SECONDS - start)))"
  return $rc
}

# --- matrix --------------------------------------------------------------------------

minutes() { awk -v s="$1" 'BEGIN { printf "%.1f min", s / 60 }'; }

# Can this host run an engine container at all? Prints why not.
host_can_run_engines() {
  local out
  out=$("$DOCKER" info 2>&1 >/dev/null) || { echo "the host's engine does not answer ('$DOCKER info': $(tail -n1 <<<"$out"))"; return 1; }
  "$DOCKER" image inspect "${BASE_IMAGES[0]}" >/dev/null 2>&1 || { echo "${BASE_IMAGES[0]} is missing on the host (scripts/base-images.sh)"; return 1; }
  out=$("$DOCKER" run --rm --label "$LABEL=probe" "${FLAGS[@]}" "${BASE_IMAGES[0]}" true 2>&1) \
    || { echo "a container with the engine's flags does not start: $(tail -n1 <<<"$out")"; return 1; }
}

cmd_matrix() {
  local why
  if ! why=$(host_can_run_engines); then
    say "matrix skipped: $why"
    return 0
  fi
  local engine summary=() failed=0
  for engine in "${MATRIX[@]}"; do known "$engine"; done
  BINARIES=$(compile_tests)
  [ ! -e "$REPO/.checker" ] \
    || say "note: $REPO/.checker exists (a checker run by hand in this repository): zz_nothing_left will fail on it"
  trap 'say "interrupted: removing $engine"; "$BASH" "$SELF" stop "$engine"; exit 130' INT TERM
  for engine in "${MATRIX[@]}"; do
    local t0=$SECONDS t1 t2 t3 rc=0 what
    PASSED=0; FAILED=""
    say "=== $engine ==="
    # A container or volume left by an interrupted run would skew the set and its minutes.
    "$BASH" "$SELF" stop "$engine" >/dev/null || true
    # image and start in a bash of their own: set -e holds there (not in an `if !`).
    if ! "$BASH" "$SELF" image "$engine"; then what="failed: image build"; rc=1; fi
    t1=$SECONDS
    if [ $rc -eq 0 ] && ! "$BASH" "$SELF" start "$engine"; then what="failed: engine did not start"; rc=1; fi
    t2=$SECONDS
    if [ $rc -eq 0 ]; then
      if run_set "$engine"; then what="passed ($PASSED tests)"
      else what="FAILED ($PASSED tests passed; failed: ${FAILED:-see $LOGS/$engine.log})"; rc=1
      fi
    fi
    t3=$SECONDS
    "$BASH" "$SELF" stop "$engine" || say "$engine: stopping failed"
    [ $rc -eq 0 ] || failed=1
    summary+=("$engine: $what in $(minutes $((SECONDS - t0))) (image $(minutes $((t1 - t0))), start+load $(minutes $((t2 - t1))), tests $(minutes $((t3 - t2))))")
  done
  trap - INT TERM
  say "summary (logs in $LOGS/):"
  local line; for line in "${summary[@]}"; do say "  $line"; done
  return "$failed"
}

# --- remote --------------------------------------------------------------------------

# tests/e2e_remote.rs (ignored by `cargo test`) run on the HOST, its checker and client
# reaching docker-trixie-tcp over TCP at the container's address.
cmd_remote() {
  local why engine=docker-trixie-tcp
  if ! why=$(host_can_run_engines); then
    say "remote skipped: $why"
    return 0
  fi
  BINARIES=$(compile_tests)
  local path; path=$(binary e2e_remote)
  local t0=$SECONDS rc=0
  trap 'say "interrupted: removing $engine"; "$BASH" "$SELF" stop "$engine"; exit 130' INT TERM
  "$BASH" "$SELF" stop "$engine" >/dev/null || true
  "$BASH" "$SELF" start "$engine" || { "$BASH" "$SELF" stop "$engine" || true; die "$engine did not start"; }
  local ip; ip=$("$DOCKER" container inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$(name_of "$engine")")
  [ -n "$ip" ] || die "$engine has no IP address on the host's network"
  say "$engine: e2e_remote from the host, DOCKER_HOST=tcp://$ip:2375"
  mkdir -p "$LOGS"
  set +e
  (cd "$REPO" && CHECKER_DOCKER=$DOCKER CHECKER_TEST_REMOTE_HOST=tcp://$ip:2375 \
    timeout --kill-after=30 "$TEST_TIMEOUT" "$path" --color never --ignored --exact \
    a_step_is_checked_on_an_engine_reached_over_tcp </dev/null 2>&1) | tee "$LOGS/$engine.log" | sed -u 's/^/    /'
  rc=${PIPESTATUS[0]}
  set -e
  "$BASH" "$SELF" stop "$engine" || say "$engine: stopping failed"
  trap - INT TERM
  grep -q '^running 1 test$' "$LOGS/$engine.log" || { say "$engine: e2e_remote ran no test (renamed?)"; rc=1; }
  say "remote ($engine): $( [ "$rc" -eq 0 ] && echo passed || echo FAILED ) in $(minutes $((SECONDS - t0)))"
  return "$rc"
}

# --- main ----------------------------------------------------------------------------

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$SELF"
  exit 2
}

[ $# -gt 0 ] || usage
command=$1; shift
case "$command" in
  image | start | stop | test | samples) [ $# -eq 1 ] || usage; "cmd_$command" "$1" ;;
  exec) [ $# -ge 1 ] || usage; cmd_exec "$@" ;;
  matrix | remote) [ $# -eq 0 ] || usage; "cmd_$command" ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
