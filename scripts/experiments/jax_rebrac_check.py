"""Independent ReBRAC on a Stitch-made D4RL file, in JAX, evaluated in Gymnasium: the cross-check for Stitch's ReBRAC.

Written from the ReBRAC paper (Tarasov et al. 2023, eqs. 2-3) with CORL rebrac.py's defaults and hopper-medium
penalties (docs/facts.md §2e): actor and two critics of 3 x 256 ReLU layers, LayerNorm (eps 1e-6) after each hidden
activation of the critics only, hidden kernels U(+-1/sqrt(fan_in)) and biases 0.1, output layers U(+-1e-3)
(actor, tanh) and U(+-3e-3) (critics); Adam 1e-3; batch 1024; gamma 0.99; tau 0.005; target-policy noise 0.2
clipped at 0.5; actor and targets on the first step of every pair (TD3+BC: the second); actor loss beta1*||pi(s)-a||^2 - Q(s,pi(s))/mean|Q|; critic
target r + gamma(1-d)(min Q'(s',a') - beta2*||a'-a'_data||^2); no observation or reward normalisation. Shares no
code with Stitch; only the data file.

  benchmarks/.venv-jax/bin/python scripts/experiments/jax_rebrac_check.py data/hopper-medium.hdf5 \
      --steps 40000 --eval-every 10000 --seed 0 --out runs/diag/jax-rebrac-s0.jsonl
  (--td3bc: the same check for TD3+BC, e.g. on data/walker2d-medium.hdf5 --env Walker2d-v4)

Needs, besides jax: `benchmarks/.venv-jax/bin/pip install h5py gymnasium==1.1.1 "mujoco<3.5" imageio` (the venv that
benchmarks/train-vs-jax makes holds jax and optax only).
"""
import argparse
import json
import os
import time

parser = argparse.ArgumentParser()
parser.add_argument("dataset")
parser.add_argument("--env", default="Hopper-v4")
parser.add_argument("--steps", type=int, default=40000)
parser.add_argument("--eval-every", type=int, default=10000)
parser.add_argument("--episodes", type=int, default=10)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--actor-penalty", type=float, default=0.01)
parser.add_argument("--critic-penalty", type=float, default=0.01)
parser.add_argument("--out", required=True)
parser.add_argument("--td3bc", action="store_true",
                    help="TD3+BC instead (Fujimoto & Gu 2021, CORL td3_bc.py defaults): 2 x 256 layers, no LayerNorm, "
                         "PyTorch default init, lr 3e-4, batch 256, normalised observations, actor loss "
                         "mean((pi-a)^2) - alpha*Q/mean|Q| with alpha 2.5 (here scaled by 1/alpha), no critic penalty")
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
GAMMA, TAU, BATCH, LR, K = 0.99, 0.005, 1024, 1e-3, 4  # K pairs of steps per compiled call
if args.td3bc:
    BATCH, LR = 256, 3e-4

with h5py.File(args.dataset, "r") as f:
    obs = f["observations"][:].astype(np.float32)
    act = f["actions"][:].astype(np.float32)
    rew = f["rewards"][:].astype(np.float32)
    nobs = f["next_observations"][:].astype(np.float32)
    term = f["terminals"][:].astype(np.float32)
    tout = f["timeouts"][:].astype(bool)
N, OBS, ACT = obs.shape[0], obs.shape[1], act.shape[1]
# The dataset's action at the next row of the same episode (an episode's last row repeats its own).
nxt = np.arange(N) + 1
last = (nxt >= N) | (term > 0) | tout
nxt[last] = np.arange(N)[last]
nact = act[nxt]
if args.td3bc:
    # CORL td3_bc.py: states normalised by the dataset's mean and std (+1e-3); the actor penalty is the MSE averaged
    # over action dimensions with weight 1/alpha relative to the normalised Q term.
    mu, sd = obs.mean(0), obs.std(0) + 1e-3
    obs, nobs = (obs - mu) / sd, (nobs - mu) / sd
    args.actor_penalty, args.critic_penalty = 1.0 / (2.5 * act.shape[1]), 0.0


def dense_init(key, fan_in, fan_out, bound=None, bias=None):
    kw, kb = jax.random.split(key)
    b = 1.0 / np.sqrt(fan_in) if bound is None else bound
    w = jax.random.uniform(kw, (fan_in, fan_out), jnp.float32, -b, b)
    bb = jnp.full((fan_out,), bias, jnp.float32) if bias is not None else jax.random.uniform(kb, (fan_out,), jnp.float32, -b, b)
    return dict(w=w, b=bb)


def net_init(key, sizes, out_bound, layer_norm):
    keys = jax.random.split(key, len(sizes) - 1)
    hidden = [dense_init(k, i, o, bias=0.1) for k, i, o in zip(keys[:-1], sizes[:-2], sizes[1:-1])]
    norms = [dict(g=jnp.ones((o,), jnp.float32), b=jnp.zeros((o,), jnp.float32)) for o in sizes[1:-1]] if layer_norm else []
    return dict(hidden=hidden, norms=norms, out=dense_init(keys[-1], sizes[-2], sizes[-1], bound=out_bound))


def net(p, x):
    for i, layer in enumerate(p["hidden"]):
        x = jax.nn.relu(x @ layer["w"] + layer["b"])
        if p["norms"]:
            m = x.mean(-1, keepdims=True)
            v = ((x - m) ** 2).mean(-1, keepdims=True)
            x = (x - m) / jnp.sqrt(v + 1e-6) * p["norms"][i]["g"] + p["norms"][i]["b"]
    return x @ p["out"]["w"] + p["out"]["b"]


def actor_fn(p, s):
    return jnp.tanh(net(p, s))


def critics_fn(ps, s, a):
    x = jnp.concatenate([s, a], -1)
    return jnp.stack([net(p, x)[..., 0] for p in ps])


key = jax.random.PRNGKey(args.seed)
ka, kc1, kc2, key = jax.random.split(key, 4)
if args.td3bc:
    def torch_init(key, sizes):
        keys = jax.random.split(key, len(sizes) - 1)
        layers = [dense_init(k, i, o) for k, i, o in zip(keys, sizes[:-1], sizes[1:])]
        return dict(hidden=layers[:-1], norms=[], out=layers[-1])
    actor = torch_init(ka, [OBS, 256, 256, ACT])
    critics = [torch_init(k, [OBS + ACT, 256, 256, 1]) for k in (kc1, kc2)]
else:
    actor = net_init(ka, [OBS, 256, 256, 256, ACT], 1e-3, False)
    critics = [net_init(k, [OBS + ACT, 256, 256, 256, 1], 3e-3, True) for k in (kc1, kc2)]
opt = optax.adam(LR)
copy = lambda t: jax.tree_util.tree_map(jnp.copy, t)
state = dict(actor=actor, actor_t=copy(actor), critics=critics, critics_t=copy(critics),
             actor_os=opt.init(actor), critic_os=opt.init(critics), key=key)


def critic_step(st, b):
    key, k = jax.random.split(st["key"])
    noise = jnp.clip(jax.random.normal(k, b["act"].shape) * 0.2, -0.5, 0.5)
    a2 = jnp.clip(actor_fn(st["actor_t"], b["next_obs"]) + noise, -1, 1)
    pen = ((a2 - b["next_act"]) ** 2).sum(-1)
    nq = critics_fn(st["critics_t"], b["next_obs"], a2).min(0) - args.critic_penalty * pen
    target = b["rew"] + (1 - b["done"]) * GAMMA * nq
    loss = lambda cp: ((critics_fn(cp, b["obs"], b["act"]) - target[None]) ** 2).mean(1).sum()
    g = jax.grad(loss)(st["critics"])
    u, os_ = opt.update(g, st["critic_os"], st["critics"])
    return dict(st, critics=optax.apply_updates(st["critics"], u), critic_os=os_, key=key)


def actor_step(st, b):
    def loss(ap):
        pi = actor_fn(ap, b["obs"])
        q = critics_fn(st["critics"], b["obs"], pi).min(0)
        lam = jax.lax.stop_gradient(1.0 / jnp.abs(q).mean())
        return (args.actor_penalty * ((pi - b["act"]) ** 2).sum(-1) - lam * q).mean()
    g = jax.grad(loss)(st["actor"])
    u, os_ = opt.update(g, st["actor_os"], st["actor"])
    actor = optax.apply_updates(st["actor"], u)
    soft = lambda t, o: jax.tree_util.tree_map(lambda x, y: x + TAU * (y - x), t, o)
    return dict(st, actor=actor, actor_os=os_, actor_t=soft(st["actor_t"], actor), critics_t=soft(st["critics_t"], st["critics"]))


def pair(st, bs):
    b1 = jax.tree_util.tree_map(lambda x: x[0], bs)
    b2 = jax.tree_util.tree_map(lambda x: x[1], bs)
    st = critic_step(st, b1)
    if args.td3bc:  # CORL td3_bc.py: the actor after the second critic step of each pair
        st = critic_step(st, b2)
        return actor_step(st, b2), None
    # CORL rebrac.py: the full update (critic, then actor and targets) where i % policy_freq == 0, i.e. first
    st = actor_step(st, b1)
    return critic_step(st, b2), None


run = jax.jit(lambda st, bs: jax.lax.scan(pair, st, bs)[0])
policy = jax.jit(actor_fn)
rng = np.random.default_rng(args.seed)
env = gym.make(args.env)
lo, hi = REF[args.env]


def evaluate(ap, episode_seed):
    scores = []
    for e in range(args.episodes):
        o, _ = env.reset(seed=episode_seed + e)
        total, done = 0.0, False
        while not done:
            x = (o.astype(np.float32) - mu) / sd if args.td3bc else o.astype(np.float32)
            o, r, terminated, truncated, _ = env.step(np.asarray(policy(ap, x)))
            total += r
            done = terminated or truncated
        scores.append(100.0 * (total - lo) / (hi - lo))
    return float(np.mean(scores)), float(np.std(scores))


os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
log = open(args.out, "w")
start = time.time()
for step in range(2 * K, args.steps + 1, 2 * K):
    idx = rng.integers(0, N, size=(K, 2, BATCH))
    batch = dict(obs=obs[idx], act=act[idx], rew=rew[idx], next_obs=nobs[idx], done=term[idx], next_act=nact[idx])
    state = run(state, batch)
    if step % args.eval_every == 0:
        score, spread = evaluate(state["actor"], 10_000 * args.seed + step)
        probe = rng.integers(0, N, size=4096)
        q = critics_fn(state["critics"], obs[probe], act[probe])
        line = dict(step=step, score=score, score_std=spread, q_mean=float(q.mean()), q_max=float(q.max()),
                    minutes=(time.time() - start) / 60)
        print(json.dumps(line), flush=True)
        log.write(json.dumps(line) + "\n")
        log.flush()
