#!/usr/bin/env bash
# Builds the libFuzzer targets in tools/fuzz and runs each for a while.
#
#   bash tools/fuzz.sh [seconds-per-target] [target...]     (targets: header sample image config checkpoint)
#
# Each target starts from its committed seeds (tools/fuzz/corpus/<target>) plus what earlier runs
# found (tools/fuzz/.build/runs/<target>/corpus, kept between runs, not committed). Prints
# executions and coverage per target; a crash leaves its input in tools/fuzz/.build/runs/<target>/
# and makes the script exit 1 after the other targets ran. docs/testing.md has the details.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
(($# > 0)) && shift
all=(header sample image config checkpoint)
targets=("$@")
((${#targets[@]})) || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "fuzz: unknown target '$t' (one of: ${all[*]})" >&2; exit 2; }
done

source tools/setup.sh
# A toolchain without libFuzzer (Xcode's, for one) fails here in seconds instead of after the
# build. TTAD_FUZZ_OPTIONAL=1 (tools/test.sh sets it) turns that into a skip.
probe=$(mktemp -d)
printf '@_cdecl("LLVMFuzzerTestOneInput") public func f(_ d: UnsafePointer<UInt8>?, _ n: Int) -> CInt { 0 }\n' >"$probe/probe.swift"
if ! swiftc -sanitize=fuzzer -parse-as-library "$probe/probe.swift" -o "$probe/probe" >/dev/null 2>&1; then
  rm -rf "$probe"
  echo "fuzz: this Swift toolchain cannot build libFuzzer targets (swiftc -sanitize=fuzzer fails)" >&2
  [[ ${TTAD_FUZZ_OPTIONAL:-0} == 1 ]] && { echo "fuzz: skipped" >&2; exit 0; }
  exit 1
fi
rm -rf "$probe"
pkg=tools/fuzz
scratch=$pkg/.build
# Every Swift module (the root package's parsers included) gets libFuzzer's coverage
# instrumentation and AddressSanitizer; toml++ (C++, inside TOMLKit) gets the coverage too.
# TTAD_FUZZ_BUILD=debug (tools/test.sh sets it) builds unoptimised: a fraction of the release
# build's compile time, at a fraction of its executions per second — enough for a short run.
build=${TTAD_FUZZ_BUILD:-release}
flags=(-c "$build" --package-path "$pkg" --scratch-path "$scratch"
       -Xswiftc -sanitize=fuzzer,address -Xcxx -fsanitize=fuzzer-no-link)
# TTAD_FUZZ_NO_BUILD=1 runs what is built (e.g. several runs side by side off one build).
if [[ ${TTAD_FUZZ_NO_BUILD:-0} == 1 ]]; then
  bin=$scratch/$(uname -m)-unknown-linux-gnu/$build
else
  start=$(date +%s)
  if ((${#targets[@]} == ${#all[@]})); then
    swift build "${flags[@]}"
  else
    for t in "${targets[@]}"; do swift build "${flags[@]}" --product "fuzz-$t"; done
  fi
  echo "fuzz: build took $(($(date +%s) - start)) s"
  bin=$(swift build "${flags[@]}" --show-bin-path)
fi

# The Swift runtime's own backtracer, run inside a crashing target under ASan, reports a
# stack-buffer-underflow of its own after the real error; libFuzzer's report is enough.
export SWIFT_BACKTRACE=enable=no
# Third-party leaks per call (tools/fuzz/lsan.supp says which and why); ours still fail a run.
export LSAN_OPTIONS=suppressions=$PWD/$pkg/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}
status=0
summary=()
for t in "${targets[@]}"; do
  run=$scratch/runs/$t
  mkdir -p "$run/corpus"
  dict=()
  [[ -f $pkg/dict/$t.dict ]] && dict=(-dict="$pkg/dict/$t.dict")
  log=$run/last.log
  echo "fuzz: $t for ${seconds} s"
  set +e
  # New inputs go to the first directory (the run's own corpus); the seeds are only read.
  "$bin/fuzz-$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$run/" "${dict[@]}" \
    "$run/corpus" "$pkg/corpus/$t" >"$log" 2>&1
  rc=$?
  # A run that stopped early has no stats lines: the greps below then find nothing (and must
  # not end the script), so the errexit stays off until the row is made.
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -n 1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | awk '{print $2}')
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" | awk '{print $2}')
  corp=$(grep -o 'corp: [0-9]*' <<<"$last" | awk '{print $2}')
  set -e
  verdict=ok
  if ((rc != 0)); then
    verdict="CRASH (exit $rc): $(ls -t "$run"/crash-* "$run"/timeout-* "$run"/oom-* 2>/dev/null | head -n 1 || true)"
    status=1
    grep -E 'ERROR|fatal|Fatal|violated' "$log" | head -n 5 >&2 || true
  fi
  summary+=("$(printf '%-11s %12s %8s %8s %7s  %s' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$verdict")")
done
printf '%-11s %12s %8s %8s %7s  %s\n' target executions edges features corpus result
printf '%s\n' "${summary[@]}"
exit "$status"
