"""A turned painting's lips (s10, the Vermeer, worn mirrored): on the swap, the target's lower lip is
one lip, not a red rim round a pale blob, and its red stays on the lip (issue 13: the blind judge's
"reddish band round the lips" on d10; the same on d6 and d9)."""

import cv2
import numpy as np
import pytest

# The lower lip: outer points from corner to corner, then the inner ones back.
_LOWER_LIP = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291,
              308, 324, 318, 402, 317, 14, 87, 178, 88, 95, 78)
_UNDER = (146, 91, 181, 84, 17, 314, 405, 321, 375)


def _lip_zone(picture: np.ndarray, points: np.ndarray, size: float) -> tuple[float, float]:
    """(the lower lip's lightest tenth over its median lightness, in L levels; the lip's a*
    carried below it: a* in a strip 0.5-3% of the face under the lower lip over the lower lip's)."""
    lab = cv2.cvtColor(cv2.GaussianBlur(picture, (0, 0), 1.0), cv2.COLOR_BGR2LAB).astype(np.float32)
    lip = np.zeros(picture.shape[:2], np.uint8)
    cv2.fillPoly(lip, [np.round(points[list(_LOWER_LIP), :2]).astype(np.int32)], 1)
    light = lab[..., 0][lip > 0]
    blob = float(np.percentile(light, 95) - np.median(light))
    under = np.zeros_like(lip)
    for dy in np.linspace(0.005, 0.03, 6) * size:
        cv2.polylines(under, [np.round(points[list(_UNDER), :2] + (0, dy)).astype(np.int32)], False, 1, 2)
    under &= 1 - lip
    a = lab[..., 1] - 128
    return blob, float(np.median(a[under > 0]) / max(np.median(a[lip > 0]), 1.0))


@pytest.mark.parametrize("video, index", [("d6.mp4", 10), ("d9.mp4", 40)])
def test_a_turned_paintings_lower_lip_is_worn_as_one_lip_without_a_red_band(swap_one, video, index):
    picture, face, output = swap_one(video, index, "s10.jpg", moved=True)
    blob, band = _lip_zone(output, face.landmarks, face.size)
    camera_blob, camera_band = _lip_zone(picture, face.landmarks, face.size)
    print(f"{video}:{index} blob {blob:.1f} (camera {camera_blob:.1f}) band {band:.2f} (camera {camera_band:.2f})")
    # The lightest 5% of the lower lip over its median (L levels of 255). 1b1a36a: 46.4 on d6, 44.0 on
    # d9 (the painting's broad highlight, mirrored into the lip's middle: a pale blob in a red rim);
    # with it filled 24.0, 19.0; the camera's own lips 21.0, 11.0.
    assert blob < 30.0
    # The lip's red carried below the lip (a* there over the lip's): 1b1a36a 0.81, 0.77; 0.70, 0.68
    # with s32-denoise's texture (not merged); with the merged texture 0.75, 0.77; the camera 0.79,
    # 0.69. Guarded against getting redder below, not yet at the camera's on d9.
    assert band < 0.80
