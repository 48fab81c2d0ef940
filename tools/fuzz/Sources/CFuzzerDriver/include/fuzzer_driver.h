#ifndef TTAD_FUZZER_DRIVER_H
#define TTAD_FUZZER_DRIVER_H
#include <stddef.h>
#include <stdint.h>

// libFuzzer's entry for programs that own `main` (compiler-rt's FuzzerInterface.h). SwiftPM
// names an executable's entry point itself, so the targets call this from main.swift instead of
// linking libFuzzer's own `main`. Runs LLVMFuzzerInitialize when the program defines it.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
