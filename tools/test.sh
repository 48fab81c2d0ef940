#!/usr/bin/env bash
# Installs what is missing and runs the whole test suite (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/setup.sh
# The Python client test codes against docs/protocol.md with pyzmq.
python3 -c 'import zmq' 2>/dev/null || python3 -m pip install --quiet pyzmq || python3 -m pip install --quiet --break-system-packages pyzmq
swift build --build-tests
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The suite is XCTest only; Swift Testing would add a closing "0 tests" line of its own.
set +e
swift test --skip-build --disable-swift-testing "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
summary=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with [0-9]+ failures?" "$log" | tail -n 1)
if [[ $summary =~ Executed\ ([0-9]+)\ tests?,\ with\ ([0-9]+)\ failure ]]; then
  total=${BASH_REMATCH[1]}
  failed=${BASH_REMATCH[2]}
  echo "$((total - failed)) passed, $failed failed"
fi
# Then every libFuzzer target for TTAD_FUZZ_SECONDS (5) from its seeds and regression inputs
# (docs/testing.md), built unoptimised: a crash or a violated property fails the run.
# TTAD_FUZZ_SECONDS=0 leaves it out; a filtered run never has it.
fuzz_seconds=${TTAD_FUZZ_SECONDS:-5}
if ((fuzz_seconds > 0 && $# == 0)); then
  TTAD_FUZZ_OPTIONAL=1 TTAD_FUZZ_BUILD=${TTAD_FUZZ_BUILD:-debug} bash tools/fuzz.sh "$fuzz_seconds" || status=1
fi
exit "$status"
