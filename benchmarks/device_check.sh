#!/usr/bin/env bash
# One prepared run on a lent GPU machine, everything in one go (device time is scarce):
#   1. what the machine is (nvidia-smi, CPUs) and which ONNX Runtime providers really load;
#   2. benchmarks.gpu_inference: stand-in models of the real ones' size on CPU and CUDA
#      (numpy I/O, IO binding, CUDA graph), the 720p pipeline with the neural swapper on each
#      device, and where LivePortrait's 5-D GridSample runs;
#   3. the embedded engine (MediaPipe + mesh swap, CPU only) on that machine's cores:
#      720p paced like a webcam, 720p as fast as possible, 1080p paced — absolute times that
#      mean something, unlike the shared 2-core development machine's.
# The wheels the GPU machine lacks travel first (../shared/tools/gpu/README.md); media travel in
# .gpu-media/ (../shared does not). Rehearse here on the CPU with:
#   OUT=/tmp/device-out MEDIA=../shared/media QUICK=1 bash benchmarks/device_check.sh
# Results land in $OUT; copy them to benchmarks/results/gpu/.
set -u
out=${OUT:-device-out}
media=${MEDIA:-.gpu-media}
py=${PYTHON:-python3}
quick=${QUICK:-0}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 QT_QPA_PLATFORM=offscreen
unset DISPLAY

step() {  # step NAME SECONDS COMMAND...: stdout/stderr to $out/NAME.{out,err}; a failure never stops the rest
    local name=$1 limit=$2
    shift 2
    local start=$SECONDS
    timeout "$limit" "$@" >"$out/$name.out" 2>"$out/$name.err"
    local rc=$?
    echo "== $name: rc=$rc in $((SECONDS - start)) s"
    tail -n 4 "$out/$name.err" | sed 's/^/   err: /'
}

{ nvidia-smi || echo "no nvidia-smi"; nproc; lscpu | grep -i "model name"; $py --version; } \
    >"$out/machine.txt" 2>&1
step providers 60 $py -c "
import onnxruntime as ort
if hasattr(ort, 'preload_dlls'):
    ort.preload_dlls()
print(ort.__version__, ort.get_available_providers())
import cv2, mediapipe, numpy, av
print('cv2', cv2.__version__, 'mediapipe', mediapipe.__version__, 'numpy', numpy.__version__, 'av', av.__version__)
"
cat "$out/providers.out"

if [ "$quick" = 1 ]; then
    gpu_args=(--quick)
    frames=60
else
    gpu_args=(--pipeline-frames 240 --cpu-pipeline-frames 20)
    frames=450
fi
step gpu_inference 300 $py -m benchmarks.gpu_inference --json "$out/gpu_inference.json" "${gpu_args[@]}"
cp "$out/gpu_inference.out" "$out/gpu_inference.md"

bench() {  # bench NAME SECONDS ARGS...: the embedded engine's latency benchmark
    local name=$1 limit=$2
    shift 2
    step "$name" "$limit" $py -m realtime.cli bench latency --source "$media/s9.jpg" \
        --max-frames "$frames" --results "$out" --name "$name" "$@"
}
bench embedded-720p-paced 150 --input "$media/d13.mp4" --paced
bench embedded-720p-max 150 --input "$media/d13.mp4" --max
bench embedded-1080p-paced 150 --input "$media/d9.mp4" --size 1920x1080 --paced
# The device returns only a few files: everything travels back in one archive.
archive=$(mktemp --suffix=.tar.gz)
tar czf "$archive" -C "$out" . && find "$out" -type f -delete && mv "$archive" "$out/device-results.tar.gz"
ls -la "$out"
