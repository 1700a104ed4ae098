import FuzzSupport

runFuzzer(fuzzMinari)
