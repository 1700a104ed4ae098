#!/usr/bin/env bash
# Issue 6's expert policies and the datasets that need them, from a finished SAC run (docs/datasets.md):
#   scripts/experiments/expert-datasets.sh TASK ENV EXPERT_STEP MEDIUM_STEP
# e.g. scripts/experiments/expert-datasets.sh hopper Hopper-v4 500000 70000
# 1. exports the run's snapshot at EXPERT_STEP as the bundled TASK-expert policy (package resource; the binary's
#    resource folder is refreshed so `--policy TASK-expert` finds it without a rebuild);
# 2. measures it over 100 episodes (seeds 0-99), deterministic and stochastic;
# 3. makes TASK-expert (1M), TASK-medium-expert (1M medium + 1M expert) and TASK-medium-replay (the run's replay
#    buffer up to MEDIUM_STEP, the step of the bundled medium snapshot), and reports each with `dataset info`.
# Outputs: data/TASK-{expert,medium-expert,medium-replay}.hdf5 and runs/experts/TASK-*.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
TASK=$1; ENV=$2; EXPERT_STEP=$3; MEDIUM_STEP=$4
STITCH=${STITCH:-.build/release/stitch}
RUN=runs/sac-$TASK/seed_0
OUT=runs/experts; mkdir -p "$OUT" data
POLICY=Sources/StitchAlgorithms/Resources/policies/$TASK-expert.safetensors
$STITCH policy export "$RUN/snapshots/step_$EXPERT_STEP.safetensors" --name "$TASK-expert" -o "$POLICY"
cp "$POLICY" "$(dirname "$STITCH")/Stitch_StitchAlgorithms.resources/Resources/policies/"
$STITCH eval --policy "$TASK-expert" --episodes 100 --json > "$OUT/$TASK-expert-eval.json"
$STITCH eval --policy "$TASK-expert" --episodes 100 --stochastic --json > "$OUT/$TASK-expert-eval-stochastic.json"
$STITCH dataset make "$TASK-expert" --size 1000000 --seed 0 -o "data/$TASK-expert.hdf5"
$STITCH dataset info "data/$TASK-expert.hdf5" --env "$ENV" --json > "$OUT/$TASK-expert-info.json"
$STITCH dataset make "$TASK-medium-replay" --from-run "$RUN" --until "$MEDIUM_STEP" -o "data/$TASK-medium-replay.hdf5"
$STITCH dataset info "data/$TASK-medium-replay.hdf5" --env "$ENV" --json > "$OUT/$TASK-medium-replay-info.json"
$STITCH dataset make "$TASK-medium-expert" --size 1000000 --seed 0 -o "data/$TASK-medium-expert.hdf5"
$STITCH dataset info "data/$TASK-medium-expert.hdf5" --env "$ENV" --json > "$OUT/$TASK-medium-expert-info.json"
echo "expert-datasets: $TASK done; figures in $OUT/"
