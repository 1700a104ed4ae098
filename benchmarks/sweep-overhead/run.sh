#!/usr/bin/env bash
# What a sweep's executors cost: 3 algorithms × 2 datasets × 3 seeds (18 short cells) run
#   (1) one after another, each cell's `stitch train` command as `stitch sweep --dry-run` prints it;
#   (2) by the local executor, `stitch sweep --jobs J`;
#   (3) through the local Slurm (scripts/slurm-local), `stitch sweep --executor slurm --throttle J`, until its
#       report job has ended;
# and prints each wall time, the ideal (1)/J, and each executor's overhead per cell: (wall − (1)/J)·J / cells.
#   benchmarks/sweep-overhead/run.sh [STEPS] [JOBS]     (defaults 2000 and the number of cores)
# Writes its folders under /tmp/stitch-sweep-bench; the figures go into benchmarks/RESULTS.md by hand.
set -euo pipefail
cd "$(dirname "$0")/../.."
STEPS=${1:-2000}
JOBS=${2:-$(nproc)}
STITCH=$(realpath "${STITCH:-.build/release/stitch}")
export STITCH_EXECUTABLE=$STITCH
W=/tmp/stitch-sweep-bench
rm -rf "$W"; mkdir -p "$W"
scripts/slurm-local start > /dev/null
"$STITCH" dataset make pendulum-random --size 20000 --seed 0 -o "$W/pendulum-random.hdf5" > /dev/null 2>&1
"$STITCH" dataset make pendulum-medium --size 20000 --seed 0 -o "$W/pendulum-medium.hdf5" > /dev/null 2>&1
cat > "$W/sweep.toml" <<EOF
algorithms = ["bc", "td3bc", "iql"]
seeds = [0, 1, 2]
steps = $STEPS
eval_every = $STEPS
eval_episodes = 2
[dataset.pendulum-random]
file = "$W/pendulum-random.hdf5"
env = "Pendulum-v1"
[dataset.pendulum-medium]
file = "$W/pendulum-medium.hdf5"
env = "Pendulum-v1"
EOF
now() { date +%s.%N; }

# (1) one after another
"$STITCH" sweep "$W/sweep.toml" --out "$W/sequential" --dry-run | grep ': stitch ' | sed 's/^[^:]*: stitch //' > "$W/commands"
CELLS=$(wc -l < "$W/commands")
t0=$(now)
while read -r line; do eval "\"$STITCH\" $line" > /dev/null 2>&1; done < "$W/commands"
SEQ=$(echo "$(now) - $t0" | bc)

# (2) the local executor
t0=$(now)
"$STITCH" sweep "$W/sweep.toml" --out "$W/local" --jobs "$JOBS" > /dev/null 2>&1
LOCAL=$(echo "$(now) - $t0" | bc)

# (3) Slurm: from submission to the report job's end
t0=$(now)
"$STITCH" sweep "$W/sweep.toml" --out "$W/slurm" --executor slurm --throttle "$JOBS" > /dev/null
REPORT=$(python3 -c "import json;print(json.load(open('$W/slurm/slurm/jobs.json'))['report'])")
while squeue -h -j "$REPORT" 2> /dev/null | grep -q .; do sleep 0.2; done
SLURM=$(echo "$(now) - $t0" | bc)
[ -f "$W/slurm/report.md" ] || { echo "the Slurm sweep wrote no report" >&2; exit 1; }
FINISHED=$(grep -c '"finished"' "$W/slurm/sweep.json" || true)

python3 - "$CELLS" "$JOBS" "$SEQ" "$LOCAL" "$SLURM" "$FINISHED" <<'EOF'
import sys
cells, jobs = int(sys.argv[1]), int(sys.argv[2])
seq, local, slurm = map(float, sys.argv[3:6])
ideal = seq / jobs
print(f"cells {cells}, jobs {jobs}, Slurm cells finished {sys.argv[6]}")
print(f"one after another   {seq:8.1f} s  ({seq / cells:.2f} s per cell)")
print(f"ideal with {jobs} jobs   {ideal:8.1f} s")
for name, wall in [("local executor", local), ("local Slurm", slurm)]:
    print(f"{name:18s}  {wall:8.1f} s  speed-up {seq / wall:.2f}x  overhead per cell {(wall - ideal) * jobs / cells:+.2f} s")
EOF
