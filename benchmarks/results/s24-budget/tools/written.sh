#!/bin/bash
# written.sh ROOT TAG : writes s42>d13 and s12>d14, 60 frames, --no-label
cd $1
for pair in "s42 d13" "s12 d14"; do set -- $pair
  OMP_NUM_THREADS=1 PYTHONPATH=$PWD nice /work/main/.venv/bin/python -m realtime.cli run --input ../shared/media/$2.mp4 --source ../shared/media/$1.jpg -o /tmp/s24-budget/w_${TAG}_$1_$2.mp4 --no-label --max-frames 60 --quiet
done
