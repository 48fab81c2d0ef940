import FuzzSupport

runFuzzer(fuzz)
