#!/bin/bash
# start vs branch, same sitting, one after the other
cd "$(dirname "$0")"
for tree in start branch; do
  root=/tmp/s22-relight/start; [ $tree = branch ] && root=/work/wt/s22-relight
  cd $root
  echo "$tree 8 pairs $(date -u +%T)"
  OMP_NUM_THREADS=1 PYTHONPATH=$root nice -n 5 /work/main/.venv/bin/python -m benchmarks.quality_swap --written --no-realism --sources s42.jpg s12.jpg --targets d3.mp4 d6.mp4 d10.mp4 d14.mp4 --frames 30 --identity-every 5 --json --out /tmp/s22-relight/wb_$tree --work /tmp/s22-relight/wbw_$tree > /tmp/s22-relight/written_$tree.json 2>/tmp/s22-relight/written_$tree.err
  echo "$tree s9 $(date -u +%T)"
  OMP_NUM_THREADS=1 PYTHONPATH=$root nice -n 5 /work/main/.venv/bin/python -m benchmarks.quality_swap --written --no-realism --sources s9.jpg --targets d3.mp4 d14.mp4 --frames 30 --identity-every 5 --json --out /tmp/s22-relight/wb9_$tree --work /tmp/s22-relight/wbw9_$tree > /tmp/s22-relight/written9_$tree.json 2>/tmp/s22-relight/written9_$tree.err
done
echo done $(date -u +%T)
