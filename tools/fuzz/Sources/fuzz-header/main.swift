import FuzzSupport

// A closure, not `fuzz` itself: converting the @_cdecl function to a C pointer here makes a
// debug (per-file) build emit its C symbol twice.
runFuzzer { fuzz($0, $1) }
