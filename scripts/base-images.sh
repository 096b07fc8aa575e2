#!/usr/bin/env bash
# Makes sure the base images the steps build FROM exist on the engine, under their real tags.
# Each image is pulled where a registry answers; only when the pull fails is a stand-in built
# from what this machine has (a debootstrap'ed Debian rootfs, the host's own Rust toolchain).
# Idempotent: an image that already exists is left alone.
set -euo pipefail

DOCKER=${CHECKER_DOCKER:-docker}
# The tags the steps use; overridable for the script's own tests.
DEBIAN_TAG=${DEBIAN_TAG:-debian:bookworm-slim}
RUST_TAG=${RUST_TAG:-rust:1.95-slim-bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

say() { printf 'base-images: %s\n' "$*"; }
die() { printf 'base-images: error: %s\n' "$*" >&2; exit 1; }

"$DOCKER" info >/dev/null 2>&1 || die "the Docker engine does not answer ('$DOCKER info' failed). Start dockerd, or set CHECKER_DOCKER to a working docker client."

have() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

# Tries a pull; prints why it failed, returns non-zero on failure.
try_pull() {
  local out
  if out=$("$DOCKER" pull -q "$1" 2>&1); then say "$1: pulled"; return 0; fi
  say "$1: pull failed ($(printf '%s' "$out" | tail -n1)); building a stand-in"
  return 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

build_debian() {
  command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install -y debootstrap"
  local root="$work/rootfs"
  say "$DEBIAN_TAG: debootstrap --variant=minbase bookworm from $MIRROR (a few minutes)"
  debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  # Slim it the way the official -slim images are: no docs, man pages, locales or apt lists,
  # and dpkg told not to bring them back.
  rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
         "$root"/usr/share/locale/* "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
         "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*.log
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
CFG
  tar -C "$root" -c . | "$DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' - "$DEBIAN_TAG" >/dev/null
  say "$DEBIAN_TAG: stand-in imported ($("$DOCKER" image inspect -f '{{.Size}}' "$DEBIAN_TAG") bytes)"
}

build_rust() {
  local want=${RUST_TAG#rust:}; want=${want%%-*}          # 1.95
  command -v rustc >/dev/null || die "rustc is missing on the host: the stand-in $RUST_TAG is made from the host's toolchain"
  local version; version=$(rustc --version | awk '{print $2}')   # 1.95.0
  case "$version" in
    "$want" | "$want".*) ;;
    *) die "the host's rustc is $version but the tag is $RUST_TAG: a stand-in must match its tag. Install Rust $want (rustup toolchain install $want) or pull the real image." ;;
  esac
  local sysroot host
  sysroot=$(rustc --print sysroot)
  host=$(rustc -vV | sed -n 's/^host: //p')
  local ctx="$work/rust"
  mkdir -p "$ctx/toolchain"
  say "$RUST_TAG: copying the host toolchain $version ($host) from $sysroot"
  # Docs are not needed to build, and they are most of the toolchain's size.
  tar -C "$sysroot" --exclude=./share/doc -c . | tar -C "$ctx/toolchain" -x
  local ca=/etc/ssl/certs/ca-certificates.crt
  [ -f "$ca" ] || die "no CA bundle at $ca: the stand-in needs the host's trusted CAs to reach crates.io"
  cp "$ca" "$ctx/host-ca.crt"
  local tc="/usr/local/rustup/toolchains/$version-$host"
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $DEBIAN_TAG
ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo \\
    PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    RUST_VERSION=$version
COPY host-ca.crt /usr/local/share/ca-certificates/host-ca.crt
RUN apt-get update \\
 && apt-get install -y --no-install-recommends ca-certificates gcc libc6-dev \\
 && rm -rf /var/lib/apt/lists/* \\
 && update-ca-certificates >/dev/null
COPY toolchain $tc
RUN mkdir -p /usr/local/cargo/bin \\
 && for b in $tc/bin/*; do ln -s "\$b" /usr/local/cargo/bin/; done \\
 && cargo --version && rustc --version
DOCKERFILE
  DOCKER_BUILDKIT=1 "$DOCKER" build -q -t "$RUST_TAG" "$ctx" >"$work/rust-build.log" 2>&1 \
    || { tail -n 30 "$work/rust-build.log" >&2; die "building the stand-in $RUST_TAG failed (log above)"; }
  say "$RUST_TAG: stand-in built ($("$DOCKER" image inspect -f '{{.Size}}' "$RUST_TAG") bytes)"
}

if have "$DEBIAN_TAG"; then say "$DEBIAN_TAG: present"; elif ! try_pull "$DEBIAN_TAG"; then build_debian; fi
if have "$RUST_TAG"; then say "$RUST_TAG: present"; elif ! try_pull "$RUST_TAG"; then build_rust; fi
