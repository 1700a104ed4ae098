"""Independent SAC-N on a Stitch-made D4RL file, in JAX, evaluated in Gymnasium: the cross-check for Stitch's SAC-N.

Written from An et al. 2021 ("Uncertainty-Based Offline RL with Diversified Q-Ensemble", SAC-N: SAC with the
minimum over N critics in the target and the actor loss) with CORL sac_n.py's defaults (docs/facts.md §2e): N = 10
critics and an actor of 3 x 256 ReLU layers, hidden kernels U(+-1/sqrt(fan_in)) and biases 0.1, critic outputs
U(+-3e-3), actor mean and log-std heads U(+-1e-3), log-std clipped to [-5, 2], tanh-Gaussian policy; Adam 3e-4 for
actor, critics and temperature; alpha starts at 1, target entropy -dim(A); batch 256; gamma 0.99; tau 0.005; in
each step, as CORL: temperature, then actor, then critics, then the target critics; no observation or reward
normalisation; deterministic evaluation (tanh of the mean). Shares no code with Stitch; only the data file.

  benchmarks/.venv-jax/bin/python scripts/experiments/jax_sacn_check.py data/halfcheetah-medium.hdf5 \
      --env HalfCheetah-v4 --steps 50000 --eval-every 10000 --seed 0 --out runs/diag/jax-sacn-s0.jsonl

Needs, besides jax: `benchmarks/.venv-jax/bin/pip install h5py gymnasium==1.1.1 "mujoco<3.5" imageio`.
"""
import argparse
import json
import os
import time

parser = argparse.ArgumentParser()
parser.add_argument("dataset")
parser.add_argument("--env", default="HalfCheetah-v4")
parser.add_argument("--steps", type=int, default=50000)
parser.add_argument("--eval-every", type=int, default=10000)
parser.add_argument("--episodes", type=int, default=10)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--critics", type=int, default=10)
parser.add_argument("--out", required=True)
args = parser.parse_args()

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
import numpy as np  # noqa: E402
import h5py  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402
import gymnasium as gym  # noqa: E402

REF = {"Hopper-v4": (-20.272305, 3234.3), "HalfCheetah-v4": (-280.178953, 12135.0), "Walker2d-v4": (1.629008, 4592.3)}
GAMMA, TAU, BATCH, LR, K = 0.99, 0.005, 256, 3e-4, 8  # K steps per compiled call

with h5py.File(args.dataset, "r") as f:
    obs = f["observations"][:].astype(np.float32)
    act = f["actions"][:].astype(np.float32)
    rew = f["rewards"][:].astype(np.float32)
    nobs = f["next_observations"][:].astype(np.float32)
    term = f["terminals"][:].astype(np.float32)
N, OBS, ACT = obs.shape[0], obs.shape[1], act.shape[1]


def dense(key, fan_in, fan_out, bound=None, bias=None):
    kw, kb = jax.random.split(key)
    b = 1.0 / np.sqrt(fan_in) if bound is None else bound
    w = jax.random.uniform(kw, (fan_in, fan_out), jnp.float32, -b, b)
    bb = jnp.full((fan_out,), bias, jnp.float32) if bias is not None else jax.random.uniform(kb, (fan_out,), jnp.float32, -b, b)
    return dict(w=w, b=bb)


def mlp_init(key, sizes, out_bound):
    keys = jax.random.split(key, len(sizes) - 1)
    hidden = [dense(k, i, o, bias=0.1) for k, i, o in zip(keys[:-1], sizes[:-2], sizes[1:-1])]
    return dict(hidden=hidden, out=dense(keys[-1], sizes[-2], sizes[-1], bound=out_bound))


def mlp(p, x):
    for layer in p["hidden"]:
        x = jax.nn.relu(x @ layer["w"] + layer["b"])
    return x @ p["out"]["w"] + p["out"]["b"]


def critics_fn(ps, s, a):  # [N, B]
    x = jnp.concatenate([s, a], -1)
    return jax.vmap(lambda p: mlp(p, x)[..., 0])(ps)


def policy_sample(ap, s, key):
    out = mlp(ap, s)
    mean, log_std = out[..., :ACT], jnp.clip(out[..., ACT:], -5.0, 2.0)
    std = jnp.exp(log_std)
    u = mean + std * jax.random.normal(key, mean.shape)
    a = jnp.tanh(u)
    logp = (-0.5 * ((u - mean) / std) ** 2 - log_std - 0.5 * np.log(2 * np.pi)).sum(-1)
    logp -= (2 * (np.log(2.0) - u - jax.nn.softplus(-2 * u))).sum(-1)  # log(1 - tanh(u)^2), stable
    return a, logp


key = jax.random.PRNGKey(args.seed)
ka, kc, key = jax.random.split(key, 3)
actor = mlp_init(ka, [OBS, 256, 256, 256, 2 * ACT], 1e-3)
critics = jax.vmap(lambda k: mlp_init(k, [OBS + ACT, 256, 256, 256, 1], 3e-3))(jax.random.split(kc, args.critics))
opt = optax.adam(LR)
state = dict(actor=actor, critics=critics, critics_t=jax.tree_util.tree_map(jnp.copy, critics), log_alpha=jnp.zeros(()),
             actor_os=opt.init(actor), critic_os=opt.init(critics), alpha_os=opt.init(jnp.zeros(())), key=key)


def step(st, b):
    key, k1, k2, k3 = jax.random.split(st["key"], 4)
    # Temperature (CORL: first, from a fresh sample of the current actor).
    _, logp = policy_sample(st["actor"], b["obs"], k1)
    ga = jax.grad(lambda la: (-la * jax.lax.stop_gradient(logp - ACT)).mean())(st["log_alpha"])
    u, alpha_os = opt.update(ga, st["alpha_os"], st["log_alpha"])
    log_alpha = optax.apply_updates(st["log_alpha"], u)
    alpha = jnp.exp(log_alpha)

    def actor_loss(ap):
        a, lp = policy_sample(ap, b["obs"], k2)
        return (alpha * lp - critics_fn(st["critics"], b["obs"], a).min(0)).mean()
    g = jax.grad(actor_loss)(st["actor"])
    u, actor_os = opt.update(g, st["actor_os"], st["actor"])
    actor = optax.apply_updates(st["actor"], u)

    a2, lp2 = policy_sample(actor, b["next_obs"], k3)
    nq = critics_fn(st["critics_t"], b["next_obs"], a2).min(0) - alpha * lp2
    target = b["rew"] + GAMMA * (1 - b["done"]) * nq
    g = jax.grad(lambda cp: ((critics_fn(cp, b["obs"], b["act"]) - target[None]) ** 2).mean(1).sum())(st["critics"])
    u, critic_os = opt.update(g, st["critic_os"], st["critics"])
    critics = optax.apply_updates(st["critics"], u)
    critics_t = jax.tree_util.tree_map(lambda t, o: t + TAU * (o - t), st["critics_t"], critics)
    return dict(actor=actor, critics=critics, critics_t=critics_t, log_alpha=log_alpha, actor_os=actor_os,
                critic_os=critic_os, alpha_os=alpha_os, key=key), None


run = jax.jit(lambda st, bs: jax.lax.scan(step, st, bs)[0])
mean_action = jax.jit(lambda ap, s: jnp.tanh(mlp(ap, s)[..., :ACT]))
rng = np.random.default_rng(args.seed)
env = gym.make(args.env)
lo, hi = REF[args.env]


def evaluate(ap, episode_seed):
    scores = []
    for e in range(args.episodes):
        o, _ = env.reset(seed=episode_seed + e)
        total, done = 0.0, False
        while not done:
            o, r, terminated, truncated, _ = env.step(np.asarray(mean_action(ap, o.astype(np.float32))))
            total += r
            done = terminated or truncated
        scores.append(100.0 * (total - lo) / (hi - lo))
    return float(np.mean(scores)), float(np.std(scores))


os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
log = open(args.out, "w")
start = time.time()
for t in range(K, args.steps + 1, K):
    idx = rng.integers(0, N, size=(K, BATCH))
    state = run(state, dict(obs=obs[idx], act=act[idx], rew=rew[idx], next_obs=nobs[idx], done=term[idx]))
    if t % args.eval_every == 0:
        score, spread = evaluate(state["actor"], 10_000 * args.seed + t)
        probe = rng.integers(0, N, size=4096)
        q = critics_fn(state["critics"], obs[probe], act[probe])
        line = dict(step=t, score=score, score_std=spread, alpha=float(jnp.exp(state["log_alpha"])),
                    q_mean=float(q.mean()), q_max=float(q.max()), minutes=(time.time() - start) / 60)
        print(json.dumps(line), flush=True)
        log.write(json.dumps(line) + "\n")
        log.flush()
