#!/usr/bin/env python3
"""JAX anchor for `stitch bench train`: jit-compiled whole update steps of TD3+BC, IQL, CQL and SAC.

Each algorithm is written here from the papers' update rules with CORL's default hyperparameters. The offline ones
(TD3+BC, IQL, CQL) run at HalfCheetah dimensions (observation 17, action 6); the online SAC update runs at Hopper
dimensions (observation 11, action 3); all use batch 256, gamma 0.99, tau 0.005, Adam. As in JAX-CORL, K = 8 updates
are fused into one compiled call (`jax.lax.scan` over 8 pre-sampled batches). Batch content does not matter for
timing: 64 random batches per set of dimensions are made on the host once, moved to the device once, and cycled.

Prints one JSON object:
  {"jax_version": ..., "threads": T, "results": [{"name": "td3bc", "anchor_steps_per_second": X}, ...]}
where a step is one gradient update (8 per compiled call), the median rate over 7 timed batches.

  python benchmarks/jax_train_anchor.py [--threads 1|2] [--seconds 3] [--algos td3bc,iql,cql[,sac]]

`--algos` defaults to td3bc,iql,cql; add sac (e.g. `--algos sac` or `--algos td3bc,iql,cql,sac`) for the SAC anchor.
"""
import argparse
import json
import os
import sys
import time

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--seconds", type=float, default=3.0, help="total timed seconds per algorithm (7 batches)")
parser.add_argument("--algos", default="td3bc,iql,cql", help="comma-separated subset of td3bc,iql,cql,sac")
args = parser.parse_args()

# Thread count must be fixed before jax (and XLA's CPU client) is imported.
os.environ.setdefault("JAX_PLATFORMS", "cpu")
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)
if args.threads == 1:
    flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flags).strip()

import numpy as np  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402

OBS, ACT, BATCH = 17, 6, 256       # HalfCheetah (td3bc, iql, cql)
SAC_OBS, SAC_ACT = 11, 3           # Hopper (sac)
GAMMA, TAU = 0.99, 0.005
K = 8             # updates fused per compiled call
N_BATCHES = 64    # host-made batches, cycled


# ---------------------------------------------------------------------------------------------------------------
# Plain-jnp MLPs. Params are lists of (W, b); init is PyTorch's default (uniform +-1/sqrt(fan_in)).

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


def twin_init(key, sizes):
    """Two independent critics stacked on a leading axis (an ensemble of 2, evaluated with vmap)."""
    return jax.vmap(lambda k: mlp_init(k, sizes))(jax.random.split(key, 2))


def twin_q(params, obs, act):
    """Q-values of both critics: shape (2,) + obs.shape[:-1]."""
    x = jnp.concatenate([obs, act], axis=-1)
    return jax.vmap(lambda p: mlp(p, x)[..., 0])(params)


def copy(tree):
    """Fresh buffers for a target network (the state is donated, so no two leaves may share one)."""
    return jax.tree_util.tree_map(jnp.copy, tree)


def soft_update(target, online, tau=TAU):
    return jax.tree_util.tree_map(lambda t, o: t + tau * (o - t), target, online)


def fused(update):
    """K updates in one compiled call: scan `update(state, batch)` over a stack of K batches."""
    def run(state, batches):
        state, _ = jax.lax.scan(lambda s, b: (update(s, b), None), state, batches)
        return state
    return jax.jit(run, donate_argnums=0)


# ---------------------------------------------------------------------------------------------------------------
# TD3+BC (Fujimoto & Gu 2021): alpha 2.5, policy noise 0.2, noise clip 0.5, policy delay 2, lr 3e-4.

def td3bc(key):
    alpha, noise, noise_clip, delay, lr = 2.5, 0.2, 0.5, 2, 3e-4
    ka, kc, key = jax.random.split(key, 3)
    actor = mlp_init(ka, [OBS, 256, 256, ACT])
    critic = twin_init(kc, [OBS + ACT, 256, 256, 1])
    actor_opt, critic_opt = optax.adam(lr), optax.adam(lr)
    pi = lambda p, s: jnp.tanh(mlp(p, s))
    state = dict(actor=actor, critic=critic, actor_t=copy(actor), critic_t=copy(critic),
                 actor_os=actor_opt.init(actor), critic_os=critic_opt.init(critic),
                 key=key, step=jnp.zeros((), jnp.int32))

    def update(st, b):
        key, kn = jax.random.split(st["key"])
        eps = jnp.clip(noise * jax.random.normal(kn, b["act"].shape), -noise_clip, noise_clip)
        next_a = jnp.clip(pi(st["actor_t"], b["next_obs"]) + eps, -1.0, 1.0)
        target = b["rew"] + (1.0 - b["done"]) * GAMMA * jnp.min(twin_q(st["critic_t"], b["next_obs"], next_a), 0)

        def critic_loss(cp):
            q = twin_q(cp, b["obs"], b["act"])
            return jnp.sum(jnp.mean((q - target) ** 2, axis=1))
        g = jax.grad(critic_loss)(st["critic"])
        upd, critic_os = critic_opt.update(g, st["critic_os"], st["critic"])
        critic = optax.apply_updates(st["critic"], upd)
        step = st["step"] + 1
        st = dict(st, critic=critic, critic_os=critic_os, key=key, step=step)

        def actor_step(st):
            def actor_loss(ap):
                a = pi(ap, b["obs"])
                q1 = twin_q(st["critic"], b["obs"], a)[0]
                lmbda = jax.lax.stop_gradient(alpha / jnp.mean(jnp.abs(q1)))
                return -lmbda * jnp.mean(q1) + jnp.mean((a - b["act"]) ** 2)
            g = jax.grad(actor_loss)(st["actor"])
            upd, actor_os = actor_opt.update(g, st["actor_os"], st["actor"])
            actor = optax.apply_updates(st["actor"], upd)
            return dict(st, actor=actor, actor_os=actor_os,
                        actor_t=soft_update(st["actor_t"], actor),
                        critic_t=soft_update(st["critic_t"], st["critic"]))
        return jax.lax.cond(step % delay == 0, actor_step, lambda s: s, st)

    return state, fused(update)


# ---------------------------------------------------------------------------------------------------------------
# IQL (Kostrikov et al. 2021): expectile 0.7, temperature 3.0, exp-advantage clipped at 100, lrs 3e-4.
# Gaussian actor: tanh-squashed mean from the MLP, state-independent log_std (clamped to [-20, 2]).

def iql(key):
    expectile, beta, max_w, lr = 0.7, 3.0, 100.0, 3e-4
    ka, kc, kv, key = jax.random.split(key, 4)
    actor = dict(net=mlp_init(ka, [OBS, 256, 256, ACT]), log_std=jnp.zeros((ACT,), jnp.float32))
    critic = twin_init(kc, [OBS + ACT, 256, 256, 1])
    value = mlp_init(kv, [OBS, 256, 256, 1])
    actor_opt, critic_opt, value_opt = optax.adam(lr), optax.adam(lr), optax.adam(lr)
    state = dict(actor=actor, critic=critic, critic_t=copy(critic), value=value,
                 actor_os=actor_opt.init(actor), critic_os=critic_opt.init(critic), value_os=value_opt.init(value))

    def update(st, b):
        v_fn = lambda vp, s: mlp(vp, s)[..., 0]
        next_v = v_fn(st["value"], b["next_obs"])
        target_q = jnp.min(twin_q(st["critic_t"], b["obs"], b["act"]), 0)

        def value_loss(vp):
            adv = target_q - v_fn(vp, b["obs"])
            weight = jnp.abs(expectile - (adv < 0).astype(jnp.float32))
            return jnp.mean(weight * adv ** 2), adv
        gv, adv = jax.grad(value_loss, has_aux=True)(st["value"])
        upd, value_os = value_opt.update(gv, st["value_os"], st["value"])
        value = optax.apply_updates(st["value"], upd)

        targets = b["rew"] + (1.0 - b["done"]) * GAMMA * next_v

        def critic_loss(cp):
            q = twin_q(cp, b["obs"], b["act"])
            return jnp.mean(jnp.mean((q - targets) ** 2, axis=1))  # sum over the two critics / 2
        gc = jax.grad(critic_loss)(st["critic"])
        upd, critic_os = critic_opt.update(gc, st["critic_os"], st["critic"])
        critic = optax.apply_updates(st["critic"], upd)

        weights = jnp.minimum(jnp.exp(beta * adv), max_w)

        def actor_loss(ap):
            mean = jnp.tanh(mlp(ap["net"], b["obs"]))
            log_std = jnp.clip(ap["log_std"], -20.0, 2.0)
            z = (b["act"] - mean) * jnp.exp(-log_std)
            log_prob = jnp.sum(-0.5 * z ** 2 - log_std - 0.5 * np.log(2 * np.pi), axis=-1)
            return jnp.mean(weights * -log_prob)
        ga = jax.grad(actor_loss)(st["actor"])
        upd, actor_os = actor_opt.update(ga, st["actor_os"], st["actor"])
        actor = optax.apply_updates(st["actor"], upd)

        return dict(actor=actor, critic=critic, critic_t=soft_update(st["critic_t"], critic), value=value,
                    actor_os=actor_os, critic_os=critic_os, value_os=value_os)

    return state, fused(update)


# ---------------------------------------------------------------------------------------------------------------
# CQL (Kumar et al. 2020), CORL defaults: tanh-Gaussian actor (mean and log_std heads, log_std scaled by a learned
# multiplier (init 1) plus a learned offset (init -1), clamped to [-20, 2]; three hidden layers as cql.py's
# TanhGaussianPolicy), critics with three hidden layers,
# automatic entropy tuning (target -|A|), cql_alpha 10, 10 sampled actions per set, importance-sampled logsumexp,
# no Lagrange, policy and alpha lr 3e-5, critic lr 3e-4, soft target update every step. The policy loss is the
# post-behaviour-cloning one (alpha * log_pi - min Q), which is what runs after CORL's first bc_steps.

def cql(key):
    cql_alpha, n_actions, policy_lr, critic_lr = 10.0, 10, 3e-5, 3e-4
    target_entropy = -float(ACT)
    ka, kc, key = jax.random.split(key, 3)
    actor = dict(net=mlp_init(ka, [OBS, 256, 256, 256, 2 * ACT]),  # cql.py's TanhGaussianPolicy: 3 hidden layers
                 log_std_mult=jnp.ones((), jnp.float32), log_std_offset=-jnp.ones((), jnp.float32))
    critic = twin_init(kc, [OBS + ACT, 256, 256, 256, 1])
    log_alpha = jnp.zeros((), jnp.float32)
    actor_opt, alpha_opt, critic_opt = optax.adam(policy_lr), optax.adam(policy_lr), optax.adam(critic_lr)
    state = dict(actor=actor, critic=critic, critic_t=copy(critic), log_alpha=log_alpha,
                 actor_os=actor_opt.init(actor), alpha_os=alpha_opt.init(log_alpha),
                 critic_os=critic_opt.init(critic), key=key)

    def sample(ap, obs, key):
        """Reparameterised tanh-Gaussian sample and its log-density; obs (..., OBS) -> (..., ACT), (...)."""
        out = mlp(ap["net"], obs)
        mean, log_std = out[..., :ACT], out[..., ACT:]
        log_std = jnp.clip(ap["log_std_mult"] * log_std + ap["log_std_offset"], -20.0, 2.0)
        eps = jax.random.normal(key, mean.shape)
        u = mean + jnp.exp(log_std) * eps
        log_prob = jnp.sum(-0.5 * eps ** 2 - log_std - 0.5 * np.log(2 * np.pi), axis=-1)
        # log |d tanh(u)/du| = 2 (log 2 - u - softplus(-2u))
        log_prob -= jnp.sum(2.0 * (np.log(2.0) - u - jax.nn.softplus(-2.0 * u)), axis=-1)
        return jnp.tanh(u), log_prob

    def update(st, b):
        key, k_pi, k_next, k_rand, k_cur, k_cnext = jax.random.split(st["key"], 6)
        obs, act, next_obs = b["obs"], b["act"], b["next_obs"]
        alpha = jnp.exp(st["log_alpha"])

        # Policy loss (and the log-probs that drive the temperature), against the current critics.
        def actor_loss(ap):
            a, log_pi = sample(ap, obs, k_pi)
            q = jnp.min(twin_q(st["critic"], obs, a), 0)
            return jnp.mean(alpha * log_pi - q), log_pi
        ga, log_pi = jax.grad(actor_loss, has_aux=True)(st["actor"])
        log_pi = jax.lax.stop_gradient(log_pi)
        g_alpha = jax.grad(lambda la: -jnp.mean(la * (log_pi + target_entropy)))(st["log_alpha"])

        # TD target from the target critics at a fresh policy action (no entropy backup).
        next_a, _ = sample(st["actor"], next_obs, k_next)
        target = b["rew"] + (1.0 - b["done"]) * GAMMA * jnp.min(twin_q(st["critic_t"], next_obs, next_a), 0)

        # Out-of-distribution actions: 10 uniform, 10 from pi(.|s), 10 from pi(.|s'), all at s.
        rep = lambda x: jnp.broadcast_to(x[:, None, :], (BATCH, n_actions, x.shape[-1]))
        obs_rep, next_obs_rep = rep(obs), rep(next_obs)
        rand_a = jax.random.uniform(k_rand, (BATCH, n_actions, ACT), jnp.float32, -1.0, 1.0)
        cur_a, cur_logp = sample(st["actor"], obs_rep, k_cur)
        nxt_a, nxt_logp = sample(st["actor"], next_obs_rep, k_cnext)
        ood_a = jnp.concatenate([rand_a, nxt_a, cur_a], axis=1)                       # (B, 30, A)
        log_density = jnp.concatenate([jnp.full((BATCH, n_actions), ACT * np.log(0.5), jnp.float32),
                                       nxt_logp, cur_logp], axis=1)                  # (B, 30)
        ood_a, log_density = jax.lax.stop_gradient(ood_a), jax.lax.stop_gradient(log_density)
        obs_ood = jnp.concatenate([obs_rep] * 3, axis=1)

        def critic_loss(cp):
            q = twin_q(cp, obs, act)                                                  # (2, B)
            td = jnp.sum(jnp.mean((q - target) ** 2, axis=1))
            q_ood = twin_q(cp, obs_ood, ood_a)                                        # (2, B, 30)
            lse = jax.scipy.special.logsumexp(q_ood - log_density, axis=-1)           # (2, B), cql_temp 1
            return td + cql_alpha * jnp.sum(jnp.mean(lse - q, axis=1))
        gc = jax.grad(critic_loss)(st["critic"])

        upd, alpha_os = alpha_opt.update(g_alpha, st["alpha_os"], st["log_alpha"])
        log_alpha = optax.apply_updates(st["log_alpha"], upd)
        upd, actor_os = actor_opt.update(ga, st["actor_os"], st["actor"])
        actor = optax.apply_updates(st["actor"], upd)
        upd, critic_os = critic_opt.update(gc, st["critic_os"], st["critic"])
        critic = optax.apply_updates(st["critic"], upd)
        return dict(actor=actor, critic=critic, critic_t=soft_update(st["critic_t"], critic), log_alpha=log_alpha,
                    actor_os=actor_os, alpha_os=alpha_os, critic_os=critic_os, key=key)

    return state, fused(update)


# ---------------------------------------------------------------------------------------------------------------
# SAC (Haarnoja et al. 2018, arXiv 1812.05905), online update at Hopper dimensions: tanh-Gaussian actor (mean and
# log_std heads, log_std clamped to [-20, 2]), twin critics, automatic entropy tuning (target -|A|, log_alpha init 0,
# i.e. alpha 1), Adam 3e-4 for actor, critics and temperature, soft target update every step. Per step: one critic
# update (target min Q'(s', a') - alpha log pi(a'|s'), a' ~ pi(.|s')), one actor update against the updated critics,
# one temperature update from the actor's log-probs, then the Polyak update (the order of Stitch's SAC.update).

def sac(key):
    lr = 3e-4
    target_entropy = -float(SAC_ACT)
    ka, kc, key = jax.random.split(key, 3)
    actor = mlp_init(ka, [SAC_OBS, 256, 256, 2 * SAC_ACT])
    critic = twin_init(kc, [SAC_OBS + SAC_ACT, 256, 256, 1])
    log_alpha = jnp.zeros((), jnp.float32)
    actor_opt, alpha_opt, critic_opt = optax.adam(lr), optax.adam(lr), optax.adam(lr)
    state = dict(actor=actor, critic=critic, critic_t=copy(critic), log_alpha=log_alpha,
                 actor_os=actor_opt.init(actor), alpha_os=alpha_opt.init(log_alpha),
                 critic_os=critic_opt.init(critic), key=key)

    def sample(ap, obs, key):
        """Reparameterised tanh-Gaussian sample and its log-density; obs (B, SAC_OBS) -> (B, SAC_ACT), (B,)."""
        out = mlp(ap, obs)
        mean, log_std = out[..., :SAC_ACT], jnp.clip(out[..., SAC_ACT:], -20.0, 2.0)
        eps = jax.random.normal(key, mean.shape)
        u = mean + jnp.exp(log_std) * eps
        log_prob = jnp.sum(-0.5 * eps ** 2 - log_std - 0.5 * np.log(2 * np.pi), axis=-1)
        # log |d tanh(u)/du| = log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u))
        log_prob -= jnp.sum(2.0 * (np.log(2.0) - u - jax.nn.softplus(-2.0 * u)), axis=-1)
        return jnp.tanh(u), log_prob

    def update(st, b):
        key, k_next, k_pi = jax.random.split(st["key"], 3)
        obs, next_obs = b["obs"], b["next_obs"]
        alpha = jnp.exp(st["log_alpha"])

        # Critics: soft TD target from the target critics at a' ~ pi(.|s').
        next_a, next_logp = sample(st["actor"], next_obs, k_next)
        next_q = jnp.min(twin_q(st["critic_t"], next_obs, next_a), 0) - alpha * next_logp
        target = b["rew"] + (1.0 - b["done"]) * GAMMA * next_q

        def critic_loss(cp):
            q = twin_q(cp, obs, b["act"])
            return jnp.sum(jnp.mean((q - target) ** 2, axis=1))
        gc = jax.grad(critic_loss)(st["critic"])
        upd, critic_os = critic_opt.update(gc, st["critic_os"], st["critic"])
        critic = optax.apply_updates(st["critic"], upd)

        # Actor: alpha log pi(a|s) - min Q(s, a), a reparameterised, against the updated critics.
        def actor_loss(ap):
            a, log_pi = sample(ap, obs, k_pi)
            q = jnp.min(twin_q(critic, obs, a), 0)
            return jnp.mean(alpha * log_pi - q), log_pi
        ga, log_pi = jax.grad(actor_loss, has_aux=True)(st["actor"])
        upd, actor_os = actor_opt.update(ga, st["actor_os"], st["actor"])
        actor = optax.apply_updates(st["actor"], upd)

        # Temperature: -log_alpha * E[log pi + target entropy].
        log_pi = jax.lax.stop_gradient(log_pi)
        g_alpha = jax.grad(lambda la: -la * jnp.mean(log_pi + target_entropy))(st["log_alpha"])
        upd, alpha_os = alpha_opt.update(g_alpha, st["alpha_os"], st["log_alpha"])
        log_alpha = optax.apply_updates(st["log_alpha"], upd)

        return dict(actor=actor, critic=critic, critic_t=soft_update(st["critic_t"], critic), log_alpha=log_alpha,
                    actor_os=actor_os, alpha_os=alpha_os, critic_os=critic_os, key=key)

    return state, fused(update)


ALGOS = {"td3bc": td3bc, "iql": iql, "cql": cql, "sac": sac}
# (observation, action) widths of each algorithm's batches; those not listed use HalfCheetah's (OBS, ACT).
DIMS = {"sac": (SAC_OBS, SAC_ACT)}


# ---------------------------------------------------------------------------------------------------------------

def make_batches(seed=0, dims=(OBS, ACT)):
    """N_BATCHES random batches of (observation, action) widths `dims`, grouped into N_BATCHES / K
    device-resident stacks of K batches each."""
    obs_dim, act_dim = dims
    rng = np.random.default_rng(seed)
    f32 = np.float32
    host = dict(obs=rng.standard_normal((N_BATCHES, BATCH, obs_dim), f32),
                act=rng.uniform(-1, 1, (N_BATCHES, BATCH, act_dim)).astype(f32),
                rew=rng.standard_normal((N_BATCHES, BATCH), f32),
                next_obs=rng.standard_normal((N_BATCHES, BATCH, obs_dim), f32),
                done=np.zeros((N_BATCHES, BATCH), f32))
    groups = N_BATCHES // K
    return [jax.device_put({k: v[g * K:(g + 1) * K] for k, v in host.items()}) for g in range(groups)]


def measure(name, seconds, groups):
    state, run = ALGOS[name](jax.random.PRNGKey(0))
    calls = 0
    for _ in range(2):  # compile, then one more warm call
        state = run(state, groups[calls % len(groups)]); calls += 1
    jax.block_until_ready(state)
    rates = []
    for _ in range(7):
        start, n = time.perf_counter(), 0
        while True:  # at least one call per batch (a CQL call may take longer than the batch's share)
            state = run(state, groups[calls % len(groups)]); calls += 1; n += 1
            jax.block_until_ready(state)
            if time.perf_counter() - start >= seconds / 7:
                break
        rates.append(n * K / (time.perf_counter() - start))
    leaves = jax.tree_util.tree_leaves(state)
    if not all(bool(jnp.all(jnp.isfinite(x))) for x in leaves if jnp.issubdtype(x.dtype, jnp.floating)):
        print(f"jax_train_anchor: {name}: non-finite parameters after {calls * K} updates", file=sys.stderr)
    return sorted(rates)[len(rates) // 2]


def main():
    names = [n.strip() for n in args.algos.split(",") if n.strip()]
    unknown = [n for n in names if n not in ALGOS]
    if unknown:
        sys.exit(f"jax_train_anchor: unknown algorithm(s) {unknown}; known: {sorted(ALGOS)}")
    batches = {}  # one set of batches per (observation, action) widths, made on first use
    results = []
    for n in names:
        dims = DIMS.get(n, (OBS, ACT))
        if dims not in batches:
            batches[dims] = make_batches(dims=dims)
        results.append({"name": n, "anchor_steps_per_second": measure(n, args.seconds, batches[dims])})
    print(json.dumps({"jax_version": jax.__version__, "threads": args.threads, "results": results}))


if __name__ == "__main__":
    main()
