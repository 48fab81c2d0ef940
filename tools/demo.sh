#!/usr/bin/env bash
# Installs what is missing, builds ttad (release) and runs its main job on the bundled default:
# the daemon with the example config and bundled class embeddings, fed a synthetic drifting
# stream over ZeroMQ, with a live summary of accuracy, entropy and rejected samples.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/setup.sh
swift build -c release --product ttad
exec .build/release/ttad demo --config deploy/ttad.toml "$@"
