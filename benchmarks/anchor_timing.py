"""Timing shared by the eager anchors (benchmarks/torch_train_anchor.py, benchmarks/d3rlpy_train_anchor.py)."""
import time


def median_rate(update, batches, seconds, warmup=3, timed_batches=7):
    """Median updates per second of `update(batch)` over `timed_batches` timed stretches of `seconds /
    timed_batches` each (at least one update per stretch), cycling through `batches`, after `warmup` updates."""
    calls = 0
    for _ in range(warmup):
        update(batches[calls % len(batches)]); calls += 1
    rates = []
    for _ in range(timed_batches):
        start, n = time.perf_counter(), 0
        while True:
            update(batches[calls % len(batches)]); calls += 1; n += 1
            if time.perf_counter() - start >= seconds / timed_batches:
                break
        rates.append(n / (time.perf_counter() - start))
    return sorted(rates)[len(rates) // 2]
