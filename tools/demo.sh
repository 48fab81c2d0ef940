#!/usr/bin/env bash
# Installs what is missing, builds ttad (release) and runs its main job on the bundled default:
# the daemon in image mode on the bundled model (deploy/models/fmnist-clip), fed a camera-like
# Fashion-MNIST stream over ZeroMQ (clean, then ten corruptions), with a live summary of
# accuracy, entropy and drift per domain. Extra arguments go to `ttad demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/setup.sh
swift build -c release --product ttad
exec .build/release/ttad demo --config deploy/ttad.toml "$@"
