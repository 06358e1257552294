"""facecam's CLI with one pipeline step switched off (env ABLATE), for the identity ablation (ablate.py).

Diagnostic only: each switch replaces one function of the engine in this process before the run."""
import os
import sys

variant = os.environ.get("ABLATE", "")
if variant == "eyes_off":
    import realtime.swap.mesh as mesh
    mesh.eye_zones = lambda *a, **k: (None, None)
elif variant == "brows_off":
    import realtime.blend.stage as stage
    stage.erase_brows = lambda *a, **k: None
elif variant == "mouth_off":
    import realtime.blend.stage as stage
    stage.mouth_membrane = lambda image, *a, **k: image
elif variant == "fill_off":
    import realtime.blend.detail as detail
    detail.crossover_fill = lambda *a, **k: 0.0
elif variant == "gain_off":
    import realtime.blend.stage as stage
    stage.source_detail_gain = lambda *a, **k: 1.0
elif variant.startswith("limit_"):
    import realtime.blend.detail as detail
    detail.DETAIL_LIMIT = int(variant.split("_")[1])
elif variant == "noise_grain":
    # Diagnostic: the camera's fine band replaced by white noise of the same level (no structure).
    import cv2
    import numpy as np

    import realtime.blend.detail as detail
    import realtime.blend.stage as stage
    original = detail.camera_detail
    rng = np.random.default_rng(0)

    def noise_detail(image, target, scale, strength=1.0, weight=None, keep=None, skin=None, image_low=None):
        sigma = detail.split_sigma(scale)
        t = target.astype(np.float32)
        low = cv2.GaussianBlur(t, (0, 0), sigma)
        band = np.clip(t - low, -detail.DETAIL_LIMIT, detail.DETAIL_LIMIT)
        noise = rng.standard_normal(t.shape).astype(np.float32)
        noise -= cv2.GaussianBlur(noise, (0, 0), sigma)
        noise *= float(band.std()) / max(float(noise.std()), 1e-6)
        fake = np.clip(low + noise, 0, 255).astype(np.uint8)
        return original(image, fake, scale, strength, weight, keep, skin, image_low)
    stage.camera_detail = noise_detail
elif variant == "spread_off":
    # Diagnostic: the colour transfer matches the means only; the source keeps its own spread (contrast).
    import realtime.blend.color as color
    matrix_of = color.transfer_matrix
    color.transfer_matrix = lambda source, target, strength: matrix_of(source, (target[0], source[1]), strength)

from realtime.cli import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
