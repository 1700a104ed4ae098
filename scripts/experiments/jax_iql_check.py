"""Independent IQL on a Stitch-made D4RL file, in JAX, evaluated in Gymnasium: the cross-check for Stitch's IQL.

Question it answers (docs/results.md, hopper-medium): is IQL's final score below BC a property of the dataset or a
fault in Stitch's IQL? This is a second implementation of the same algorithm, written from the IQL paper
(Kostrikov et al. 2021, Eqs. 5-7) with CORL iql.py's hopper-medium settings (docs/facts.md §2e): expectile 0.7,
temperature 3.0, exp-advantage clipped at 100, lrs 3e-4, cosine actor schedule over the run, deterministic tanh
actor with the squared-error BC term, target rate 0.001, observations z-scored (std + 1e-3), rewards scaled by
1000 / (max episode return - min episode return). It shares no code with Stitch; only the data file.

Usage (from the repository root; needs jax, optax, h5py, gymnasium[mujoco], mujoco<3.5):
  benchmarks/.venv-jax/bin/python scripts/experiments/jax_iql_check.py data/hopper-medium.hdf5 \
      --env Hopper-v4 --steps 100000 --eval-every 10000 --seed 0 --out runs/diag/jax-iql-s0.jsonl

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
parser.add_argument("--steps", type=int, default=100000)
parser.add_argument("--eval-every", type=int, default=10000)
parser.add_argument("--episodes", type=int, default=10)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--tau", type=float, default=0.001)
parser.add_argument("--stochastic-actor", action="store_true", help="Gaussian actor (CORL default) instead")
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

# D4RL reference returns (docs/facts.md; d4rl/infos.py).
REF = {"Hopper-v4": (-20.272305, 3234.3), "HalfCheetah-v4": (-280.178953, 12135.0), "Walker2d-v4": (1.629008, 4592.3)}
EXPECTILE, BETA, MAX_W, LR, GAMMA, BATCH, K = 0.7, 3.0, 100.0, 3e-4, 0.99, 256, 8

with h5py.File(args.dataset, "r") as f:
    obs = f["observations"][:].astype(np.float32)
    act = f["actions"][:].astype(np.float32)
    rew = f["rewards"][:].astype(np.float32)
    nobs = f["next_observations"][:].astype(np.float32)
    term = f["terminals"][:].astype(np.float32)
    tout = f["timeouts"][:].astype(bool)
mean, std = obs.mean(0), obs.std(0) + 1e-3
obs, nobs = (obs - mean) / std, (nobs - mean) / std
# Episode returns split on terminal or timeout (the last unfinished stretch is dropped, as CORL's loop does).
returns, acc = [], 0.0
for r, d, t in zip(rew, term, tout):
    acc += float(r)
    if d or t:
        returns.append(acc)
        acc = 0.0
rew = rew * (1000.0 / (max(returns) - min(returns)))
N, OBS, ACT = obs.shape[0], obs.shape[1], act.shape[1]
print(f"{N} transitions, {len(returns)} episodes, reward scale {1000.0 / (max(returns) - min(returns)):.5f}")


def mlp_init(key, sizes):
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        key, kw, kb = jax.random.split(key, 3)
        bound = 1.0 / np.sqrt(fan_in)
        params.append((jax.random.uniform(kw, (fan_in, fan_out), jnp.float32, -bound, bound),
                       jax.random.uniform(kb, (fan_out,), jnp.float32, -bound, bound)))
    return params


def mlp(params, x):
    for w, b in params[:-1]:
        x = jax.nn.relu(x @ w + b)
    w, b = params[-1]
    return x @ w + b


def twin_q(params, o, a):
    x = jnp.concatenate([o, a], -1)
    return jax.vmap(lambda p: mlp(p, x)[..., 0])(params)


key = jax.random.PRNGKey(args.seed)
ka, kc, kv = jax.random.split(key, 3)
actor = dict(net=mlp_init(ka, [OBS, 256, 256, ACT]), log_std=jnp.zeros((ACT,), jnp.float32))
critic = jax.vmap(lambda k: mlp_init(k, [OBS + ACT, 256, 256, 1]))(jax.random.split(kc, 2))
value = mlp_init(kv, [OBS, 256, 256, 1])
actor_opt = optax.adam(optax.cosine_decay_schedule(LR, args.steps))
critic_opt, value_opt = optax.adam(LR), optax.adam(LR)
state = dict(actor=actor, critic=critic, critic_t=jax.tree_util.tree_map(jnp.copy, critic), value=value,
             actor_os=actor_opt.init(actor), critic_os=critic_opt.init(critic), value_os=value_opt.init(value))


def update(st, b):
    v_fn = lambda vp, s: mlp(vp, s)[..., 0]
    next_v = v_fn(st["value"], b["next_obs"])
    target_q = jnp.min(twin_q(st["critic_t"], b["obs"], b["act"]), 0)

    def value_loss(vp):
        adv = target_q - v_fn(vp, b["obs"])
        w = jnp.abs(EXPECTILE - (adv < 0).astype(jnp.float32))
        return jnp.mean(w * adv ** 2), adv
    gv, adv = jax.grad(value_loss, has_aux=True)(st["value"])
    u, value_os = value_opt.update(gv, st["value_os"], st["value"])
    value = optax.apply_updates(st["value"], u)

    targets = b["rew"] + (1.0 - b["done"]) * GAMMA * next_v
    gc = jax.grad(lambda cp: jnp.mean(jnp.mean((twin_q(cp, b["obs"], b["act"]) - targets) ** 2, 1)))(st["critic"])
    u, critic_os = critic_opt.update(gc, st["critic_os"], st["critic"])
    critic = optax.apply_updates(st["critic"], u)

    w = jnp.minimum(jnp.exp(BETA * adv), MAX_W)

    def actor_loss(ap):
        m = jnp.tanh(mlp(ap["net"], b["obs"]))
        if args.stochastic_actor:
            ls = jnp.clip(ap["log_std"], -20.0, 2.0)
            z = (b["act"] - m) * jnp.exp(-ls)
            return jnp.mean(w * -jnp.sum(-0.5 * z ** 2 - ls - 0.5 * np.log(2 * np.pi), -1))
        return jnp.mean(w * jnp.sum((m - b["act"]) ** 2, -1))
    ga = jax.grad(actor_loss)(st["actor"])
    u, actor_os = actor_opt.update(ga, st["actor_os"], st["actor"])
    actor = optax.apply_updates(st["actor"], u)
    critic_t = jax.tree_util.tree_map(lambda t, o: t + args.tau * (o - t), st["critic_t"], critic)
    return dict(actor=actor, critic=critic, critic_t=critic_t, value=value,
                actor_os=actor_os, critic_os=critic_os, value_os=value_os), jnp.mean(adv)


@jax.jit
def run(st, batches):
    return jax.lax.scan(update, st, batches)


@jax.jit
def policy(ap, o):
    return jnp.tanh(mlp(ap["net"], o))


rng = np.random.default_rng(args.seed)
env = gym.make(args.env)
lo, hi = REF[args.env]


def evaluate(ap, episode_seed):
    scores = []
    for e in range(args.episodes):
        o, _ = env.reset(seed=episode_seed + e)
        total, done = 0.0, False
        while not done:
            a = np.asarray(policy(ap, ((o - mean) / std).astype(np.float32)))
            o, r, terminated, truncated, _ = env.step(a)
            total += r
            done = terminated or truncated
        scores.append(100.0 * (total - lo) / (hi - lo))
    return float(np.mean(scores)), float(np.std(scores))


os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
log = open(args.out, "w")
start = time.time()
for step in range(K, args.steps + 1, K):
    idx = rng.integers(0, N, size=(K, BATCH))
    batch = dict(obs=obs[idx], act=act[idx], rew=rew[idx], next_obs=nobs[idx], done=term[idx])
    state, adv = run(state, batch)
    if step % args.eval_every == 0:
        score, spread = evaluate(state["actor"], 10_000 * args.seed + step)
        line = dict(step=step, score=score, score_std=spread, mean_advantage=float(adv[-1]),
                    minutes=(time.time() - start) / 60)
        print(json.dumps(line), flush=True)
        log.write(json.dumps(line) + "\n")
        log.flush()
