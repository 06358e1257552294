#!/bin/bash
# written quality: main then 9dcbb79 ("half"), 4 pairs (s42, s9 x d13, d3), 30 frames
set -x
cd /work/wt/s25-budget && OMP_NUM_THREADS=1 PYTHONPATH=$PWD nice /work/main/.venv/bin/python -m benchmarks.quality_swap --written --sources s42.jpg s9.jpg --targets d13.mp4 d3.mp4 --frames 30 --identity-every 10 --json --media /work/shared/media --out /tmp/s25-budget/wq_main --work /tmp/s25-budget/wqw_main
cd /tmp/s25-budget/half && OMP_NUM_THREADS=1 PYTHONPATH=$PWD nice /work/main/.venv/bin/python -m benchmarks.quality_swap --written --sources s42.jpg s9.jpg --targets d13.mp4 d3.mp4 --frames 30 --identity-every 10 --json --media /work/shared/media --out /tmp/s25-budget/wq_half --work /tmp/s25-budget/wqw_half
