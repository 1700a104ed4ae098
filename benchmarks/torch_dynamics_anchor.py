#!/usr/bin/env python3
"""PyTorch anchor for `stitch bench dynamics`: OfflineRL-Kit's own EnsembleDynamicsModel (imported from a checkout of
github.com/yihaosun1124/OfflineRL-Kit, e3ce697, given by --offlinerlkit; nothing of it is copied here), trained as
EnsembleDynamics.learn trains it (loss = sum over members of mean((mu - y)^2 e^-logvar) + mean(logvar), + decay
+ 0.01 (sum max_logvar - sum min_logvar), Adam 1e-3) and stepped as EnsembleDynamics.step steps it (forward under
no_grad, NumPy Gaussian draws, a random member per row) on one rollout batch of 50,000 rows (the reference steps
the whole batch at once). Prints one JSON object with updates/s and transitions/s (medians of 7 timed batches).
  python benchmarks/torch_dynamics_anchor.py --offlinerlkit PATH [--threads 1] [--seconds 3]
"""
import argparse
import json
import sys
import time

import numpy as np
import torch

p = argparse.ArgumentParser()
p.add_argument("--offlinerlkit", required=True)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--seconds", type=float, default=3)
p.add_argument("--members", type=int, default=7)
p.add_argument("--hidden", type=int, default=200)
p.add_argument("--batch", type=int, default=256)
p.add_argument("--obs", type=int, default=11)
p.add_argument("--act", type=int, default=3)
a = p.parse_args()
sys.path.insert(0, a.offlinerlkit)
from offlinerlkit.modules.dynamics_module import EnsembleDynamicsModel  # noqa: E402

torch.set_num_threads(a.threads)
torch.manual_seed(0)
rng = np.random.default_rng(0)
model = EnsembleDynamicsModel(obs_dim=a.obs, action_dim=a.act, hidden_dims=[a.hidden] * 4, num_ensemble=a.members,
                              num_elites=5, weight_decays=[2.5e-5, 5e-5, 7.5e-5, 7.5e-5, 1e-4], device="cpu")
optim = torch.optim.Adam(model.parameters(), lr=1e-3)
x = rng.normal(size=(a.members, a.batch, a.obs + a.act)).astype(np.float32)
y = torch.as_tensor(rng.normal(size=(a.members, a.batch, a.obs + 1)).astype(np.float32))


def update():
    mean, logvar = model(x)
    inv_var = torch.exp(-logvar)
    mse_loss_inv = (torch.pow(mean - y, 2) * inv_var).mean(dim=(1, 2))
    var_loss = logvar.mean(dim=(1, 2))
    loss = mse_loss_inv.sum() + var_loss.sum() + model.get_decay_loss()
    loss = loss + 0.01 * model.max_logvar.sum() - 0.01 * model.min_logvar.sum()
    optim.zero_grad()
    loss.backward()
    optim.step()


ROWS = 50_000
obs = rng.normal(size=(ROWS, a.obs)).astype(np.float32)
act = rng.uniform(-1, 1, size=(ROWS, a.act)).astype(np.float32)


def step():
    obs_act = np.concatenate([obs, act], axis=-1)
    with torch.no_grad():
        mean, logvar = model(obs_act)
    mean = mean.cpu().numpy()
    logvar = logvar.cpu().numpy()
    mean[..., :-1] += obs
    std = np.sqrt(np.exp(logvar))
    samples = (mean + np.random.normal(size=mean.shape) * std).astype(np.float32)
    select = np.random.randint(0, samples.shape[0], size=(ROWS,))
    return samples[select, np.arange(ROWS)]


def rate(fn, seconds):
    fn()
    t0 = time.perf_counter(); n = 0
    while time.perf_counter() - t0 < seconds / 10:
        fn(); n += 1
    per = max(1, n // 2)
    rates = []
    for _ in range(7):
        t = time.perf_counter()
        for _ in range(per):
            fn()
        rates.append(per / (time.perf_counter() - t))
    return float(np.median(rates))


u = rate(update, a.seconds)
s = rate(step, a.seconds) * ROWS
print(json.dumps({"threads": a.threads, "torch": torch.__version__,
                  "dynamics_update_per_second": u, "model_rollout_transitions_per_second": s,
                  "rollout_epoch_seconds_50000x5": 250_000 / s}))
