#!/usr/bin/env bash
# The load generator pod's program: wait for the five Services, run one measured load, keep
# the results in /results for `kubectl cp`, then idle until the pod is deleted. It must not
# exit: the Deployment would restart it and run the load again. Settings: loadgen-settings.
set -euo pipefail

readonly results=/results/run
readonly done_marker=/results/done # the readiness probe's signal that results are complete

# A ClusterIP Service without ready pods refuses connections, so a connection that opens means
# the service is up. (Under Linkerd the local proxy accepts at once; the warm-up covers that.)
wait_for() {
  local host=${1%:*} port=${1##*:}
  for _ in $(seq 1 "$WAIT_SECONDS"); do
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
      return 0
    fi
    sleep 1
  done
  echo "gave up after ${WAIT_SECONDS}s waiting for $1" >&2
  return 1
}

rm -rf "$results" "$done_marker"
for endpoint in "$ADDITION_ENDPOINT" "$SUBTRACTION_ENDPOINT" "$MULTIPLICATION_ENDPOINT" \
  "$DIVISION_ENDPOINT" "$PERCENTAGE_ENDPOINT"; do
  wait_for "$endpoint"
done

# LOAD_EXTRA_ARGS is split on spaces on purpose (e.g. "--channels 4" or "--no-keepalive").
# shellcheck disable=SC2086
if calcbench load --protocol "$LOAD_PROTOCOL" --balancing "$LOAD_BALANCING" \
  --rate "$LOAD_RATE" --duration "$LOAD_DURATION" --warmup "$LOAD_WARMUP" \
  --out "$results" $LOAD_EXTRA_ARGS; then
  touch "$done_marker"
  echo "results ready in $results: see k8s/README.md to fetch them"
else
  echo "calcbench load failed with exit code $?; anything it wrote is in $results" >&2
fi

trap 'exit 0' TERM
sleep infinity &
wait
