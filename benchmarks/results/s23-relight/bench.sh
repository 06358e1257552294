#!/bin/bash
# usage: bench.sh <tag> <root>
tag=$1; root=$2
cd $root
echo "$tag start $(date -u +%T)"
OMP_NUM_THREADS=1 PYTHONPATH=$root nice -n 5 /work/main/.venv/bin/python -m benchmarks.quality_swap --written --no-realism --sources s42.jpg s12.jpg s9.jpg --targets d3.mp4 d6.mp4 d10.mp4 d14.mp4 --frames 30 --identity-every 5 --json --out /tmp/s23-relight/wb_$tag --work /tmp/s23-relight/wbw_$tag > /tmp/s23-relight/written_$tag.json 2>/tmp/s23-relight/written_$tag.err
echo "$tag done $(date -u +%T)"
