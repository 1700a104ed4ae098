#!/usr/bin/env bash
# The offline results table of docs/results.md: BC, TD3+BC, IQL, ReBRAC (and CQL as far as time allows) on a
# dataset made by `stitch dataset make`, 3 seeds each, with CORL's per-dataset settings (--preset).
#   scripts/experiments/offline-table.sh DATASET_NAME ENV STEPS [ALGOS...]
# e.g. scripts/experiments/offline-table.sh hopper-medium Hopper-v4 100000 bc td3bc iql rebrac
set -euo pipefail
cd "$(dirname "$0")/../.."
NAME=$1; ENV=$2; STEPS=$3; shift 3
ALGOS=${*:-bc td3bc iql rebrac}
STITCH=${STITCH:-.build/release/stitch}
[ -f "data/$NAME.hdf5" ] || $STITCH dataset make "$NAME" --size 1000000 --seed 0 -o "data/$NAME.hdf5"
FAMILY=${NAME%%-*}
for ALGO in $ALGOS; do
  # CORL's per-dataset settings (configs/offline/ALGO/ENV/KIND_v2.yaml, e.g. IQL on hopper-medium: deterministic
  # actor, normalized rewards, target rate 0.001; ReBRAC's penalties): `stitch train --preset`, CORLPresets.swift.
  EXTRA=(--preset "$NAME")
  echo "== $ALGO on $NAME: ${EXTRA[*]:-defaults}"
  $STITCH train --algo "$ALGO" --dataset "data/$NAME.hdf5" --env "$ENV" --steps "$STEPS" --seeds 0,1,2 \
    --eval-every $((STEPS / 10)) --eval-episodes 10 --checkpoint-every $((STEPS / 10)) --out "runs/table/$NAME/$ALGO" "${EXTRA[@]}"
done
