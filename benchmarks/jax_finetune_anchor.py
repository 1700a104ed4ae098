#!/usr/bin/env python3
"""The JAX anchor of benchmarks/finetune-vs-jax: environment steps per second of an online fine-tuning loop in
Hopper-v4 with WSRL's and RLPD's settings, run by their reference code.

The agents are the transcriptions in scripts/fixtures/make_wsrl_fixture.py (github.com/zhouzypaul/wsrl at 891ee35:
agents/sac.py, networks, common) and scripts/fixtures/make_rlpd_fixture.py (github.com/ikostrikov/rlpd at c90fd4b:
agents/sac/sac_learner.py, networks, distributions), imported here with what the fixtures changed for their
stored draws put back as the references have it:
- samples from the tanh-Gaussian draw their normals from the key (`jax.random.normal`, as distrax/tfp do);
  WSRL's critic subsets `jax.random.randint`, RLPD's `subsample_ensemble` its `jax.random.choice`;
- WSRL's `update_high_utd` is the reference's (`jax.lax.scan` over the critic minibatches, then one actor and
  temperature step on the whole batch) under `jax.jit(static_argnames=("utd_ratio",))`; RLPD's `update` is the
  reference's Python loop over `utd_ratio` critic steps, then the actor and temperature, under
  `jax.jit(static_argnames="utd_ratio")`, as rlpd's `@partial(jax.jit, static_argnames="utd_ratio")`;
- actions are sampled by a jitted policy call per step (WSRL's `sample_actions`, rlpd's `_sample_actions`).

The loop is the references' (wsrl finetune.py, rlpd train_finetuning.py): sample an action, step the environment,
insert the transition in a NumPy replay buffer, reset at the end of an episode, then sample the batch with NumPy
(WSRL: 1024 rows from the online buffer; RLPD: 256·20 rows, half from the dataset and half online, interleaved
by `combine`) and update. Sizes: Hopper (11 observations, 3 actions), hidden (256, 256), 10 critics with
LayerNorm, subsets of 2; WSRL UTD 4 on a 1024 batch, RLPD UTD 20 on 256-row minibatches.

Not timed: compilation, and `--prefill` random-action steps that fill the replay buffer first (WSRL's warm-up
and RLPD's start_training play this part in the references). Timed: `--steps` loop steps, each with its update.

    python3 benchmarks/jax_finetune_anchor.py --algo wsrl --steps 200 [--dataset data/hopper-medium.hdf5]
Prints one JSON object: {"algo", "steps", "seconds", "env_steps_per_second", "updates_per_second", ...}.
"""
import argparse
import importlib.util
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name):
    path = os.path.join(HERE, "..", "scripts", "fixtures", f"{name}.py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--algo", choices=["wsrl", "rlpd"], required=True)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--prefill", type=int, default=1100)
    parser.add_argument("--dataset", default=None, help="an HDF5 dataset for RLPD's offline half (h5py); random rows when absent")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import jax
    import jax.numpy as jnp
    import gymnasium as gym

    env = gym.make("Hopper-v4")
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    capacity = args.prefill + args.steps + 10
    buf = {"observations": np.zeros((capacity, obs_dim), np.float32), "next_observations": np.zeros((capacity, obs_dim), np.float32),
           "actions": np.zeros((capacity, act_dim), np.float32), "rewards": np.zeros(capacity, np.float32),
           "masks": np.zeros(capacity, np.float32), "dones": np.zeros(capacity, np.float32)}
    size = 0
    rs = np.random.default_rng(args.seed)

    def insert(o, a, r, o2, terminated, truncated):
        nonlocal size
        buf["observations"][size], buf["actions"][size], buf["rewards"][size] = o, a, r
        buf["next_observations"][size], buf["masks"][size] = o2, 1.0 - float(terminated)
        buf["dones"][size] = float(terminated or truncated)
        size += 1

    def sample(n):
        idx = rs.integers(size, size=n)
        return {k: v[idx] for k, v in buf.items()}

    observation, _ = env.reset(seed=args.seed)
    for _ in range(args.prefill):
        action = env.action_space.sample()
        o2, r, terminated, truncated, _ = env.step(action)
        insert(observation, action, r, o2, terminated, truncated)
        observation = o2 if not (terminated or truncated) else env.reset()[0]

    key = jax.random.PRNGKey(args.seed)
    if args.algo == "wsrl":
        m = load("make_wsrl_fixture")
        m.OBS, m.ACT, m.HIDDEN, m.E, m.SUB = obs_dim, act_dim, (256, 256), 10, 2
        m.stored_randint = lambda k, shape, minval, maxval: jax.random.randint(k, shape, minval, maxval)
        m.stored_uniform = lambda k, shape, minval, maxval: jax.random.uniform(k, shape, minval=minval, maxval=maxval)

        def sample_and_log_prob(self, seed, sample_shape=()):
            shape = ((sample_shape,) if sample_shape else ()) + self.loc.shape
            x = self.loc + self.scale * jax.random.normal(seed, shape)
            return jnp.tanh(x), self._log_prob_pre_tanh(x)

        m.TanhMultivariateNormalDiag.sample_and_log_prob = sample_and_log_prob
        m.TanhMultivariateNormalDiag.sample = lambda self, seed: sample_and_log_prob(self, seed)[0]
        UTD, BATCH = 4, 1024

        def update_high_utd(agent, batch, utd_ratio):  # wsrl/agents/sac.py update_high_utd
            batch_size = batch["rewards"].shape[0]
            minibatch_size = batch_size // utd_ratio

            def scan_body(carry, data):
                (agent,) = carry
                (minibatch,) = data
                agent, info = agent.update(minibatch, networks_to_update=frozenset({"critic"}))
                return (agent,), info

            minibatches = jax.tree_util.tree_map(lambda d: jnp.reshape(d, (utd_ratio, minibatch_size) + d.shape[1:]), batch)
            (agent,), critic_infos = jax.lax.scan(scan_body, (agent,), (minibatches,))
            critic_infos = jax.tree_util.tree_map(lambda x: jnp.mean(x, axis=0), critic_infos)
            agent, actor_temp_infos = agent.update(batch, networks_to_update=frozenset({"actor", "temperature"}))
            return agent, {"critic": critic_infos["critic"], "actor": actor_temp_infos["actor"]}

        update = jax.jit(update_high_utd, static_argnames=("utd_ratio",))
        # wsrl/agents/sac.py sample_actions: dist.sample(seed=seed) of the policy (train=False)
        sample_actions = jax.jit(lambda agent, o, seed: agent.forward_policy(o, rng=seed, train=False).sample(seed=seed))
        obs0, act0 = np.zeros((1, obs_dim), np.float32), np.zeros((1, act_dim), np.float32)
        config = m.config(n_actions=10, max_target_backup=False)
        config.update(backup_entropy=False, soft_target_update_rate=5e-3, target_entropy=-act_dim)
        agent = m.SACAgent.create(key, obs0, act0, encoder_def=None, **config)

        def act(agent, o, k):
            return np.asarray(sample_actions(agent, o, k)), agent

        def train_batch():
            return sample(BATCH)

        def step_update(agent, batch):
            return update(agent, batch, utd_ratio=UTD)[0]
    else:
        m = load("make_rlpd_fixture")
        m.OBS, m.ACT, m.HIDDEN, m.NUM_QS, m.NUM_MIN_QS = obs_dim, act_dim, (256, 256), 10, 2
        m.ACTOR_LR = m.CRITIC_LR = m.TEMP_LR = 3e-4
        m.INIT_TEMP, m.TARGET_ENTROPY = 1.0, -act_dim / 2
        UTD, MINI = 20, 256
        if args.dataset:
            import h5py
            with h5py.File(args.dataset, "r") as f:
                ds = {"observations": f["observations"][:].astype(np.float32), "actions": f["actions"][:].astype(np.float32),
                      "rewards": f["rewards"][:].astype(np.float32), "next_observations": f["next_observations"][:].astype(np.float32),
                      "masks": 1.0 - f["terminals"][:].astype(np.float32)}
        else:
            n = 1_000_000
            ds = {"observations": rs.normal(size=(n, obs_dim)).astype(np.float32), "actions": rs.uniform(-1, 1, (n, act_dim)).astype(np.float32),
                  "rewards": rs.normal(size=n).astype(np.float32), "next_observations": rs.normal(size=(n, obs_dim)).astype(np.float32),
                  "masks": np.ones(n, np.float32)}
        ds["dones"] = np.zeros(len(ds["rewards"]), np.float32)
        ds_len = len(ds["rewards"])

        def sample_fn(self, k):  # tfp's TransformedDistribution.sample(seed=key) of the tanh'd normal
            return self.sample_with(jax.random.normal(k, self.loc.shape))[0]

        m.TanhNormalDist.sample = sample_fn

        class Learner(m.SACLearner):
            # rlpd/agents/sac/sac_learner.py update_actor / update_critic, with the key's draws.
            def update_actor(self, batch):
                key, rng = jax.random.split(self.rng)
                key2, rng = jax.random.split(rng)

                def actor_loss_fn(actor_params):
                    dist = self.actor.apply_fn({"params": actor_params}, batch["observations"])
                    actions, x = dist.sample_with(jax.random.normal(key, dist.loc.shape))
                    log_probs = dist.log_prob_of_sample(x)
                    qs = self.critic.apply_fn({"params": self.critic.params}, batch["observations"], actions, True, rngs={"dropout": key2})
                    q = qs.mean(axis=0)
                    actor_loss = (log_probs * self.temp.apply_fn({"params": self.temp.params}) - q).mean()
                    return actor_loss, {"actor_loss": actor_loss, "entropy": -log_probs.mean()}

                grads, actor_info = jax.grad(actor_loss_fn, has_aux=True)(self.actor.params)
                return self.replace(actor=self.actor.apply_gradients(grads=grads), rng=rng), actor_info

            def update_critic(self, batch):
                dist = self.actor.apply_fn({"params": self.actor.params}, batch["next_observations"])
                rng = self.rng
                key, rng = jax.random.split(rng)
                next_actions, next_x = dist.sample_with(jax.random.normal(key, dist.loc.shape))
                key, rng = jax.random.split(rng)
                target_params = m.subsample_ensemble(key, self.target_critic.params, self.num_min_qs, self.num_qs)
                key, rng = jax.random.split(rng)
                next_qs = self.target_critic.apply_fn({"params": target_params}, batch["next_observations"], next_actions, True, rngs={"dropout": key})
                next_q = next_qs.min(axis=0)
                target_q = batch["rewards"] + self.discount * batch["masks"] * next_q
                if self.backup_entropy:
                    target_q -= self.discount * batch["masks"] * self.temp.apply_fn({"params": self.temp.params}) * dist.log_prob_of_sample(next_x)
                key, rng = jax.random.split(rng)

                def critic_loss_fn(critic_params):
                    qs = self.critic.apply_fn({"params": critic_params}, batch["observations"], batch["actions"], True, rngs={"dropout": key})
                    critic_loss = ((qs - target_q) ** 2).mean()
                    return critic_loss, {"critic_loss": critic_loss, "q": qs.mean()}

                grads, info = jax.grad(critic_loss_fn, has_aux=True)(self.critic.params)
                critic = self.critic.apply_gradients(grads=grads)
                target = self.target_critic.replace(params=m.optax.incremental_update(critic.params, self.target_critic.params, self.tau))
                return self.replace(critic=critic, target_critic=target, rng=rng), info

            def update_utd(self, batch, utd_ratio):
                new_agent = self
                for i in range(utd_ratio):
                    mini_batch = jax.tree_util.tree_map(lambda x: x[x.shape[0] // utd_ratio * i: x.shape[0] // utd_ratio * (i + 1)], batch)
                    new_agent, critic_info = new_agent.update_critic(mini_batch)
                new_agent, actor_info = new_agent.update_actor(mini_batch)
                new_agent, temp_info = new_agent.update_temperature(actor_info["entropy"])
                return new_agent, {**actor_info, **critic_info, **temp_info}

        agent = Learner.create(args.seed)
        update = jax.jit(lambda a, b, utd_ratio: a.update_utd(b, utd_ratio), static_argnames=("utd_ratio",))

        @jax.jit
        def _sample_actions(rng, params, observations):  # rlpd/agents/agent.py
            key, rng = jax.random.split(rng)
            dist = agent.actor.apply_fn({"params": params}, observations)
            return dist.sample(key), rng

        def act(agent, o, k):
            a, rng = _sample_actions(agent.rng, agent.actor.params, o)
            return np.asarray(a), agent.replace(rng=rng)

        def combine(one, other):  # train_finetuning.py combine: interleaved rows
            out = {}
            for k, v in one.items():
                tmp = np.empty((v.shape[0] + other[k].shape[0], *v.shape[1:]), dtype=v.dtype)
                tmp[0::2], tmp[1::2] = v, other[k]
                out[k] = tmp
            return out

        def train_batch():
            online = sample(MINI * UTD // 2)
            idx = rs.integers(ds_len, size=MINI * UTD // 2)
            offline = {k: ds[k][idx] for k in online}
            return combine(offline, online)

        def step_update(agent, batch):
            return update(agent, batch, utd_ratio=UTD)[0]

    def loop_step(agent, k):
        nonlocal observation
        k, action_key = jax.random.split(k)
        action, agent = act(agent, observation[None] if args.algo == "wsrl" else observation, action_key)
        action = np.asarray(action).reshape(-1)
        o2, r, terminated, truncated, _ = env.step(action)
        insert(observation, action, r, o2, terminated, truncated)
        observation = o2 if not (terminated or truncated) else env.reset()[0]
        agent = step_update(agent, train_batch())
        return agent, k

    compile_start = time.perf_counter()
    for _ in range(3):
        agent, key = loop_step(agent, key)
    jax.block_until_ready(jax.tree_util.tree_leaves(agent))
    compile_seconds = time.perf_counter() - compile_start
    start = time.perf_counter()
    for _ in range(args.steps):
        agent, key = loop_step(agent, key)
    jax.block_until_ready(jax.tree_util.tree_leaves(agent))
    seconds = time.perf_counter() - start
    print(json.dumps({"algo": args.algo, "steps": args.steps, "seconds": seconds, "env_steps_per_second": args.steps / seconds,
                      "updates_per_second": args.steps * UTD / seconds, "utd": UTD, "compile_and_first_steps_seconds": compile_seconds,
                      "jax": jax.__version__, "devices": str(jax.devices())}))


if __name__ == "__main__":
    sys.exit(main())
