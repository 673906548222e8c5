#!/usr/bin/env bash
# Build the CPU image and smoke-run it: `facebench models verify` and a one-fold LFW benchmark
# inside the container, with the shared models and data mounted read-only at /data. Prints the
# build time, the image size and the smoke-run time (record them in docs/BENCHMARKS.md).
#
#   usage: docker/test.sh [SHARED]     # SHARED defaults to ../shared (the folder with models/, data/)
#
# Uses podman when present (on machines that reach no registry, first run
# ../shared/tools/container-base.sh, which builds the local debian:bookworm base), else docker.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=$(cd "${1:-../shared}" && pwd)
image=${FACEBENCH_IMAGE:-facebench:test}

if command -v podman >/dev/null; then
  engine=podman
  if [ -x "$shared/tools/container-base.sh" ]; then eval "$("$shared/tools/container-base.sh")"; fi
  build=(podman build --pull=never --network host)
  run=(podman run --rm --network none)
else
  engine=docker
  build=(docker build)
  run=(docker run --rm --network none)
fi

echo "== building $image with $engine"
start=$(date +%s)
"${build[@]}" -t "$image" .
build_s=$(( $(date +%s) - start ))
size=$("$engine" image inspect "$image" --format '{{.Size}}')

echo "== smoke run"
out=$(mktemp -d)
chmod 777 "$out"
start=$(date +%s.%N)
"${run[@]}" -v "$shared:/data:ro" "$image" models verify
"${run[@]}" -v "$shared:/data:ro" -v "$out:/runs" -e FACEBENCH_THREADS=2 "$image" \
  benchmark --folds 1 --detectors yunet --recognizers mobilefacenet_tflite --out /runs/benchmark
smoke_s=$(echo "$(date +%s.%N) - $start" | bc)
test -s "$out/benchmark/results.json" && test -s "$out/benchmark/report.html"
python3 - "$out/benchmark/results.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))["runs"][0]
print(f"in the container: {run['pipeline']} accuracy {100 * run['accuracy_mean']:.2f} % on {run['pairs']} pairs")
PY
rm -rf "$out"
printf 'image %s: build %d s, size %.0f MB, smoke run (models verify + one-fold benchmark) %.1f s\n' \
  "$image" "$build_s" "$(echo "$size / 1000000" | bc -l)" "$smoke_s"
