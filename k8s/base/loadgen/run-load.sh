#!/usr/bin/env bash
# The load generator pod's program: wait for the five Services, run one measured load, keep
# the results in $RESULTS_DIR for `kubectl cp`, then idle until the pod is deleted. It must not
# exit: the Deployment would restart it and run the load again. Settings: loadgen-settings.
set -euo pipefail

readonly SERVICES=(addition subtraction multiplication division percentage)
RESULTS_DIR=${RESULTS_DIR:-/results}

# The *_ENDPOINT variable of a service, e.g. ADDITION_ENDPOINT.
endpoint_of() {
  local variable="${1^^}_ENDPOINT"
  echo "${!variable}"
}

# A ClusterIP Service without ready pods refuses connections, so a connection that opens means
# the service is up. (Under Linkerd the local proxy accepts at once; the warm-up covers that.)
# `timeout` bounds a connect that hangs instead (a dropped SYN) to about a second a try.
wait_for() {
  local host=${1%:*} port=${1##*:}
  for _ in $(seq 1 "$WAIT_SECONDS"); do
    # shellcheck disable=SC2016 # $0 and $1 are the inner shell's arguments
    if timeout 1 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null; then
      return 0
    fi
    sleep 1
  done
  echo "gave up after ${WAIT_SECONDS}s waiting for $1" >&2
  return 1
}

# host:port -> every address the name resolves to, as ip:port,ip:port (sorted). For a
# headless Service that is one address per ready pod.
pod_addresses() {
  local host=${1%:*} port=${1##*:} ip _
  local -A found=()
  while read -r ip _; do
    [[ $ip == *:* ]] && ip="[$ip]"
    found["$ip:$port"]=1
  done < <(getent ahosts "$host" || true)
  if ((${#found[@]})); then
    printf '%s\n' "${!found[@]}" | sort | paste -sd, -
  fi
}

# In round-robin mode the generator spreads requests over the addresses it is given, so give
# it every pod's: resolve each endpoint once the answers have stopped changing for
# SETTLE_SECONDS (pods of one Deployment turn ready a few seconds apart).
expand_to_pods() {
  local previous="" current service stable=0
  for _ in $(seq 1 "$WAIT_SECONDS"); do
    current=""
    for service in "${SERVICES[@]}"; do
      current+="$service=$(pod_addresses "$(endpoint_of "$service")") "
    done
    if [[ $current == "$previous" ]]; then
      stable=$((stable + 1))
    else
      stable=0
    fi
    if ((stable >= SETTLE_SECONDS)); then
      for service in "${SERVICES[@]}"; do
        export "${service^^}_ENDPOINT=$(pod_addresses "$(endpoint_of "$service")")"
        echo "$service: $(endpoint_of "$service")"
      done
      return 0
    fi
    previous=$current
    sleep 1
  done
  echo "the pods' addresses did not settle within ${WAIT_SECONDS}s" >&2
  return 1
}

main() {
  local results="$RESULTS_DIR/run" done_marker="$RESULTS_DIR/done" service
  rm -rf "$results" "$done_marker"
  for service in "${SERVICES[@]}"; do
    wait_for "$(endpoint_of "$service")"
  done
  if [[ $LOAD_BALANCING == round-robin ]]; then
    expand_to_pods
  fi

  # LOAD_EXTRA_ARGS is split on spaces on purpose (e.g. "--channels 4" or "--no-keepalive").
  # shellcheck disable=SC2086
  if calcbench load --protocol "$LOAD_PROTOCOL" --balancing "$LOAD_BALANCING" \
    --rate "$LOAD_RATE" --duration "$LOAD_DURATION" --warmup "$LOAD_WARMUP" \
    --out "$results" $LOAD_EXTRA_ARGS; then
    touch "$done_marker" # the readiness probe's signal that the results are complete
    echo "results ready in $results: see k8s/README.md to fetch them"
  else
    echo "calcbench load failed with exit code $?; anything it wrote is in $results" >&2
  fi

  # Idle in a child so that the TERM trap runs at once (bash defers traps during a foreground
  # command), and stop that child too.
  sleep infinity &
  idler=$!
  trap 'kill "$idler"; exit 0' TERM
  wait
}

# Sourcing the file (as the tests do) defines the functions without running the load.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main
fi
