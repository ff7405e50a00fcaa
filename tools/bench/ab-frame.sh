#!/bin/bash
# A/B of two builds of step 1, stage by stage: alternating cold runs of `process-frame --timings` on one raw, each
# pinned to one core, then the mean and the minimum of every stage's wall time per build. The machine is shared and
# noisy: alternating the builds in one run is what makes their figures comparable (docs/benchmarks.md, issue 4).
#
#   tools/bench/ab-frame.sh N "COMMAND A" "COMMAND B" DIR VISIT [BAND] [CORE]
#
# COMMAND is anything that takes process-frame's options, e.g. "/tmp/a/drp-frame", "env X=1 /tmp/b/drp-frame" or
# "dotnet tools/Drp.Cli/bin/Release/net10.0/drp.dll". DIR holds what `drp bench sextractor --work DIR` made
# (raw/visit_VISIT_det_0.fits, calib/{bias,flat_BAND,defects}_det_0.fits, refcat.csv).
set -euo pipefail
n=$1; a=$2; b=$3; dir=$4; visit=$5; band=${6:-g}; core=${7:-1}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for i in $(seq "$n"); do
  for which in A B; do
    cmd=$a; [ "$which" = B ] && cmd=$b
    rm -rf "$out/frame"
    # shellcheck disable=SC2086 # COMMAND is meant to split into words
    taskset -c "$core" $cmd process-frame --raw "$dir/raw/visit_${visit}_det_0.fits" --bias "$dir/calib/bias_det_0.fits" \
      --flat "$dir/calib/flat_${band}_det_0.fits" --defects "$dir/calib/defects_det_0.fits" --refcat "$dir/refcat.csv" \
      --out "$out/frame" --timings 2>&1 | grep '^timing' | sed "s/^/$which /"
  done
done | python3 -c '
import collections, re, sys
times, names = collections.defaultdict(list), []
for line in sys.stdin:
    m = re.match(r"(A|B) timing (.+?)\s{2,}([0-9.]+) s", line)
    if not m:
        continue
    build, name, seconds = m.group(1), m.group(2).strip(), float(m.group(3))
    if name not in names:
        names.append(name)
    times[(name, build)].append(seconds)
print("%-38s %8s %8s %8s %8s" % ("stage (s)", "A mean", "B mean", "A min", "B min"))
for name in names:
    a, b = times[(name, "A")], times[(name, "B")]
    if a and b:
        print(f"{name:38s} {sum(a)/len(a):8.3f} {sum(b)/len(b):8.3f} {min(a):8.3f} {min(b):8.3f}")
'
