#!/usr/bin/env python3
"""d3rlpy anchor for `stitch bench train`: d3rlpy's own TD3+BC, IQL and CQL update steps (its default
configurations, CPU), timed through `algo.update(batch)` at HalfCheetah dimensions (observation 17, action 6) and
batch 256, the figures the offline-algorithms issue quotes for d3rlpy 2.8. Batch content does not matter for
timing: 64 random mini-batches are made once and cycled.

Prints one JSON object:
  {"d3rlpy_version": ..., "threads": T, "results": [{"name": "td3bc", "anchor_steps_per_second": X}, ...]}
the median rate over 7 timed batches of updates.

  python benchmarks/d3rlpy_train_anchor.py [--threads 1|2] [--seconds 3] [--algos td3bc,iql,cql]
"""
import argparse
import json
import os
import sys
import warnings

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--seconds", type=float, default=3.0, help="total timed seconds per algorithm (7 batches)")
parser.add_argument("--algos", default="td3bc,iql", help="comma-separated subset of td3bc,iql,cql")
args = parser.parse_args()

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from anchor_timing import median_rate  # noqa: E402
import d3rlpy  # noqa: E402
from d3rlpy.dataset import TransitionMiniBatch  # noqa: E402

torch.set_num_threads(args.threads)
torch.set_num_interop_threads(1)

OBS, ACT, BATCH, N_BATCHES = 17, 6, 256, 64
CONFIGS = {"td3bc": d3rlpy.algos.TD3PlusBCConfig, "iql": d3rlpy.algos.IQLConfig, "cql": d3rlpy.algos.CQLConfig}


def make_batches(seed=0):
    rng = np.random.default_rng(seed)
    f32 = np.float32
    out = []
    for _ in range(N_BATCHES):
        out.append(TransitionMiniBatch(
            observations=rng.standard_normal((BATCH, OBS), f32), actions=rng.uniform(-1, 1, (BATCH, ACT)).astype(f32),
            rewards=rng.standard_normal((BATCH, 1), f32), next_observations=rng.standard_normal((BATCH, OBS), f32),
            next_actions=rng.uniform(-1, 1, (BATCH, ACT)).astype(f32), terminals=np.zeros((BATCH, 1), f32),
            intervals=np.ones((BATCH, 1), f32), transitions=[]))
    return out


def measure(name, seconds, batches):
    algo = CONFIGS[name](batch_size=BATCH).create(device="cpu:0")
    algo.create_impl((OBS,), ACT)
    return median_rate(algo.update, batches, seconds)


def main():
    names = [n.strip() for n in args.algos.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        sys.exit(f"d3rlpy_train_anchor: unknown algorithm(s) {unknown}; known: {sorted(CONFIGS)}")
    batches = make_batches()
    results = [{"name": n, "anchor_steps_per_second": measure(n, args.seconds, batches)} for n in names]
    print(json.dumps({"d3rlpy_version": d3rlpy.__version__, "threads": args.threads, "results": results}))


if __name__ == "__main__":
    main()
