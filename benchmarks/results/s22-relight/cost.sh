#!/bin/bash
# interleaved: start, fix everywhere (1fe2c7c), eyes and brows only (024ad47); 3 rounds
for r in 1 2 3; do for tree in start fix eyes; do
  root=/tmp/s22-relight/$tree
  cd $root; echo "$tree $(OMP_NUM_THREADS=1 PYTHONPATH=$root /work/main/.venv/bin/python /tmp/s22-relight/cost.py 2>/dev/null | tail -1)"
done; done
