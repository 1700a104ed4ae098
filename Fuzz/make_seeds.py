#!/usr/bin/env python3
"""Writes the hand-made seeds of Fuzz/corpus/safetensors and Fuzz/corpus/config (standard library only).

The safetensors seeds follow the format of https://github.com/huggingface/safetensors (README "Format"): an 8-byte
little-endian header length, a JSON header of {name: {dtype, shape, data_offsets}} plus "__metadata__", then the
raw little-endian bytes. One is a tiny behaviour policy in the layout BehaviourPolicy.save writes (actor.net.0 and
actor.net.2 weights and biases, PyTorch Sequential indices; metadata task/kind/hidden_sizes/action_low/
action_high), one a checkpoint with that MLP and its Adam state as Checkpoint.store writes them, and a few cover the other dtypes. The D4RL and Minari seeds are copies of
the test fixtures (Tests/StitchDataTests/Fixtures). Run from the repository root: python3 Fuzz/make_seeds.py
"""
import json
import os
import struct

def safetensors(tensors, metadata):
    header, body = {}, b""
    for name in sorted(tensors):
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(body), len(body) + len(raw)]}
        body += raw
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body

def f32(values):
    return struct.pack("<%df" % len(values), *values)

def mlp(prefix, sizes):
    out = {}
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        out[f"{prefix}net.{2 * i}.weight"] = ("F32", [n_out, n_in], f32([0.1 * ((j % 7) - 3) for j in range(n_out * n_in)]))
        out[f"{prefix}net.{2 * i}.bias"] = ("F32", [n_out], f32([0.01 * j for j in range(n_out)]))
    return out

def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)

st = "Fuzz/corpus/safetensors"
# A behaviour policy: observation 3, hidden [4], action 1 (mean and log-std: output 2).
policy = mlp("actor.", [3, 4, 2])
write(st, "policy.safetensors", safetensors(policy, {
    "task": "pendulum", "kind": "medium", "hidden_sizes": "4", "action_low": "-2.0", "action_high": "2.0"}))
# A checkpoint: the same MLP and its Adam moments and step, as Checkpoint.store(optimizer:) writes them
# (Adam.visitState: exp_avg.i and exp_avg_sq.i in the order of the MLP's parameters: weight, bias per layer).
checkpoint = dict(policy)
order = ["actor.net.0.weight", "actor.net.0.bias", "actor.net.2.weight", "actor.net.2.bias"]
for i, name in enumerate(order):
    dtype, shape, raw = policy[name]
    checkpoint[f"actor_optimizer.exp_avg.{i}"] = (dtype, shape, raw)
    checkpoint[f"actor_optimizer.exp_avg_sq.{i}"] = (dtype, shape, f32([abs(x) for x in struct.unpack("<%df" % (len(raw) // 4), raw)]))
write(st, "checkpoint.safetensors", safetensors(checkpoint, {"actor_optimizer.step": "7", "updates": "7"}))
# Other dtypes and an empty tensor.
write(st, "dtypes.safetensors", safetensors({
    "a": ("F64", [2], struct.pack("<2d", 1.5, -2.0)), "b": ("F16", [2], struct.pack("<2H", 0x3C00, 0xC000)),
    "c": ("BF16", [1], struct.pack("<H", 0x3F80)), "d": ("I64", [1], struct.pack("<q", -3)),
    "e": ("I32", [2], struct.pack("<2i", 4, 5)), "f": ("I8", [1], b"\xff"), "g": ("U8", [1], b"\x07"),
    "h": ("BOOL", [2], b"\x00\x01"), "i": ("F32", [0, 3], b"")}, {"note": "dtypes"}))
write(st, "empty.safetensors", safetensors({}, {}))

cf = "Fuzz/corpus/config"
# The first byte picks the format (even: TOML, odd: JSON) and the algorithm ((byte >> 1) % 8, FuzzConfig.swift).
algorithms = ["td3bc", "iql", "cql", "rebrac", "bc", "sacn", "edac", "sac"]
toml = {
    "td3bc": 'q_weight = 2.5\ndiscount = 0.99  # comment\nhidden_sizes = [256, 256]\nactor_delay = 2\n',
    "iql": 'temperature = 3.0\nexpectile = 0.7\n"discount" = 0.99\n',
    "cql": 'discount = 0.99\nlearning_rate = 3e-4\n',
    "rebrac": 'actor_penalty = 0.001\ncritic_penalty = 0.01\n',
    "bc": 'learning_rate = 1_000e-7\n',
    "sacn": 'discount = 0.99\n',
    "edac": 'discount = 0.99\n',
    "sac": "discount = 0.99\nname = 'x # y'\n",
}
for i, algo in enumerate(algorithms):
    write(cf, f"{algo}.toml", bytes([2 * i]) + toml[algo].encode())
    write(cf, f"{algo}.json", bytes([2 * i + 1]) + b'{"discount": 0.99, "hidden_sizes": [256, 256]}')
