"""The new face's shadowed side under a hard side light (issue 13, benchmarks/results/s39-d20tone).

d20 (an old film, lit hard from the viewer's left) has its far jaw and cheek in deep shade: L* about
20 against 42 for its skin, and the film's shadows lose chroma (C* 15.7 against 21 on its lit cheek).
The edge membrane and the skin-tone map took only pixels within 0.7 / 0.6 of the skin's lightness as
the target's skin, so that side gave them no evidence and the new face took the lit side's light and
colour there: a soft, lighter, pinker edge along the shadowed jaw. Real frames of ../shared/media, real
source photos, MediaPipe, the real swapper and blend stage. The numbers in comments are main's before
this change (3c52bed).
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import realism


def _shadowed_jaw(landmarks: np.ndarray, shape) -> np.ndarray:
    """The oval's inner band (0.84-0.97 of it) below the mouth corners, on the side of the jaw away from the light
    (the viewer's right on d20), less the features."""
    band = realism.oval_mask(landmarks, shape, 0.97) & ~realism.oval_mask(landmarks, shape, 0.84) & \
        ~realism._features_mask(landmarks, shape, 0.02)
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]]
    return band & (ys > 0.5 * (landmarks[61, 1] + landmarks[291, 1])) & (xs >= landmarks[152, 0])


@pytest.mark.parametrize("source,index", [("s42.jpg", 20), ("s12.jpg", 40)])
def test_the_shadowed_jaw_under_a_hard_side_light_keeps_the_persons_shade(swap_one, source, index):
    # Main: s42 frame 20 +1.13 L*, +0.95 C*; s12 frame 40 +1.63 L*, +1.41 C* over the camera's shaded jaw
    # (branch: +0.30 / +0.67, +0.94 / +0.66).
    target, face, output = swap_one("d20.mp4", index, source)
    jaw = _shadowed_jaw(face.landmarks, target.shape)
    assert jaw.sum() > 200
    theirs, ours = realism.lab(target)[jaw].mean(axis=0), realism.lab(output)[jaw].mean(axis=0)
    assert theirs[0] < 25  # the shade: the skin's mean is about 42
    lighter = float(ours[0] - theirs[0])
    chroma = float(np.hypot(ours[1], ours[2]) - np.hypot(theirs[1], theirs[2]))
    assert lighter < 1.25, (lighter, chroma)
    assert chroma < 0.85, (lighter, chroma)
