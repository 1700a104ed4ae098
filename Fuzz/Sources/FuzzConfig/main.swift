import FuzzSupport

runFuzzer(fuzzConfig)
