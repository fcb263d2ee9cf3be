#!/usr/bin/env bash
# Bring both load generators' results back from the cluster as one calcbench run directory,
# for `calcbench report DIR`. Run it once both loadgen pods are Ready (their run is over).
#
#   k8s/fetch-results.sh [OUT_DIR]        (default: results/k8s-<UTC time>)
#
# Needs kubectl pointed at the cluster, and python3 >= 3.11 (PYTHON=... to choose another).
set -euo pipefail

out=${1:-results/k8s-$(date -u +%Y%m%dT%H%M%SZ)}
here=$(cd "$(dirname "$0")" && pwd)

if [[ -e "$out" ]]; then
  echo "error: $out already exists; give a new folder" >&2
  exit 1
fi
mkdir -p "$out/incoming"

for protocol in rest grpc; do
  namespace=$protocol-calculator
  pod=$(kubectl -n "$namespace" get pod -l app.kubernetes.io/name=loadgen \
    -o jsonpath='{.items[0].metadata.name}')
  if ! kubectl -n "$namespace" exec "$pod" -c loadgen -- test -e /results/done; then
    echo "error: the load generator in $namespace has not finished;" \
      "see kubectl -n $namespace logs $pod -c loadgen" >&2
    exit 1
  fi
  # kubectl cp needs tar in the container; python:3.11-slim has it.
  kubectl -n "$namespace" cp -c loadgen "$pod:/results/run" "$out/incoming/$protocol"
  kubectl -n "$namespace" get deployment -l app.kubernetes.io/component=calculator \
    -o jsonpath='{range .items[*]}{.metadata.name}={.spec.replicas}{"\n"}{end}' \
    >"$out/incoming/$protocol.replicas"
done

# assemble_run.py imports calcbench.core from this checkout, installed or not.
PYTHONPATH="$here/..${PYTHONPATH:+:$PYTHONPATH}" "${PYTHON:-python3}" "$here/assemble_run.py" "$out"
rm -rf "$out/incoming"
echo "run directory: $out"
echo "next: calcbench report $out"
