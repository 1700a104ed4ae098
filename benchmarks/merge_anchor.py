"""Merges alternating Stitch and anchor (JAX) benchmark rounds into one JSON object.

Usage: python3 benchmarks/merge_anchor.py DIR LABEL_JSON [ANCHOR]
DIR holds stitch-T-R.json (`stitch bench ... --json`) and ANCHOR-T-R.json (an anchor script's output:
{"ANCHOR_version", "results": [{"name", "anchor_steps_per_second"}]}) for threads T and rounds R = 1, 2, ...;
ANCHOR is jax (default) or torch. LABEL_JSON maps a result name to the anchor's description ("{v}" is replaced
by the anchor's version).
Prints {"runs": [{"threads": T, "rounds": R, "results": [...], "machine": {...}}]}: per result the median over
rounds of Stitch's figures, "anchor_steps_per_second" (median of the anchor's rounds), "ratio_to_anchor" (the
median of the per-round ratios: each round runs Stitch and the anchor back to back), and "ratios" (every round's).
"""
import glob, json, os, re, statistics, sys

tmp, labels = sys.argv[1], json.loads(sys.argv[2])
prefix = sys.argv[3] if len(sys.argv) > 3 else "jax"
runs = []
threads = sorted({int(re.match(r"stitch-(\d+)-", os.path.basename(p)).group(1)) for p in glob.glob(os.path.join(tmp, "stitch-*-*.json"))})
for t in threads:
    rounds = sorted(int(re.search(r"-(\d+)\.json$", p).group(1)) for p in glob.glob(os.path.join(tmp, f"stitch-{t}-*.json")))
    stitch = [json.load(open(os.path.join(tmp, f"stitch-{t}-{r}.json"))) for r in rounds]
    jax = [json.load(open(os.path.join(tmp, f"{prefix}-{t}-{r}.json"))) for r in rounds]
    version = jax[0][f"{prefix}_version"]
    merged = []
    for i, first in enumerate(stitch[0]["results"]):
        name = first["name"]
        rows = [s["results"][i] for s in stitch]
        out = dict(first)
        for key, value in first.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key != "threads":
                vals = [row[key] for row in rows if isinstance(row.get(key), (int, float))]
                if vals:
                    out[key] = statistics.median(vals)
        anchor = [next((a["anchor_steps_per_second"] for a in j["results"] if a["name"] == name), None) for j in jax]
        if all(a is not None for a in anchor):
            ratios = [row["steps_per_second"] / a for row, a in zip(rows, anchor)]
            out["anchor"] = labels.get(name, labels.get("*", prefix + " {v}")).replace("{v}", version)
            out["anchor_steps_per_second"] = statistics.median(anchor)
            out["ratio_to_anchor"] = statistics.median(ratios)
            out["ratios"] = ratios
        merged.append(out)
    runs.append({"threads": t, "rounds": len(rounds), "results": merged, "machine": stitch[0].get("machine")})
print(json.dumps({"runs": runs}, indent=1))
