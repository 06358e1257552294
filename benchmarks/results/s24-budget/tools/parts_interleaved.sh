#!/bin/bash
# 3 rounds, main vs branch interleaved, two pairs
cd /work/wt/s24-budget
for round in 1 2 3; do
  for pair in "d13 s42" "d14 s12"; do set -- $pair
    for co in /work/main /work/wt/s24-budget; do
      echo "ROUND $round $1+$2 $co"
      OMP_NUM_THREADS=1 /work/main/.venv/bin/python benchmarks/swap_parts.py $co --input ../shared/media/$1.mp4 --source ../shared/media/$2.jpg --frames 30 2>/dev/null | grep '^{'
    done
  done
done
