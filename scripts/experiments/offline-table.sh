#!/usr/bin/env bash
# The offline results table of docs/results.md: BC, TD3+BC, IQL, ReBRAC (and CQL as far as time allows) on a
# dataset made by `stitch dataset make`, 3 seeds each, with CORL's per-dataset settings where it has them.
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
  EXTRA=()
  case "$ALGO-$NAME" in
    # CORL configs/offline/iql/hopper/medium_v2.yaml and medium_replay_v2.yaml: deterministic actor, normalized
    # rewards, target rate 0.001.
    iql-hopper-medium|iql-hopper-medium-replay) EXTRA=(--set deterministic_actor=true --set target_update_rate=0.001 --normalize-rewards) ;;
    # CORL configs/offline/iql/hopper/medium_expert_v2.yaml: beta 6.0, iql_tau 0.5 (FACTS.md §2e).
    iql-hopper-medium-expert) EXTRA=(--set temperature=6 --set expectile=0.5) ;;
    # CORL ReBRAC per-dataset (actor_bc, critic_bc), FACTS.md §2e.
    rebrac-hopper-medium) EXTRA=(--set actor_penalty=0.01 --set critic_penalty=0.01) ;;
    rebrac-hopper-medium-replay) EXTRA=(--set actor_penalty=0.05 --set critic_penalty=0.5) ;;
    rebrac-halfcheetah-medium) EXTRA=(--set actor_penalty=0.001 --set critic_penalty=0.01) ;;
    cql-hopper-medium) EXTRA=(--normalize-rewards) ;;
  esac
  [ "$ALGO" = iql ] && EXTRA+=(--set actor_schedule_steps=$STEPS)
  echo "== $ALGO on $NAME: ${EXTRA[*]:-defaults}"
  $STITCH train --algo "$ALGO" --dataset "data/$NAME.hdf5" --env "$ENV" --steps "$STEPS" --seeds 0,1,2 \
    --eval-every $((STEPS / 10)) --eval-episodes 10 --checkpoint-every $((STEPS / 4)) --out "runs/table/$NAME/$ALGO" "${EXTRA[@]}"
done
