#!/usr/bin/env bash
# Installs what ttad needs on Debian 12 and is not there yet. Idempotent: a second run installs
# nothing. Runs apt-get only when a package is missing (as root, or through sudo when available).
set -euo pipefail

packages=(
  libzmq3-dev        # ZeroMQ (ingest/publish sockets)
  libopenblas-dev    # BLAS for the model's matrix products
  libsqlite3-dev     # SQLite for state (through GRDB)
  libturbojpeg0-dev  # JPEG decoding (TurboJPEG API)
  libpng-dev         # PNG decoding
  pkg-config         # SwiftPM finds the C libraries through it
  python3            # fixture tools and the pyzmq client test
  python3-pip
  dataset-fashion-mnist  # the evaluation streams' images (TTADScenario reads its IDX files)
  prometheus         # promtool: the tests check the alert rules and a scraped exposition with it (~96 MB)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null; then
  for d in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
    [[ -x $d/swift ]] && export PATH="$d:$PATH"
  done
fi
if ! command -v swift >/dev/null; then
  echo "setup: no Swift toolchain found. Install Swift 6.1 or newer (https://www.swift.org/install/linux/) and put it on PATH." >&2
  exit 1
fi
