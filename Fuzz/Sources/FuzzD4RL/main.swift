import FuzzSupport

runFuzzer(fuzzD4RL)
