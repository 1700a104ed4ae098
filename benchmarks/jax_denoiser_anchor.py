#!/usr/bin/env python3
"""JAX anchor for `stitch bench diffusion`: jit-compiled SynthER denoiser training updates and EDM Euler sampling.

The network is SynthER's ResidualMLPDenoiser as Stitch builds it (Sources/StitchDiffusion/SynthER/
ResidualMLPDenoiser.swift): F(x, c_noise) for x [B, d] (d 27 by default, a Hopper transition) and c_noise [B];
random Fourier features [c, sin 2πcw, cos 2πcw] over 8 fixed frequencies w ~ N(0, 1) (17 features);
time = Linear(17 → 128) → SiLU → Linear(128 → 128); h = Linear(d → 128)(x) + time; z = Linear(128 → width)(h);
6 residual blocks z = z + Linear(width → width)(ReLU z); output Linear(width → d)(ReLU z). PyTorch's default init.
It is trained with EDM's preconditioning and loss (Karras et al. 2022, Table 1; SynthER's ElucidatedDiffusion):
σ_data 1, ln σ ~ N(−1.2, 1.2²), D(x; σ) = c_skip·x + c_out·F(c_in·x, ¼ ln σ), loss = mean over rows of
λ(σ)·mean over dims (D(x₀ + σn; σ) − x₀)², λ = (σ² + σ_data²)/(σ·σ_data)², by Adam (3e-4, betas (0.9, 0.99)), one
update per batch. As in jax_train_anchor.py, K = 8 updates are fused into one compiled call (`jax.lax.scan` over 8
pre-made batches; σ and the noise are drawn inside from a key split each update). Batch content does not matter for
timing: 64 standard-normal batches (standardised data) are made on the host once, moved to the device once, and
cycled.

Sampling is EDM's deterministic Euler sampler (Karras et al. 2022, Alg. 1 without the Heun correction), the whole
loop in one compiled call on 256 rows: Karras steps σ_i = (σ_max^{1/ρ} + i/(N−1)(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ,
i < N, σ_N = 0 (σ_max 80, σ_min 0.002, ρ 7, N = --sample-steps), x₀ = σ_max·N(0, I), x ← x + (σ' − σ)(x − D(x; σ))/σ
(the last step, to 0, lands on the denoised estimate): N network evaluations per sample, with the trained weights.

Prints one JSON object:
  {"jax_version": ..., "threads": T, "width": W, "batch": B,
   "results": [{"name": "denoiser-train", "anchor_steps_per_second": X, "mflop_per_step": M},
               {"name": "sample-euler", "anchor_steps_per_second": Y, "steps": N}]}
where a denoiser-train step is one gradient update (8 per compiled call) and mflop_per_step = 3·2·B·Σ in·out over the
10 linear layers / 1e6 (forward and backward ≈ 3× the forward matrix FLOPs); sample-euler's rate is samples (rows)
per second, 256 per call. Each rate is the median over 7 timed batches.

  python benchmarks/jax_denoiser_anchor.py [--threads 1|2] [--seconds 3] [--width 1024] [--batch 256] [--dim 27]
                                           [--sample-steps 32]
"""
import argparse
import json
import os
import sys
import time

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--seconds", type=float, default=3.0, help="total timed seconds per measurement (7 batches)")
parser.add_argument("--width", type=int, default=1024, help="residual MLP width (SynthER: 1024 or 2048)")
parser.add_argument("--batch", type=int, default=256, help="training batch size")
parser.add_argument("--dim", type=int, default=27, help="row dimension d (27: a Hopper transition)")
parser.add_argument("--sample-steps", type=int, default=32, help="Euler steps (network evaluations) per sample")
args = parser.parse_args()
if args.sample_steps < 1:
    sys.exit("jax_denoiser_anchor: --sample-steps must be at least 1")

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

DIM, WIDTH, BATCH = args.dim, args.width, args.batch
DEPTH, TIME_DIM, N_FREQ = 6, 128, 8
SIGMA_DATA, P_MEAN, P_STD = 1.0, -1.2, 1.2
SIGMA_MIN, SIGMA_MAX, RHO = 0.002, 80.0, 7.0
LR, BETA1, BETA2 = 3e-4, 0.9, 0.99
K = 8              # updates fused per compiled call
N_BATCHES = 64     # host-made batches, cycled
SAMPLE_ROWS = 256  # rows per sampler call


# ---------------------------------------------------------------------------------------------------------------
# The denoiser. Params are a dict of (W, b); init is PyTorch's default (uniform +-1/sqrt(fan_in)). The Fourier
# frequencies are fixed (SynthER's is_random=True), so they are a constant of the compiled functions, not a parameter.

def linear_init(key, fan_in, fan_out):
    kw, kb = jax.random.split(key)
    bound = 1.0 / np.sqrt(fan_in)
    return (jax.random.uniform(kw, (fan_in, fan_out), jnp.float32, -bound, bound),
            jax.random.uniform(kb, (fan_out,), jnp.float32, -bound, bound))


def layer_sizes():
    """(in, out) of the 10 linear layers, in the order of `denoiser_init`."""
    return ([(DIM, TIME_DIM), (1 + 2 * N_FREQ, TIME_DIM), (TIME_DIM, TIME_DIM), (TIME_DIM, WIDTH)]
            + [(WIDTH, WIDTH)] * DEPTH + [(WIDTH, DIM)])


def denoiser_init(key):
    kf, key = jax.random.split(key)
    layers = [linear_init(k, i, o) for k, (i, o) in zip(jax.random.split(key, len(layer_sizes())), layer_sizes())]
    params = dict(proj=layers[0], time_hidden=layers[1], time_out=layers[2], input=layers[3],
                  blocks=layers[4:4 + DEPTH], output=layers[-1])
    frequencies = jax.random.normal(kf, (N_FREQ,), jnp.float32)
    return params, frequencies


def linear(p, x):
    w, b = p
    return x @ w + b


def network(params, frequencies, x, c_noise):
    """F(x, c_noise) for x [B, d] and c_noise [B]."""
    c = c_noise[:, None]
    angles = c * frequencies[None, :] * (2 * np.pi)
    fourier = jnp.concatenate([c, jnp.sin(angles), jnp.cos(angles)], axis=-1)          # [B, 17]
    time_emb = linear(params["time_out"], jax.nn.silu(linear(params["time_hidden"], fourier)))
    z = linear(params["input"], linear(params["proj"], x) + time_emb)
    for block in params["blocks"]:
        z = z + linear(block, jax.nn.relu(z))
    return linear(params["output"], jax.nn.relu(z))


def denoise(params, frequencies, x, sigma):
    """EDM's D(x; σ) for rows x [B, d] and per-row σ [B]."""
    s = sigma[:, None]
    d2 = SIGMA_DATA * SIGMA_DATA
    root = jnp.sqrt(s * s + d2)
    c_skip = d2 / (s * s + d2)
    c_out = s * SIGMA_DATA / root
    c_in = 1.0 / root
    c_noise = 0.25 * jnp.log(sigma)
    return c_skip * x + c_out * network(params, frequencies, c_in * x, c_noise)


def edm_loss(params, frequencies, clean, key):
    """EDM's training loss on a batch of clean rows [B, d]."""
    ks, kn = jax.random.split(key)
    b = clean.shape[0]
    sigma = jnp.exp(jax.random.normal(ks, (b,), jnp.float32) * P_STD + P_MEAN)
    noise = jax.random.normal(kn, clean.shape, jnp.float32)
    denoised = denoise(params, frequencies, clean + sigma[:, None] * noise, sigma)
    weight = (sigma * sigma + SIGMA_DATA ** 2) / (sigma * SIGMA_DATA) ** 2
    per_row = jnp.mean((denoised - clean) ** 2, axis=1)
    return jnp.mean(weight * per_row)


# ---------------------------------------------------------------------------------------------------------------
# Training: K updates per compiled call.

def trainer(key):
    params, frequencies = denoiser_init(key)
    opt = optax.adam(LR, b1=BETA1, b2=BETA2)
    state = dict(params=params, opt_state=opt.init(params), key=jax.random.PRNGKey(1))

    def update(st, clean):
        key, kl = jax.random.split(st["key"])
        g = jax.grad(edm_loss)(st["params"], frequencies, clean, kl)
        upd, opt_state = opt.update(g, st["opt_state"], st["params"])
        return dict(params=optax.apply_updates(st["params"], upd), opt_state=opt_state, key=key)

    def run(st, batches):
        st, _ = jax.lax.scan(lambda s, b: (update(s, b), None), st, batches)
        return st

    return state, frequencies, jax.jit(run, donate_argnums=0)


# ---------------------------------------------------------------------------------------------------------------
# Sampling: the whole deterministic Euler loop in one compiled call.

def karras_sigmas(n):
    """N Karras noise levels from σ_max down to σ_min, then 0 (N + 1 values)."""
    i = np.arange(n, dtype=np.float64)
    hi, lo = SIGMA_MAX ** (1 / RHO), SIGMA_MIN ** (1 / RHO)
    sigmas = (hi + i / max(n - 1, 1) * (lo - hi)) ** RHO
    return np.append(sigmas, 0.0).astype(np.float32)


def sampler(frequencies, steps):
    sigmas = karras_sigmas(steps)
    pairs = (jnp.asarray(sigmas[:-1]), jnp.asarray(sigmas[1:]))

    def sample(params, key, call):
        x = SIGMA_MAX * jax.random.normal(jax.random.fold_in(key, call), (SAMPLE_ROWS, DIM), jnp.float32)

        def step(x, ts):
            t, t_next = ts
            x0 = denoise(params, frequencies, x, jnp.full((SAMPLE_ROWS,), t))
            return x + (t_next - t) * (x - x0) / t, None
        x, _ = jax.lax.scan(step, x, pairs)
        return x

    return jax.jit(sample)


# ---------------------------------------------------------------------------------------------------------------

def make_batches(seed=0):
    """N_BATCHES standard-normal batches [BATCH, DIM], grouped into N_BATCHES / K device-resident stacks of K."""
    rng = np.random.default_rng(seed)
    host = rng.standard_normal((N_BATCHES, BATCH, DIM), np.float32)
    return [jax.device_put(host[g * K:(g + 1) * K]) for g in range(N_BATCHES // K)]


def timed(call, seconds, per_call):
    """Median rate (per_call units per second) over 7 timed batches of `call()`, which runs one compiled call and
    blocks on its result; each batch runs at least one call."""
    rates = []
    for _ in range(7):
        start, n = time.perf_counter(), 0
        while True:
            call(); n += 1
            if time.perf_counter() - start >= seconds / 7:
                break
        rates.append(n * per_call / (time.perf_counter() - start))
    return sorted(rates)[len(rates) // 2]


def finite(tree):
    return all(bool(jnp.all(jnp.isfinite(x))) for x in jax.tree_util.tree_leaves(tree)
               if jnp.issubdtype(x.dtype, jnp.floating))


def main():
    groups = make_batches()
    state, frequencies, run = trainer(jax.random.PRNGKey(0))
    calls = 0

    def train_call():
        nonlocal state, calls
        state = run(state, groups[calls % len(groups)]); calls += 1
        jax.block_until_ready(state)

    for _ in range(2):  # compile, then one more warm call
        train_call()
    train_rate = timed(train_call, args.seconds, K)
    if not finite(state["params"]):
        print(f"jax_denoiser_anchor: non-finite parameters after {calls * K} updates", file=sys.stderr)

    sample = sampler(frequencies, args.sample_steps)
    params, key, samples = state["params"], jax.random.PRNGKey(2), 0
    out = None

    def sample_call():
        nonlocal samples, out
        out = sample(params, key, samples); samples += 1
        jax.block_until_ready(out)

    for _ in range(2):
        sample_call()
    sample_rate = timed(sample_call, args.seconds, SAMPLE_ROWS)
    if not finite(out):
        print("jax_denoiser_anchor: non-finite samples", file=sys.stderr)

    mflop = 3 * 2 * BATCH * sum(i * o for i, o in layer_sizes()) / 1e6
    results = [{"name": "denoiser-train", "anchor_steps_per_second": train_rate, "mflop_per_step": mflop},
               {"name": "sample-euler", "anchor_steps_per_second": sample_rate, "steps": args.sample_steps}]
    print(json.dumps({"jax_version": jax.__version__, "threads": args.threads, "width": WIDTH, "batch": BATCH,
                      "results": results}))


if __name__ == "__main__":
    main()
