#!/usr/bin/env bash
# Installs what is missing and runs the whole test suite (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/setup.sh
# The Python client test codes against docs/protocol.md with pyzmq.
python3 -c 'import zmq' 2>/dev/null || python3 -m pip install --quiet pyzmq || python3 -m pip install --quiet --break-system-packages pyzmq
swift build --build-tests
swift test --skip-build "$@"
