#!/bin/bash
# interleaved swap_parts: main vs branch, 3 rounds, two pairs
cd /work/wt/s25-budget
for r in 1 2 3; do for p in "d13 s42" "d3 s9"; do set -- $p; for c in /work/main /work/wt/s25-budget; do
  echo "round $r $1+$2 $c"; OMP_NUM_THREADS=1 /work/main/.venv/bin/python benchmarks/swap_parts.py $c --input ../shared/media/$1.mp4 --source ../shared/media/$2.jpg 2>&1 | grep -v W0000
done; done; done
