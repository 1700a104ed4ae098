#!/usr/bin/env python3
"""PyTorch (eager) anchor for `stitch bench train`: whole update steps of TD3+BC, IQL, CQL and SAC.

Written here from the papers' update rules in the style of CORL's single-file PyTorch implementations (the usual
yardstick for "PyTorch eager"): separate nn.Module actor and critics, one torch.optim.Adam per network, targets as
deep copies moved with a Polyak loop over parameters, one update per Python call. CORL's default hyperparameters;
the same dimensions as benchmarks/jax_train_anchor.py (TD3+BC, IQL, CQL: HalfCheetah, observation 17, action 6;
SAC: Hopper, 11 and 3) and batch 256. Batch content does not matter for timing: 64 random batches per set of
dimensions are made once and cycled.

Prints one JSON object:
  {"torch_version": ..., "threads": T, "results": [{"name": "td3bc", "anchor_steps_per_second": X}, ...]}
the median rate over 7 timed batches of updates.

  python benchmarks/torch_train_anchor.py [--threads 1|2] [--seconds 3] [--algos td3bc,iql,cql,sac]
"""
import argparse
import copy
import json
import math
import os
import sys

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--seconds", type=float, default=3.0, help="total timed seconds per algorithm (7 batches)")
parser.add_argument("--algos", default="td3bc,iql,cql,sac", help="comma-separated subset of td3bc,iql,cql,sac")
args = parser.parse_args()

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import torch  # noqa: E402
from anchor_timing import median_rate  # noqa: E402
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(args.threads)
torch.set_num_interop_threads(1)
torch.manual_seed(0)

OBS, ACT, BATCH = 17, 6, 256       # HalfCheetah (td3bc, iql, cql)
SAC_OBS, SAC_ACT = 11, 3           # Hopper (sac)
GAMMA, TAU = 0.99, 0.005
N_BATCHES = 64


def mlp(sizes, out_act=None):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    if out_act is not None:
        layers.append(out_act)
    return nn.Sequential(*layers)


class Critic(nn.Module):
    def __init__(self, obs, act, hidden=(256, 256)):
        super().__init__()
        self.net = mlp([obs + act, *hidden, 1])

    def forward(self, s, a):
        return self.net(torch.cat([s, a], dim=-1)).squeeze(-1)


def soft_update(target, online, tau=TAU):
    with torch.no_grad():
        for t, o in zip(target.parameters(), online.parameters()):
            t.data.mul_(1 - tau).add_(o.data, alpha=tau)


class TanhGaussian(nn.Module):
    """Mean and log-std heads on one trunk; reparameterised tanh-squashed samples and their log-density."""

    def __init__(self, obs, act, hidden=(256, 256)):
        super().__init__()
        self.trunk = mlp([obs, *hidden])
        self.trunk.append(nn.ReLU())
        self.mean, self.log_std = nn.Linear(256, act), nn.Linear(256, act)

    def forward(self, s):
        h = self.trunk(s)
        mean, log_std = self.mean(h), self.log_std(h).clamp(-20, 2)
        normal = torch.distributions.Normal(mean, log_std.exp())
        u = normal.rsample()
        log_prob = normal.log_prob(u).sum(-1) - (2 * (math.log(2) - u - F.softplus(-2 * u))).sum(-1)
        return torch.tanh(u), log_prob


# TD3+BC (Fujimoto & Gu 2021), CORL td3_bc.py defaults: alpha 2.5, noise 0.2, clip 0.5, delay 2, lr 3e-4.
class TD3BC:
    def __init__(self):
        self.actor = mlp([OBS, 256, 256, ACT], nn.Tanh())
        self.actor_t = copy.deepcopy(self.actor)
        self.q1, self.q2 = Critic(OBS, ACT), Critic(OBS, ACT)
        self.q1_t, self.q2_t = copy.deepcopy(self.q1), copy.deepcopy(self.q2)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=3e-4)
        self.q1_opt = torch.optim.Adam(self.q1.parameters(), lr=3e-4)
        self.q2_opt = torch.optim.Adam(self.q2.parameters(), lr=3e-4)
        self.it = 0

    def update(self, b):
        self.it += 1
        s, a, r, s2, d = b
        with torch.no_grad():
            noise = (torch.randn_like(a) * 0.2).clamp(-0.5, 0.5)
            a2 = (self.actor_t(s2) + noise).clamp(-1, 1)
            y = r + (1 - d) * GAMMA * torch.min(self.q1_t(s2, a2), self.q2_t(s2, a2))
        loss = F.mse_loss(self.q1(s, a), y) + F.mse_loss(self.q2(s, a), y)
        self.q1_opt.zero_grad(); self.q2_opt.zero_grad()
        loss.backward()
        self.q1_opt.step(); self.q2_opt.step()
        if self.it % 2 == 0:
            pi = self.actor(s)
            q = self.q1(s, pi)
            lmbda = 2.5 / q.abs().mean().detach()
            actor_loss = -lmbda * q.mean() + F.mse_loss(pi, a)
            self.actor_opt.zero_grad()
            actor_loss.backward()
            self.actor_opt.step()
            soft_update(self.q1_t, self.q1); soft_update(self.q2_t, self.q2); soft_update(self.actor_t, self.actor)


# IQL (Kostrikov et al. 2021), CORL iql.py defaults: expectile 0.7, beta 3, weights clipped at 100, lrs 3e-4,
# Gaussian actor (tanh mean, state-independent log-std), twin critics, value network.
class IQL:
    def __init__(self):
        self.actor = mlp([OBS, 256, 256, ACT], nn.Tanh())
        self.log_std = nn.Parameter(torch.zeros(ACT))
        self.q1, self.q2 = Critic(OBS, ACT), Critic(OBS, ACT)
        self.q1_t, self.q2_t = copy.deepcopy(self.q1), copy.deepcopy(self.q2)
        self.v = mlp([OBS, 256, 256, 1])
        self.actor_opt = torch.optim.Adam([*self.actor.parameters(), self.log_std], lr=3e-4)
        self.q_opt = torch.optim.Adam([*self.q1.parameters(), *self.q2.parameters()], lr=3e-4)
        self.v_opt = torch.optim.Adam(self.v.parameters(), lr=3e-4)

    def update(self, b):
        s, a, r, s2, d = b
        with torch.no_grad():
            target_q = torch.min(self.q1_t(s, a), self.q2_t(s, a))
            next_v = self.v(s2).squeeze(-1)
        adv = target_q - self.v(s).squeeze(-1)
        v_loss = (torch.abs(0.7 - (adv < 0).float()) * adv ** 2).mean()
        self.v_opt.zero_grad(); v_loss.backward(); self.v_opt.step()
        y = r + (1 - d) * GAMMA * next_v
        q_loss = (F.mse_loss(self.q1(s, a), y) + F.mse_loss(self.q2(s, a), y)) / 2
        self.q_opt.zero_grad(); q_loss.backward(); self.q_opt.step()
        soft_update(self.q1_t, self.q1); soft_update(self.q2_t, self.q2)
        w = torch.exp(3.0 * adv.detach()).clamp(max=100.0)
        mean = self.actor(s)
        dist = torch.distributions.Normal(mean, self.log_std.clamp(-20, 2).exp())
        actor_loss = -(w * dist.log_prob(a).sum(-1)).mean()
        self.actor_opt.zero_grad(); actor_loss.backward(); self.actor_opt.step()


# SAC (Haarnoja et al. 2018), online update at Hopper dimensions: twin critics, automatic entropy tuning, lr 3e-4.
class SAC:
    def __init__(self, obs=SAC_OBS, act=SAC_ACT):
        self.actor = TanhGaussian(obs, act)
        self.q1, self.q2 = Critic(obs, act), Critic(obs, act)
        self.q1_t, self.q2_t = copy.deepcopy(self.q1), copy.deepcopy(self.q2)
        self.log_alpha = torch.zeros((), requires_grad=True)
        self.target_entropy = -float(act)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=3e-4)
        self.q_opt = torch.optim.Adam([*self.q1.parameters(), *self.q2.parameters()], lr=3e-4)
        self.alpha_opt = torch.optim.Adam([self.log_alpha], lr=3e-4)

    def update(self, b):
        s, a, r, s2, d = b
        alpha = self.log_alpha.exp().detach()
        with torch.no_grad():
            a2, logp2 = self.actor(s2)
            y = r + (1 - d) * GAMMA * (torch.min(self.q1_t(s2, a2), self.q2_t(s2, a2)) - alpha * logp2)
        q_loss = F.mse_loss(self.q1(s, a), y) + F.mse_loss(self.q2(s, a), y)
        self.q_opt.zero_grad(); q_loss.backward(); self.q_opt.step()
        pi, logp = self.actor(s)
        actor_loss = (alpha * logp - torch.min(self.q1(s, pi), self.q2(s, pi))).mean()
        self.actor_opt.zero_grad(); actor_loss.backward(); self.actor_opt.step()
        alpha_loss = -(self.log_alpha * (logp.detach() + self.target_entropy)).mean()
        self.alpha_opt.zero_grad(); alpha_loss.backward(); self.alpha_opt.step()
        soft_update(self.q1_t, self.q1); soft_update(self.q2_t, self.q2)


# CQL (Kumar et al. 2020), CORL cql.py defaults: three-layer critics, 10 sampled actions per set (uniform, pi(.|s),
# pi(.|s')), importance-sampled logsumexp, cql_alpha 10 without Lagrange, policy lr 3e-5, critic lr 3e-4; the actor
# has three hidden layers as cql.py's TanhGaussianPolicy.
class CQL:
    def __init__(self):
        self.actor = TanhGaussian(OBS, ACT, (256, 256, 256))  # cql.py's TanhGaussianPolicy: 3 hidden layers
        self.q1, self.q2 = Critic(OBS, ACT, (256, 256, 256)), Critic(OBS, ACT, (256, 256, 256))
        self.q1_t, self.q2_t = copy.deepcopy(self.q1), copy.deepcopy(self.q2)
        self.log_alpha = torch.zeros((), requires_grad=True)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=3e-5)
        self.alpha_opt = torch.optim.Adam([self.log_alpha], lr=3e-5)
        self.q_opt = torch.optim.Adam([*self.q1.parameters(), *self.q2.parameters()], lr=3e-4)

    def update(self, b):
        s, a, r, s2, d = b
        n = 10
        pi, logp = self.actor(s)
        alpha_loss = -(self.log_alpha * (logp.detach() - float(ACT))).mean()
        alpha = self.log_alpha.exp().detach()
        actor_loss = (alpha * logp - torch.min(self.q1(s, pi), self.q2(s, pi))).mean()
        with torch.no_grad():
            a2, _ = self.actor(s2)
            y = r + (1 - d) * GAMMA * torch.min(self.q1_t(s2, a2), self.q2_t(s2, a2))
            s_rep = s.unsqueeze(1).expand(BATCH, n, OBS).reshape(-1, OBS)
            s2_rep = s2.unsqueeze(1).expand(BATCH, n, OBS).reshape(-1, OBS)
            rand_a = torch.empty(BATCH * n, ACT).uniform_(-1, 1)
            cur_a, cur_logp = self.actor(s_rep)
            nxt_a, nxt_logp = self.actor(s2_rep)
        q1, q2 = self.q1(s, a), self.q2(s, a)
        td = F.mse_loss(q1, y) + F.mse_loss(q2, y)
        penalty = 0
        for q in (self.q1, self.q2):
            q_rand = q(s_rep, rand_a).view(BATCH, n) - ACT * math.log(0.5)
            q_cur = q(s_rep, cur_a).view(BATCH, n) - cur_logp.view(BATCH, n)
            q_nxt = q(s_rep, nxt_a).view(BATCH, n) - nxt_logp.view(BATCH, n)
            penalty = penalty + torch.logsumexp(torch.cat([q_rand, q_nxt, q_cur], 1), 1).mean()
        q_loss = td + 10.0 * (penalty - q1.mean() - q2.mean())
        self.alpha_opt.zero_grad(); alpha_loss.backward(); self.alpha_opt.step()
        self.actor_opt.zero_grad(); actor_loss.backward(); self.actor_opt.step()
        self.q_opt.zero_grad(); q_loss.backward(); self.q_opt.step()
        soft_update(self.q1_t, self.q1); soft_update(self.q2_t, self.q2)


ALGOS = {"td3bc": TD3BC, "iql": IQL, "cql": CQL, "sac": SAC}
DIMS = {"sac": (SAC_OBS, SAC_ACT)}


def make_batches(dims):
    g = torch.Generator().manual_seed(0)
    obs, act = dims
    return [(torch.randn(BATCH, obs, generator=g), torch.rand(BATCH, act, generator=g) * 2 - 1,
             torch.randn(BATCH, generator=g), torch.randn(BATCH, obs, generator=g), torch.zeros(BATCH))
            for _ in range(N_BATCHES)]


def measure(name, seconds):
    agent = ALGOS[name]()
    return median_rate(agent.update, make_batches(DIMS.get(name, (OBS, ACT))), seconds)


def main():
    names = [n.strip() for n in args.algos.split(",") if n.strip()]
    unknown = [n for n in names if n not in ALGOS]
    if unknown:
        sys.exit(f"torch_train_anchor: unknown algorithm(s) {unknown}; known: {sorted(ALGOS)}")
    results = [{"name": n, "anchor_steps_per_second": measure(n, args.seconds)} for n in names]
    print(json.dumps({"torch_version": torch.__version__, "threads": args.threads, "results": results}))


if __name__ == "__main__":
    main()
