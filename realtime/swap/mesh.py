"""The embedded swapper: the source photo's face warped onto each target face's mesh.

No model, no download: MediaPipe's 468-point mesh gives the same topology on both faces, so the
source texture is carried triangle by triangle onto the target geometry (one dense remap over the
face box, triangles drawn back to front), and the target keeps its own eyes and mouth interior
through the mesh's holes (the mask cuts them out). A source photo turned sideways lends its near
half, mirrored, to its foreshortened far half. Colour, light and compositing happen in the blend
stage.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from realtime.blend import relight
from realtime.blend.composite import shrink
from realtime.blend.detail import source_fine_detail
from realtime.blend.kept import union as _union
from realtime.blend.mask import edge_off_skin, face_mask
from realtime.faces.brows import brow_band_to_source, brow_gaps
from realtime.faces.occluders import HandOccluder, glasses_mask, hair_mask
from realtime.faces.source import SourceFace
from realtime.faces.topology import MESH_POINTS, topology
from realtime.faces.tracking import box_of
from realtime.faces.warp import piecewise_affine_maps_from
from realtime.frame import Face, FaceLayer, Frame
from realtime.settings import Settings
from realtime.swap.eyes import (
    even_eyes,
    eye_zones,
    fade_lids,
    lash_lift,
    lighten_lashes,
    open_states,
    plain_amounts,
    plain_lids,
)
from realtime.swap.shape import ShapeTransfer, Warp, plan, warp
from realtime.swap.texture import (
    _MOUSTACHE_REACH,
    _NOSTRILS,
    HAIR_GROW,
    NORMAL_STEP,
    CleanTexture,
    _mirror,
    clean_texture_of,
    moustache_hair,
)

log = logging.getLogger(__name__)

# A source face turned further than this has a foreshortened far half: a few pixels would be
# stretched over a whole cheek. That half is then taken from the mirror image of the near half.
MIRROR_YAW_DEG = 20.0
# The target's light is refitted every this many frames of a face (smoothed in between).
LIGHT_EVERY = 3
# MediaPipe Hands runs on every this many frames: with no hand in view its palm detector runs
# each time, about 20 ms of CPU on a 720p frame (light model); with a hand tracked, about 7 ms.
HAND_EVERY = 5
# The relighting gain is computed at 1/_LIGHT_STEP resolution: light varies slowly.
_LIGHT_STEP = 4
# A still head: the warp maps, the warped texture, its relighting and the face mask are kept from
# frame to frame while every landmark stays within REUSE_PX (x, y, z: an eighth of a pixel) of
# where it was when they were made (compared with that frame, not the previous one, so a slow
# drift cannot add up), the face box and the source are the same, and the target's fitted light
# moved by less than LIGHT_REUSE grey levels. They are pure functions of those inputs, so an
# eighth of a pixel is the only difference a viewer could get; what reads the frame itself
# (colour transfer, glasses, hands, grain) still runs on every frame. A moving head (d13: 1.4-7 px
# per frame), a scene cut or a change of light recomputes them at once.
REUSE_PX = 0.125
LIGHT_REUSE = 0.25
# Under a strong directional light the target's light is put back at the normals the photo's own
# was taken out at (texture.light_normals, smoothed over 3-6% of the face), under a weak one at
# the mesh's raw normals; in between, a blend. The raw normals turn by most of a right angle
# within a few pixels at the lids, the brow ridge, the nostrils and the lip rims, so a strong
# light from above (d3) drew thin dark bands in the worn sockets and under the nose and lip, on
# top of the photo's own shade at that scale (which the de-lighting leaves in): a hollow-eyed
# look (s42 on d3, dlib distance 0.517 -> 0.473 written, s22-relight). Under a weak light the
# bands are a level or two and the smoothing bought nothing a viewer sees, while s9 (a painting)
# on d14 read 0.015 further from s9 with it. The strength: the light's side and top terms
# (in the picture's plane) over its even light, in luminance; d3 0.60, d20 1.3, d13 0.34, d6 and
# d9 0.23, d14 0.18, d10 0.1 (relight_weight).
LIGHT_SMOOTH_FROM, LIGHT_SMOOTH_FULL = 0.3, 0.5
_LUMA = np.array([0.114, 0.587, 0.299], np.float32)  # B, G, R
# A face on which the glasses search found no frames is searched again only every this many
# frames (as long as it finds none): the search costs 1.5-2 ms per face, and on the test videos
# a face either wears glasses in every frame (d9, d13) or in none (d3, d6, d10, d14, d20). Glasses
# put on are found within GLASSES_RECHECK frames; a face with glasses is searched every frame.
GLASSES_RECHECK = 4
# The target's hair over the oval and what is not skin in the mask's feathered band (blend/mask.py
# edge_off_skin) are measured on every this many frames of a face and carried in between, moved
# with the face (the landmarks' mean shift): hair moves with the head, and both masks are soft
# (blurred over several pixels), so a shift is all that changes between measurements. Measured
# afresh at once when the face did more than move (turned, nodded, came nearer: a landmark off
# the shifted ones by more than OCCLUDERS_REUSE face sizes; of the oval, eyes and brows: a blink
# too), for a new face or new settings. Both cost 2 ms per 720p face together (issue 13's
# budget); hair coming in over the face or a light change is followed within OCCLUDERS_EVERY
# frames (tests/test_swap_occluders_reuse.py).
OCCLUDERS_EVERY = 3
OCCLUDERS_REUSE = 0.004
# The target's glasses frames found on a frame are kept for the next ones while the camera's
# pixels under them stay as they were (_Glasses): the search costs ~2 ms per 720p face with
# glasses (issue 13's budget), and a frame sits still on the face, which moves a fraction of a
# pixel per frame in a talking head (d9, d13: 0.25-0.5 px; MediaPipe's eye and brow points jitter
# by about 1 px per frame, so they cannot tell, the rims' own pixels can). Searched again at
# once when the grey level at the frames' pixels moved by more than GLASSES_STILL on average
# from where it was when they were found (a 1-pixel shift of the rims: 11.7-13 levels; the
# next frame of d9 / d13 unmoved: 3.2 / 4.2 typical), and at least every GLASSES_EVERY frames
# (tests/test_swap_glasses_reuse.py: a head move, a light change).
GLASSES_EVERY = 3
GLASSES_STILL = 6.0
# Beyond this even the near half is seen at a slant: say so.
PROFILE_YAW_DEG = 45.0
# A face larger than this (box diagonal, pixels) is rendered at a working resolution where it is
# this large, and enlarged only in the blend stage's final composite: a face filling a 1080p
# frame then costs less than half as much (it ran at 3 FPS live). The source texture has no more
# detail than this to give (the sources seen are 140-650 px), and the camera's own grain is put
# back at full resolution in the blend (realtime/blend/stage.py). At the bound the working size is the
# full size: a face growing past it changes nothing at once.
WORK_FACE_PX = 640.0
# Below that bound, a face larger than SOURCE_DETAIL times the source's own face (and than
# WORK_FLOOR_PX) is rendered at that size too (work_face_px): the warped texture has no detail
# beyond its photo's (s42's face is 339 px, s12's 209: on d13's 609-px face the texture is
# enlarged 1.8-2.9x), so every part of the render (warp, relight, masks, colour) works on up to
# half the pixels for the same picture: on d13 (440 px with s42, 400 with s12, instead of 609)
# 42.0 / 41.9 dB median over the face box against main, 39.3 at worst, sharpness 1.00; swap p50
# 10.3 -> 8.6 ms (benchmarks/results/s20-budget/). The target's glasses frames, thin lines of
# the camera's, are still found and cut out at full resolution (FaceLayer.glasses): found on the
# working picture they came back as pale patches (and as dark specks on a huge face).
SOURCE_DETAIL = 1.3
WORK_FLOOR_PX = 400.0
# (The working scale follows the face's size on every frame. Held while within 3% of it, so that
# the working picture's masks could be reused as at full size, it made the output's landmarks
# jitter more: d13 with s42, in-process, 0.00813 against 0.00727 unheld and 0.00771 on main.)


def _mouth_grain(unmoved: np.ndarray, moved: np.ndarray, landmarks: np.ndarray, before: np.ndarray,
                 box: tuple[int, int, int, int]) -> np.ndarray:
    """The camera's grain for a face the shape transfer moved: its unmoved pixels (`unmoved`, over
    `box`), but over the mouth (at its moved and unmoved places, `landmarks` and `before`) the moved
    picture's. The blend stage takes the finest band from this picture under the whole face, and
    the target's own lip line and cupid's bow are in that band: from the unmoved pixels they came
    back 2-4 px from the moved lips, a faint second lip line that made MediaPipe's mouth points on
    the output jitter (s9 -> d9, in-process: 2.3x the mouth's jitter at face_shape 0, the whole
    face's +48% over the input's against +22%; benchmarks/results/s20-jitter). The moved picture
    keeps its grain there: the mouth's box is resampled bicubic (realtime/swap/shape.py, warp)."""
    lips = topology().outer_lips
    points = np.concatenate([landmarks[lips, :2], before[lips, :2]])
    (px0, py0), (px1, py1) = points.min(axis=0), points.max(axis=0)
    grow = 0.25 * max(px1 - px0, py1 - py0)  # as the mouth's bicubic box (shape.py, _hole_boxes)
    x0, y0, x1, y1 = box
    mx0, my0 = max(0, int(px0 - grow) - x0), max(0, int(py0 - grow) - y0)
    mx1, my1 = min(x1 - x0, int(np.ceil(px1 + grow)) - x0), min(y1 - y0, int(np.ceil(py1 + grow)) - y0)
    if mx1 <= mx0 or my1 <= my0 or moved.shape != unmoved.shape:
        return unmoved
    # A soft box (the two pictures' grain differs by a shift of a few pixels: no seam), worked on
    # the mouth's box and 4 sigmas around it only (beyond, the weight is under 1e-4: the unmoved
    # picture's pixels as they are) rather than the whole face box.
    sigma = max(1.0, 0.1 * grow)
    margin = int(np.ceil(4 * sigma))
    height, width = unmoved.shape[:2]
    rx0, ry0, rx1, ry1 = max(0, mx0 - margin), max(0, my0 - margin), min(width, mx1 + margin), min(height, my1 + margin)
    weight = np.zeros((ry1 - ry0, rx1 - rx0), np.float32)
    weight[my0 - ry0:my1 - ry0, mx0 - rx0:mx1 - rx0] = 1.0
    weight = cv2.GaussianBlur(weight, (0, 0), sigma)
    grain = unmoved.copy()
    grain[ry0:ry1, rx0:rx1] = cv2.blendLinear(moved[ry0:ry1, rx0:rx1], unmoved[ry0:ry1, rx0:rx1], weight, 1.0 - weight)
    return grain


def work_face_px(source_face_px: float) -> float:
    """The size (box diagonal, pixels) a face larger than it is rendered at, for a source whose
    face is `source_face_px` large (0: unknown)."""
    if source_face_px <= 0:
        return WORK_FACE_PX
    return min(WORK_FACE_PX, max(WORK_FLOOR_PX, SOURCE_DETAIL * source_face_px))
# The shape transfer puts the target's glasses frames back unmoved wherever glasses_mask keeps
# more than this of a pixel (realtime/swap/mesh.py, _glasses_unmoved).
RESTORE_FROM = 0.02

MIRROR = np.array([
    0, 1, 2, 248, 4, 5, 6, 249, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 250, 251, 252,
    253, 254, 255, 256, 257, 258, 259, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 270,
    271, 272, 273, 274, 275, 276, 277, 278, 279, 280, 281, 282, 283, 284, 285, 286, 287, 288,
    289, 290, 291, 292, 293, 294, 295, 296, 297, 298, 299, 300, 301, 302, 303, 304, 305, 306,
    307, 308, 309, 310, 311, 312, 313, 314, 315, 316, 317, 318, 319, 320, 321, 322, 323, 94,
    324, 325, 326, 327, 328, 329, 330, 331, 332, 333, 334, 335, 336, 337, 338, 339, 340, 341,
    342, 343, 344, 345, 346, 347, 348, 349, 350, 351, 352, 353, 354, 355, 356, 357, 358, 359,
    360, 361, 362, 363, 364, 365, 366, 367, 368, 369, 370, 371, 372, 373, 374, 375, 376, 377,
    378, 379, 151, 152, 380, 381, 382, 383, 384, 385, 386, 387, 388, 389, 390, 164, 391, 392,
    393, 168, 394, 395, 396, 397, 398, 399, 175, 400, 401, 402, 403, 404, 405, 406, 407, 408,
    409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 195, 419, 197, 420, 199, 200, 421, 422,
    423, 424, 425, 426, 427, 428, 429, 430, 431, 432, 433, 434, 435, 436, 437, 438, 439, 440,
    441, 442, 443, 444, 445, 446, 447, 448, 449, 450, 451, 452, 453, 454, 455, 456, 457, 458,
    459, 460, 461, 462, 463, 464, 465, 466, 467, 3, 7, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
    30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52,
    53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75,
    76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 95, 96, 97, 98, 99,
    100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117,
    118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134, 135,
    136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 153, 154, 155,
    156, 157, 158, 159, 160, 161, 162, 163, 165, 166, 167, 169, 170, 171, 172, 173, 174, 176,
    177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194,
    196, 198, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214, 215, 216,
    217, 218, 219, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234,
    235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247
], dtype=np.int32)
"""MIRROR[i]: the mesh point that is point i's mirror image across the face's midline (an
involution; the 28 midline points map to themselves). Derived once from four frontal faces
(face-frame coordinates, x -> -x, optimal assignment)."""


def profile_warning(source: SourceFace) -> str | None:
    """A sentence for the user when the source face is turned too far to wear well, else None."""
    yaw = source.face.pose[0]
    if abs(yaw) <= PROFILE_YAW_DEG:
        return None
    side = "right" if yaw > 0 else "left"
    return (f"the face in {source.name} is turned {abs(yaw):.0f}° to the {side} (more than "
            f"{PROFILE_YAW_DEG:.0f}°): its far half is mirrored from the near half and will look "
            "slanted; a photo facing the camera works best")


_MIDLINE = np.flatnonzero(np.arange(MESH_POINTS) == MIRROR)


def _midline_side(points: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Signed distance (pixels) of the points `at` from the face's midline, the straight line
    x = a*y + b through the mesh points that are their own mirror image."""
    a, b = np.polyfit(points[_MIDLINE, 1], points[_MIDLINE, 0], 1)
    return (at[..., 0] - (a * at[..., 1] + b)) / np.hypot(1.0, a)


@dataclass(frozen=True)
class _Texture:
    """The source prepared once per photo. For a turned face also its mirror image: the flipped
    picture, where each mesh point sits where its mirror partner's mirror image is, and which
    triangles (the far half) should come from it."""

    image: np.ndarray
    points: np.ndarray
    normals: np.ndarray | None = None
    """Normal map (face frame) at 1/NORMAL_STEP of `image`, for relighting; None: not relit."""
    face_size: float = 0.0
    flipped: np.ndarray | None = None
    flipped_points: np.ndarray | None = None
    far_triangles: np.ndarray | None = None
    moustache: bool = False
    """The face has a moustache (faces/brows.has_moustache), handed on with each layer."""
    light_normals: np.ndarray | None = None
    """The same smoothed as the photo's light was taken out at (CleanTexture.light_normals)."""
    hair: np.ndarray | None = None
    """float32 over `image`: its moustache's hair (texture.moustache_hair), drawn sharper (_draw_hair)."""
    fine_detail: float = 0.0
    """How strong the picture's own fine detail is over the skin (detail.source_fine_detail),
    handed on with each layer (FaceLayer.source_detail)."""
    brow_gaps: np.ndarray = field(default_factory=lambda: np.zeros(2))
    """Its brow-to-lid bands' heights (faces/brows.brow_gaps), each eye's the lower of the picture's
    and the mirror image's (the far eye is drawn from the near one's mirror image), for a mirrored
    face only; 0 (a face worn as it is): the target's bands are kept. Not for those: on d6, s9's
    distance to the photo rose +0.010 and s12's +0.0044 with their bands lowered too, s42's
    +0.0008, where s10's fell -0.009 (written, benchmarks/results/s31-brows)."""


def source_texture(source: SourceFace, triangles: np.ndarray, clean: CleanTexture | None = None) -> _Texture:
    """The picture the swapper samples: the clean texture when given, else the raw photo."""
    light_normals = None
    if clean is not None:
        image, points, normals = clean.image, clean.points, clean.normals
        face_size, moustache, light_normals = clean.face_size, clean.moustache, clean.light_normals
    else:
        from realtime.faces.brows import has_moustache

        image, points, normals = source.image, source.face.landmarks[:MESH_POINTS, :2].astype(np.float32), None
        face_size = source.face.size
        moustache = has_moustache(image, points, face_size)
    hair = None
    if moustache and clean is not None:
        hair = moustache_hair(image, clean.landmarks, face_size)
        hair = hair if float(hair.max()) > 0.0 else None
    fine_detail = source_fine_detail(image, points, face_size)
    if abs(source.face.pose[0]) <= MIRROR_YAW_DEG:
        # Its two upper rims the same distance from their contours, its lids alike (swap/eyes.py).
        image, points = even_eyes(image, points, functools.partial(_mirror, grid_step=1))
        return _Texture(image, points, normals, face_size, moustache=moustache, light_normals=light_normals,
                        hair=hair, fine_detail=fine_detail)
    width = image.shape[1]
    flipped_points = points[MIRROR].copy()
    flipped_points[:, 0] = width - 1 - flipped_points[:, 0]
    # The far half is the half with less area in the picture (the foreshortened one).
    side = np.sign(_midline_side(points, points[triangles].mean(axis=1)))
    corners = points[triangles]
    area = 0.5 * np.abs(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]))
    far = -1.0 if area[side < 0].sum() < area[side > 0].sum() else 1.0
    return _Texture(image, points, normals, face_size, cv2.flip(image, 1), flipped_points, side == far, moustache,
                    light_normals, hair, fine_detail, np.minimum(brow_gaps(points), brow_gaps(flipped_points)))


# A moustache's hair is drawn through the maps with a bicubic kernel (the rest of the face bilinear):
# s12's strands are 1-2 photo pixels, enlarged 1.9-2.9x onto the targets. A bilinear enlargement
# kept 0.79 of the strands' band (the photo's band below 1 photo pixel, against the photo resampled
# with Lanczos over the upper lip, s12 on d9 frame 20), bicubic 0.96; the rest of the chain (relight,
# colour, camera detail, encoder) took it to 0.55 on the written file: "a blurry smeared moustache
# with no hair detail" (issue 13, benchmarks/results/s30-moustache).
def _draw_hair(patch: np.ndarray, maps, image: np.ndarray, hair: np.ndarray, target: np.ndarray,
               origin: tuple[int, int]) -> None:
    """`patch` (maps.remap(image), bilinear) with the hair (`hair`, a weight over `image`) drawn
    bicubic, in place, over the box around the mouth (`target`: the landmarks, `origin`: the box's
    top-left in their pixels) where a moustache can be."""
    points = target[:MESH_POINTS, :2]
    size = float(np.hypot(*(points.max(axis=0) - points.min(axis=0))))
    around = target[list(_NOSTRILS) + list(topology().outer_lips), :2] - np.array(origin, np.float32)
    pad = (_MOUSTACHE_REACH + 3 * HAIR_GROW) * size + 2
    xa, ya = np.maximum(np.floor(around.min(axis=0) - pad).astype(int), 0)
    xb, yb = np.ceil(around.max(axis=0) + pad).astype(int)
    xb, yb = min(patch.shape[1], int(xb)), min(patch.shape[0], int(yb))
    if xb - xa < 2 or yb - ya < 2:
        return
    map_x, map_y = maps.map_x[ya:yb, xa:xb], maps.map_y[ya:yb, xa:xb]
    weight = cv2.remap(hair, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if float(weight.max()) <= 1e-3:
        return
    sharp = cv2.remap(image, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT101)
    patch[ya:yb, xa:xb] = cv2.blendLinear(sharp, patch[ya:yb, xa:xb], weight, 1.0 - weight)


def _sampler(maps):
    """Draws a picture through `maps` over a part (x0, y0, x1, y1) of their box."""
    def sample(image: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
        return cv2.remap(image, maps.map_x[y0:y1, x0:x1], maps.map_y[y0:y1, x0:x1], cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT101)
    return sample


def far_half_weight(target: np.ndarray, far_triangles: np.ndarray, triangles: np.ndarray, box,
                    face_size: float) -> np.ndarray:
    """(h, w) float32 over `box`: 1 on the target's half that gets the mirrored texture, 0 on
    the other, with a soft band along the midline so the two textures meet without a seam."""
    x0, y0, x1, y1 = box
    far_sign = np.sign(np.median(_midline_side(target, target[triangles[far_triangles]].mean(axis=1))))
    xs, ys = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
    distance = _midline_side(target, np.stack([xs, ys], axis=-1)) * far_sign
    band = max(0.04 * face_size, 2.0)
    return np.clip(0.5 + distance / band, 0.0, 1.0).astype(np.float32)


def _within(glasses: tuple | None, box) -> tuple[np.ndarray, tuple[int, int]] | None:
    """Glasses found in frame coordinates, (keep, (x, y)), as glasses_mask gives them over `box`."""
    if glasses is None:
        return None
    keep, (fx, fy) = glasses
    x0, y0, x1, y1 = box
    ax, ay = max(fx, x0), max(fy, y0)
    bx, by = min(fx + keep.shape[1], x1), min(fy + keep.shape[0], y1)
    if bx <= ax or by <= ay:
        return None
    return keep[ay - fy:by - fy, ax - fx:bx - fx], (ax - x0, ay - y0)


def relight_weight(coeffs: np.ndarray) -> float:
    """0-1: how much of the target's light is put back at the smoothed normals rather than the raw
    ones (LIGHT_SMOOTH_FROM, LIGHT_SMOOTH_FULL), from the strength of its directional light."""
    c = np.asarray(coeffs, np.float32)
    even = max(float(_LUMA @ (c[0] + c[3])), 1e-6)
    strength = float(np.hypot(_LUMA @ c[1], _LUMA @ c[2])) / even
    return float(np.clip((strength - LIGHT_SMOOTH_FROM) / (LIGHT_SMOOTH_FULL - LIGHT_SMOOTH_FROM), 0.0, 1.0))


def _side_gain(normals: np.ndarray, coeffs: np.ndarray, shading: float) -> np.ndarray:
    """relight.side_shading(normals / |normals|, coeffs) ** shading, (h, w, 3) float32, with
    OpenCV kernels: numpy's broadcasting temporaries cost 1.8 ms on a 613-px face's quarter-size
    map, this about a quarter of it (the same numbers to float rounding)."""
    length = cv2.sqrt(cv2.transform(cv2.multiply(normals, normals), np.ones((1, 3), np.float32)))
    unit = cv2.divide(normals, cv2.merge([length + np.float32(1e-6)] * 3))
    c = np.asarray(coeffs, np.float32)
    # Per output channel k: full = c0 + c1 x + c2 y + c3 z, even = c0 + c3 z.
    full = cv2.transform(unit, np.ascontiguousarray(np.concatenate([c[1:4].T, c[0:1].T], axis=1)))
    even_matrix = np.zeros((3, 4), np.float32)
    even_matrix[:, 2], even_matrix[:, 3] = c[3], c[0]
    even = np.maximum(cv2.transform(unit, even_matrix), np.float32(1.0))
    ratio = np.clip(cv2.divide(full, even), *relight.SIDE_LIMITS).astype(np.float32, copy=False)
    return ratio if shading == 1.0 else cv2.pow(ratio, float(shading))


@dataclass
class _Still:
    """What one face's render made that stays valid while its head holds still (REUSE_PX)."""

    landmarks: np.ndarray
    box: tuple
    texture: _Texture
    maps: object
    patch: np.ndarray
    light: np.ndarray | None = None
    shading: float = -1.0
    relit: np.ndarray | None = None
    mask_settings: object = None
    mask: np.ndarray | None = None
    eyes: tuple[np.ndarray, tuple[int, int]] | None = None

    def holds(self, landmarks: np.ndarray, box, texture: _Texture) -> bool:
        return (texture is self.texture and tuple(box) == tuple(self.box)
                and landmarks.shape == self.landmarks.shape
                and float(np.abs(landmarks - self.landmarks).max()) <= REUSE_PX)


@functools.cache
def _occluder_points() -> np.ndarray:
    top = topology()
    return np.concatenate([top.face_oval, top.right_eye, top.left_eye, top.right_eyebrow, top.left_eyebrow])


@dataclass
class _Occluders:
    """A face's hair and off-skin band as last measured (OCCLUDERS_EVERY): `open` is the factor
    on the layer's alpha over `box` (None: nothing to keep), `age` the frames it has served."""

    points: np.ndarray
    box: tuple
    open: np.ndarray | None
    settings: object
    age: int = 1

    def moved(self, points: np.ndarray, face_size: float, settings: object) -> np.ndarray | None:
        """The shift (x, y) that carries the masks onto a face at `points`, or None when they
        must be measured again."""
        if self.age >= OCCLUDERS_EVERY or settings != self.settings or points.shape != self.points.shape:
            return None
        shift = (points - self.points).mean(axis=0)
        if float(np.abs(points - self.points - shift).max()) > OCCLUDERS_REUSE * face_size:
            return None
        return shift


@dataclass
class _Glasses:
    """A face's glasses frames as last found: `found` is (keep, (x, y)) in frame pixels,
    `flat` and `grey` the frames' core pixels (flat indices into the frame) and their grey
    levels then, `age` the frames it has served (GLASSES_EVERY)."""

    found: tuple[np.ndarray, tuple[int, int]]
    flat: np.ndarray
    grey: np.ndarray
    shape: tuple
    age: int = 1
    soft: tuple | None = None
    """The shape transfer's soft restore mask made from these frames (_glasses_unmoved): (key, mask,
    1 - mask), key = (grow, frame x, frame y, size); it is a pure function of the key while the frames
    are held."""

    def holds(self, image: np.ndarray) -> bool:
        """Whether the frames are still where they were found in `image` (GLASSES_STILL)."""
        if self.age >= GLASSES_EVERY or image.shape != self.shape or not image.flags.c_contiguous:
            return False
        return float(np.abs(_grey_at(image, self.flat) - self.grey).mean()) <= GLASSES_STILL


def _grey_at(image: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """The grey level (BT.601) of a contiguous BGR `image` at flat pixel indices."""
    pixels = image.reshape(-1, 3).take(flat, axis=0).astype(np.float32)
    return pixels[:, 0] * np.float32(0.114) + pixels[:, 1] * np.float32(0.587) + pixels[:, 2] * np.float32(0.299)


class MeshSwapper:
    name = "mesh"

    def __init__(self, settings: Settings) -> None:
        self._triangles = topology().triangles
        self._source: SourceFace | None = None
        self._texture: _Texture | None = None
        self.clean_texture: CleanTexture | None = None
        self._light = relight.LightTracker(every=LIGHT_EVERY)
        self._hand_tracker: HandOccluder | None = None
        self._hand_outlines: list = []
        self._still: dict[int, _Still] = {}
        self._still_seen: set[int] = set()
        self._eyes_open: dict[int, np.ndarray] = {}
        """Per face: its eyes' open states (swap/eyes.py: open_states)."""
        self._no_glasses: dict[int, int] = {}
        """Per face: frames since a glasses search found none (GLASSES_RECHECK)."""
        self._unmoved: dict[int, tuple[np.ndarray | Callable[[], np.ndarray], np.ndarray]] = {}
        """Per face, this frame: the picture (or what makes it: a working size's shrink) and landmarks
        before the shape transfer moved them."""
        self._moved_glasses: dict[int, tuple | None] = {}
        """Per face, this frame: the glasses found before the shape transfer moved the face."""
        self._frame_glasses: set[int] = set()
        """The faces found wearing glasses this frame (_find_glasses): the lash lightening leaves
        them as they are (_lighten_lashes)."""
        self._occluders: dict[int, _Occluders] = {}
        self._glasses: dict[int, _Glasses] = {}
        self.glasses_searched = 0
        """How many times the glasses search ran (a still pair of frames is kept: GLASSES_STILL)."""
        self.glasses_softened = 0
        """How many times the shape transfer's soft glasses restore mask was made (held frames reuse it)."""
        self.occluders_made = 0
        """How many times the hair and off-skin band were measured (OCCLUDERS_EVERY)."""
        self.maps_made = 0
        """How many times warp maps were computed (a still head reuses them: REUSE_PX)."""
        self._plain: tuple[_Texture, np.ndarray, np.ndarray | None] | None = None
        """The texture's picture (and its mirror image) with its lid bands closed (swap/eyes.py,
        plain_lids): made on the first target eye narrower than the source's, kept per texture."""
        self._lash_lift = 0.0
        """How much of the target's lash lines and liner is lightened for this source (swap/eyes.py,
        lash_lift: a source with faint lashes of its own)."""
        self._shape = ShapeTransfer()
        self._shape_still: dict[int, tuple[np.ndarray, float, Warp]] = {}
        """Per face: the landmarks, amount and Warp of the shape transfer's last fit, kept while the
        head holds still (REUSE_PX): the field, its grid and inverse are skipped, and the moved
        landmarks stay the same, so the render's own maps are reused too (_Still)."""
        self.swap_settings = settings.swap
        self.configure(settings)

    def configure(self, settings: Settings) -> None:
        self.blend = settings.blend
        self._light.time_constant_s = settings.blend.color_smoothing
        changed = (settings.swap.clean_source, settings.swap.makeup) != \
            (self.swap_settings.clean_source, self.swap_settings.makeup)
        self.swap_settings = settings.swap
        if changed and self._source is not None:
            self.set_source(self._source)

    def set_source(self, source: SourceFace) -> None:
        self._source = source
        clean = None
        if self.swap_settings.clean_source:
            clean = clean_texture_of(source, self.swap_settings.makeup)
        self.clean_texture = clean
        self._texture = source_texture(source, self._triangles, clean)
        self._lash_lift = lash_lift(self._texture.image, self._texture.points)
        self._plain = None
        if clean is not None and clean.mouth_open:
            log.warning("the mouth in %s is open: the target's own mouth (lips included) is shown "
                        "instead; a photo with the mouth closed works best", source.name)
        self._light.reset()
        self._still.clear()
        self._eyes_open.clear()
        self._no_glasses.clear()
        self._glasses.clear()
        self._shape.set_source(source.face.landmarks)
        self._shape_still.clear()
        warning = profile_warning(source)
        if warning:
            log.warning(warning)

    def swap(self, frame: Frame, faces: list[Face]) -> list[FaceLayer]:
        if self._source is None:
            return []
        self._hand_outlines = []
        if self.blend.keep_hands and faces:
            if self._hand_tracker is None:
                self._hand_tracker = HandOccluder(every=HAND_EVERY)
            self._hand_outlines = self._hand_tracker.update(frame.image)
        self._still_seen = set()
        self._moved_glasses = {}
        self._frame_glasses = set()
        self._unmoved = {}
        unmoved, found, given = None, faces, frame
        if self._shape_amount() > 0 and faces:
            unmoved = frame.image
            frame, faces = self._transfer_shape(frame, faces)
        drawn = [(layer, before, number) for number, (face, before) in enumerate(zip(faces, found, strict=True))
                 if (layer := self._swap_one(frame, face, number)) is not None]
        layers = [layer for layer, _, _ in drawn]
        if unmoved is not None:
            # The camera's grain from its own, unmoved pixels: resampled, the picture under the
            # layer has lost some of it, and a glasses rim the search kept only in part would
            # come back through the grain at its moved place (a second, faint lower rim on d9).
            # Its brows and lash lines are where the camera has them (grain_points): the blend
            # limits them there, or the target's unmoved brow came back through the grain as a
            # ghost arc beside the moved one (s9 -> d6, tests/test_swap_brows.py).
            for layer, before, _ in drawn:
                x0, y0, x1, y1 = layer.box
                layer.grain = _mouth_grain(unmoved[y0:y1, x0:x1], frame.image[y0:y1, x0:x1], layer.face.landmarks,
                                           before.landmarks, layer.box)
                layer.grain_points = before.landmarks
        if self._lash_lift > 0.0 and layers:
            self._lighten_lashes(given, [(layer, number) for layer, _, number in drawn])
        for key in set(self._still) - self._still_seen:
            del self._still[key]  # a face not seen in this frame starts afresh
        for key in set(self._no_glasses) - self._still_seen:
            del self._no_glasses[key]
        for key in set(self._eyes_open) - self._still_seen:
            del self._eyes_open[key]
        for key in set(self._shape_still) - self._still_seen:
            del self._shape_still[key]
        for key in set(self._occluders) - self._still_seen:
            del self._occluders[key]
        for key in set(self._glasses) - self._still_seen:
            del self._glasses[key]
        return layers

    def _lighten_lashes(self, frame: Frame, layers: list[tuple[FaceLayer, int]]) -> None:
        """The target's lash lines and liner lightened (swap/eyes.py, lighten_lashes: a source with
        faint lashes) in the picture the blend stage composites onto (frame.output): the target's
        eyes kept in the layer's holes and outer corners show there. Not in the camera's grain
        (FaceLayer.grain): lightened there too, the face read softer than the camera draws it
        (tests/test_swap_sharp.py: s9 on d10 frame 22 0.78, 0.87 without), at no gain in identity
        (benchmarks/results/s29-lashes).

        A face wearing glasses (frames found this frame: _find_glasses) is left as it is: its rim
        crosses the outer part of each eye's band, and lightened there it broke into a whitish
        streak (s9 and s10 on d13: the written sharpness match 0.905 -> 0.75, s29, reverted). With
        the frames' own pixels spared, the sharpness came back but the lid crease and lash ends under
        the rim still went, and the glasses' ring lost 0.02-0.03 of its edges (realism.glasses_kept on
        d9 and d13; benchmarks/results/s30-lashes2). A hand is spared pixel for pixel (lighten_lashes)."""
        for layer, number in layers:
            key = layer.face.track_id if layer.face.track_id >= 0 else -1 - number
            if key in self._frame_glasses:
                continue
            spare = []
            if self._hand_outlines and self._hand_tracker is not None:
                hands = self._hand_tracker.mask(self._hand_outlines, layer.box)
                if hands is not None:
                    spare.append((hands, (layer.box[0], layer.box[1])))
            if frame.output is None:
                frame.output = frame.image.copy()
            lighten_lashes(frame.output, layer.face.landmarks, layer.face.size, self._lash_lift, spare=spare)

    def _shape_amount(self) -> float:
        """How much of the source's face shape the target's face takes: face_shape, times the
        blend's opacity -- the shape is part of the new face, so at opacity 0 the picture is the
        target's own, unmoved (the transfer warps the picture under the layer too: at opacity 0 the
        target's features still sat at the source's places, tests/test_gui.py), and a half-faded
        face is half moved."""
        return float(self.swap_settings.face_shape) * float(self.blend.opacity)

    def _transfer_shape(self, frame: Frame, faces: list[Face]) -> tuple[Frame, list[Face]]:
        """The source's face shape (realtime/swap/shape.py): each face's landmarks moved, and the
        target's own pixels around and inside the face (its eyes and mouth in the mesh's holes,
        its jaw line, the hair beside it) warped alike into frame.output, which the blend stage
        composites onto. Returns the frame to render from (the warped picture) and the moved faces."""
        picture = frame.output if frame.output is not None else frame.image
        canvas = picture.copy()
        self._moved_glasses = {}
        time_s = frame.pts if frame.pts is not None else frame.capture_ns / 1e9
        moved = []
        for number, face in enumerate(faces):
            track = face.track_id if face.track_id >= 0 else -1 - number
            amount = self._shape_amount()
            held = self._shape_still.get(track)
            if (held is not None and held[1] == amount and held[0].shape == face.landmarks.shape
                    and float(np.abs(face.landmarks - held[0]).max()) <= REUSE_PX):
                move: Warp | None = held[2]
            else:
                field = self._shape.field(face.landmarks, amount, track, time_s)
                move = plan(field, face.landmarks, picture.shape[:2]) if field is not None else None
                if move is not None:
                    self._shape_still[track] = (face.landmarks.copy(), amount, move)
            if move is None:
                moved.append(face)
                continue
            # The target's hair over the face is looked for on its own, unmoved pixels at its own
            # landmarks: in the moved picture a brow moved toward the temple met the hair there,
            # and the hair kept in front took the target's brow tail with it (a second brow end
            # beside the new one, s9 -> d6). Hair lies along the outline, which the field leaves.
            self._unmoved[track] = (picture, face.landmarks)
            patch, (x0, y0, x1, y1), landmarks = warp(picture, move), move.box, move.moved.copy()
            if self._hand_outlines:
                # A hand in front of the face stays where it is (and as it is): only the face moves.
                hands = self._hand_tracker.mask(self._hand_outlines, (x0, y0, x1, y1))
                if hands is not None:
                    patch = cv2.blendLinear(picture[y0:y1, x0:x1], patch, hands, 1.0 - hands)
            if self.blend.keep_occluders and self._no_glasses.get(track, GLASSES_RECHECK) >= GLASSES_RECHECK:
                patch, self._moved_glasses[track] = self._glasses_unmoved(picture, patch, face, (x0, y0, x1, y1),
                                                                          landmarks, track)
            canvas[y0:y1, x0:x1] = patch
            moved.append(replace(face, landmarks=landmarks, box=box_of(landmarks, frame.width, frame.height)))
        frame.output = canvas
        return Frame(index=frame.index, image=canvas, capture_ns=frame.capture_ns, pts=frame.pts), moved

    def _glasses_unmoved(self, picture: np.ndarray, patch: np.ndarray, face: Face, box, moved: np.ndarray,
                         key: int):
        """The shape transfer's warped patch with the target's glasses frames put back where the
        camera has them: a frame is not part of the face's shape (moved with the eyes, d9's and
        d13's frames bent and lost 10-12% of their edges: s12, face_shape 1). The region put back
        is the frames grown by how far the field moved the eyes and brows there, so the moved
        copy of a frame is covered too (no double frame); the eyes inside the lenses move.
        Returns the patch (changed in place) and the frames found (keep, (x, y) in the frame), or None: the render
        keeps those, since a search around the moved eyes reaches less far below them (the lower
        rims of d9's frames were lost). The search is _glasses_of's: frames still where an earlier
        frame had them are not searched for again (GLASSES_STILL, ~1 ms of a 720p face's 2)."""
        glasses = self._glasses_of(picture, face, box, key)
        if glasses is None:
            return patch, None
        keep, (gx, gy) = glasses
        found = (keep, (box[0] + gx, box[1] + gy))
        top = topology()
        ring = np.concatenate([top.right_eye, top.left_eye, top.right_eyebrow, top.left_eyebrow])
        reach = float(np.abs(moved[ring, :2] - face.landmarks[ring, :2]).max())
        grow = int(np.ceil(reach)) + 1
        # Wherever a frame is kept at all (its soft, faint parts too: half-kept, the moved and the
        # unmoved copy both showed, a double lower rim on d9), then grown and softened.
        # At half size (the grown region is soft anyway: 4 of the transfer's 10 ms on d13 at full
        # size, 0.4 ms so): every pixel of a frame is kept in the half-size mask (a 2x2 max).
        height, width = keep.shape
        # Frames held from an earlier frame (_Glasses) at the same place and reach give the same soft
        # mask: it is made once (its dilations, blur and enlargement were a third of this restore's
        # cost without the search; issue 13, benchmarks/results/s21-shapecost).
        memory = self._glasses.get(key)
        made = (grow, found[1], keep.shape)
        if memory is not None and memory.soft is not None and memory.soft[0] == made:
            keep, rest = memory.soft[1], memory.soft[2]
        else:
            found_px = (keep > RESTORE_FROM).astype(np.uint8)
            small = cv2.dilate(found_px, np.ones((2, 2), np.uint8))[::2, ::2]
            half = (grow + 1) // 2
            small = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * half + 1, 2 * half + 1)))
            small = cv2.GaussianBlur(small.astype(np.float32), (0, 0), max(0.5, 0.25 * grow))
            keep = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
            # ... and its complement, the moved patch's weight (held frames reuse both).
            rest = 1.0 - keep
            if memory is not None:
                memory.soft = (made, keep, rest)
                self.glasses_softened += 1
        x0, y0 = box[0], box[1]
        # In place: the caller's patch is its own (warp's, or the hands' blend of it), not a copy to keep.
        region = patch[gy:gy + height, gx:gx + width]
        unmoved = picture[y0 + gy:y0 + gy + height, x0 + gx:x0 + gx + width]
        patch[gy:gy + height, gx:gx + width] = cv2.blendLinear(unmoved, region, keep, rest)
        return patch, found

    def _swap_one(self, frame: Frame, face: Face, number: int = 0) -> FaceLayer | None:
        x0, y0, x1, y1 = face.box
        # One pixel of margin so that the feathered edge never touches the box edge.
        box = (max(0, x0 - 1), max(0, y0 - 1), min(frame.width, x1 + 1), min(frame.height, y1 + 1))
        if box[2] - box[0] < 8 or box[3] - box[1] < 8:
            return None  # a face this small (or mostly off-frame) is not worth a swap
        work = work_face_px(self._texture.face_size if self._texture is not None else 0.0)
        if face.size > work:
            return self._swap_reduced(frame, face, box, number, work)
        return self._render(frame, face, box, number, self._hand_outlines)

    def _swap_reduced(self, frame: Frame, face: Face, box, number: int, work: float) -> FaceLayer | None:
        """A large face: the box of the frame shrunk so that the face is `work` large, the face
        rendered there, and the layer handed on at that size over the full box (the blend stage
        enlarges it in its final composite). The glasses frames are found on the frame itself
        and handed on at its resolution (FaceLayer.glasses)."""
        bx0, by0, bx1, by1 = box
        factor = work / face.size
        key = face.track_id if face.track_id >= 0 else -1 - number
        width, height = max(8, round((bx1 - bx0) * factor)), max(8, round((by1 - by0) * factor))
        sx, sy = width / (bx1 - bx0), height / (by1 - by0)
        picture = shrink(frame.image[by0:by1, bx0:bx1], (width, height))

        def to_work(points: np.ndarray) -> np.ndarray:
            # Pixel centres: frame pixel x sits at (x + 0.5) * s - 0.5 of the shrunk picture.
            shrunk = np.array(points, np.float32, copy=True)
            shrunk[..., 0] = (shrunk[..., 0] - bx0 + 0.5) * sx - 0.5
            shrunk[..., 1] = (shrunk[..., 1] - by0 + 0.5) * sy - 0.5
            return shrunk

        landmarks = to_work(face.landmarks)
        landmarks[:, 2] = face.landmarks[:, 2] * np.float32(0.5 * (sx + sy))
        fx0, fy0, fx1, fy1 = face.box
        small_box = (max(0, int(round((fx0 - bx0) * sx))), max(0, int(round((fy0 - by0) * sy))),
                     min(width, int(round((fx1 - bx0) * sx))), min(height, int(round((fy1 - by0) * sy))))
        small_face = replace(face, landmarks=landmarks, box=small_box)
        small_frame = Frame(index=frame.index, image=picture, capture_ns=frame.capture_ns, pts=frame.pts)
        seen = self._unmoved.get(key)
        if seen is not None:
            # The hair and the off-skin band are found on the unmoved picture (_transfer_shape),
            # in the working box's pixels as the render reads them: found in frame pixels, the
            # face's own jaw-side band (d3's hair beside her cheek) was laid over the middle of the
            # working face, a hole from the nostril to the chin where the target's moved picture
            # showed through (the "tone break beside the nose" on s42 -> d3, issue 13, s29).
            unmoved = to_work(seen[1])
            unmoved[:, 2] = seen[1][:, 2] * np.float32(0.5 * (sx + sy))
            # Shrunk only when _uncovered measures the hair again (every OCCLUDERS_EVERY frames; in
            # between it shifts what it measured and reads no pixels): the same picture, made a third
            # as often (issue 13's budget, benchmarks/results/s36-speed).
            self._unmoved[key] = (functools.partial(shrink, seen[0][by0:by1, bx0:bx1], (width, height)), unmoved)
        hands = [to_work(outline) for outline in self._hand_outlines]
        layer = self._render(small_frame, small_face, (0, 0, width, height), number, hands, full_size=False)
        if layer is None:
            return None
        glasses = None
        if self.blend.keep_occluders:
            glasses = self._find_glasses(frame.image, face, box, key)
        # The grain is matched at full resolution: the scale stays in target (frame) pixels.
        return replace(layer, box=box, face=face, scale=layer.scale / (0.5 * (sx + sy)), glasses=glasses,
                       work_target=picture)

    def _render(self, frame: Frame, face: Face, box, number: int, hand_outlines: list,
                full_size: bool = True) -> FaceLayer | None:
        target = face.landmarks[:MESH_POINTS]
        texture = self._texture
        key = face.track_id if face.track_id >= 0 else -1 - number
        self._still_seen.add(key)
        self._eyes_open[key] = open_states(face.landmarks, self._eyes_open.get(key))
        still = self._still.get(key)
        if still is None or not still.holds(face.landmarks, box, texture):
            still = _Still(face.landmarks.copy(), tuple(box), texture,
                           *self._warp(face, target, texture, box, full_size))
            self._still[key] = still
        maps, patch = still.maps, still.patch
        relit, hard_light = False, 0.0
        if texture.normals is not None and self.blend.shading > 0:
            patch, hard_light = self._relight(frame, face, maps, patch, number, still, box)
            relit = True
        else:
            patch = patch.copy()  # the layer is the blend stage's to change
        blend = self.blend
        if self.clean_texture is not None and self.clean_texture.mouth_open and not blend.mouth_mask:
            blend = replace(blend, mouth_mask=True)  # an open source mouth: the target's own
        if still.mask is None or still.mask_settings != blend:
            still.mask, still.mask_settings = face_mask(face.landmarks, box, face.size, blend), blend
            # The target's own lash lines on narrower eyes, its lids on a closing eye (swap/eyes.py).
            eyes, still.eyes = eye_zones(face.landmarks, box, face.size, texture.points, self._eyes_open[key])
            if eyes is not None:
                keep, (ex, ey) = eyes
                still.mask[ey:ey + keep.shape[0], ex:ex + keep.shape[1]] *= 1.0 - keep
        alpha = still.mask.copy()  # the occluders below cut into it
        kept, kept_lines = still.eyes, None
        if self.blend.keep_occluders:
            # (At a working size the caller finds them on the frame: _swap_reduced.)
            glasses = self._find_glasses(frame.image, face, box, key) if full_size else None
            if glasses is not None:
                keep, (gx, gy) = glasses
                under = alpha[gy:gy + keep.shape[0], gx:gx + keep.shape[1]]
                # Only the frames' parts on the face take its colour (blend/kept.py): a temple
                # arm beyond the outline is the background's, as the camera has it.
                kept_lines = (keep * under, (gx, gy))
                kept = _union(kept, kept_lines)
                under *= 1.0 - keep
            seen = self._unmoved.get(key)  # the hair where the camera has it (_transfer_shape)
            uncovered = self._uncovered(frame.image if seen is None else seen[0],
                                        face if seen is None else replace(face, landmarks=seen[1]), box, key)
            if uncovered is not None:
                alpha *= uncovered
        if hand_outlines:
            hands = self._hand_tracker.mask(hand_outlines, box)
            if hands is not None:
                alpha *= 1.0 - hands
        scale = face.size / max(texture.face_size, 1.0) if texture.face_size else 1.0
        return FaceLayer(box=box, image=patch, alpha=alpha, face=face, relit=relit, scale=scale, kept=kept,
                         kept_lines=kept_lines, moustache=texture.moustache, hard_light=hard_light,
                         source_detail=texture.fine_detail)

    def _find_glasses(self, image: np.ndarray, face: Face, box, key: int) -> tuple[np.ndarray, tuple[int, int]] | None:
        """The glasses frames over `box` of the frame `image` (full resolution), as glasses_mask
        gives them: those the shape transfer found unmoved, or those still where an earlier frame
        had them, or a search (GLASSES_RECHECK for a face without)."""
        since = self._no_glasses.get(key, GLASSES_RECHECK)
        glasses = None
        if key in self._moved_glasses:  # found unmoved, frame pixels (_transfer_shape)
            glasses, since = _within(self._moved_glasses[key], box), 0
        elif since >= GLASSES_RECHECK:
            glasses = self._glasses_of(image, face, box, key)
            since = 0
        self._no_glasses[key] = since + 1 if glasses is None else GLASSES_RECHECK
        if glasses is not None:
            self._frame_glasses.add(key)
        return glasses

    def _glasses_of(self, image: np.ndarray, face: Face, box, key: int) -> tuple[np.ndarray, tuple[int, int]] | None:
        """glasses_mask over `box`, or the frames found on an earlier frame of this face where
        they still are (_Glasses)."""
        memory = self._glasses.get(key)
        if memory is not None and memory.holds(image):
            memory.age += 1
            return _within(memory.found, box)
        self._glasses.pop(key, None)
        self.glasses_searched += 1
        glasses = glasses_mask(image, face.landmarks, box, face.size)
        if glasses is None or not image.flags.c_contiguous:
            return glasses
        keep, (gx, gy) = glasses
        ys, xs = np.nonzero(keep > 0.5)  # the frames' cores
        if len(ys) < 16:
            return glasses
        flat = (ys + box[1] + gy).astype(np.intp) * image.shape[1] + (xs + box[0] + gx)
        self._glasses[key] = _Glasses((keep, (box[0] + gx, box[1] + gy)), flat, _grey_at(image, flat), image.shape)
        return glasses

    def _uncovered(self, image: np.ndarray | Callable[[], np.ndarray], face: Face, box, key: int) -> np.ndarray | None:
        """float32 (h, w) over `box`: the factor on the layer's alpha that leaves the target's hair
        over the oval and what is not skin in the feathered band to the target; None for none.
        Measured every OCCLUDERS_EVERY frames of a face, shifted with it in between."""
        # The points both masks are made from: the oval (the band and the hair lie along it), the
        # eyes and brows (left to the target's own features, never taken for hair: a blink moves
        # the lash line under a mask measured on the open eye, a 2.2-3.6-level line on s42 -> d9's
        # written frame 11). A talking mouth moves none of them.
        points = face.landmarks[_occluder_points(), :2]
        memory = self._occluders.get(key)
        shift = None if memory is None else memory.moved(points, face.size, self.blend)
        if memory is not None and shift is not None:
            memory.age += 1
            if memory.open is None:
                return None
            # Box pixel (x, y) now shows what was at (x, y) - shift in the frame, i.e. the old
            # box's pixel (x + x0 - shift_x - old_x0, ...).
            dx = float(shift[0]) + memory.box[0] - box[0]
            dy = float(shift[1]) + memory.box[1] - box[1]
            return cv2.warpAffine(memory.open, np.float32([[1, 0, dx], [0, 1, dy]]), (box[2] - box[0], box[3] - box[1]),
                                  flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        self.occluders_made += 1
        if callable(image):
            image = image()
        uncovered = None
        hair = hair_mask(image, face.landmarks, box, face.size)
        if hair is not None:
            uncovered = 1.0 - hair
        # Hair or background inside the mask's feathered band (blend/mask.py).
        off_skin = edge_off_skin(image, face.landmarks, box, face.size, self.blend)
        if off_skin is not None:
            uncovered = 1.0 - off_skin if uncovered is None else uncovered * (1.0 - off_skin)
        self._occluders[key] = _Occluders(points.copy(), tuple(box), uncovered, self.blend)
        return uncovered

    def _warp(self, face: Face, target: np.ndarray, texture: _Texture, box, full_size: bool = True):
        """(maps, patch): the source texture warped onto the target's mesh over `box`."""
        self.maps_made += 1
        # The maps are piecewise linear: on a big face a coarser grid costs less and stays within
        # a fraction of a pixel of the exact maps. At a working size (work_face_px) a finer one:
        # a grid cell that a nostril's sliver triangle wins (warp.py: SLIVER_GAIN) is enlarged
        # with the layer, and at 4 working pixels one showed as a dark 5-px spot beside d13's
        # nostril (frame 16 with s12; tests/test_swap_work_size.py); 3 costs ~0.1 ms more.
        grid_step = (8 if face.size > 500 else 4) if full_size else 3
        # A turned source's brow-to-lid bands toward its own height (faces/brows.py): its short
        # painted band stretched over a tall one was a lumpy khaki wedge (s10 on d6, d10).
        target = brow_band_to_source(target, texture.brow_gaps)
        # A turned source's mirror image has its own maps onto the same target mesh: both from one
        # rasterisation of the target's triangles (piecewise_affine_maps_from: the same maps to the
        # bit; the rasterising is a third of a map build, ~0.7 ms on d13's working face). Cells that a
        # folded nose wing's triangle wins outside itself read from its edge on (warp.py OUTSIDE_FROM):
        # read beyond it, its 6-16x map put a speck beside the nostril for a few frames.
        sources = [texture.points] if texture.flipped is None else [texture.points, texture.flipped_points]
        maps, *flipped = piecewise_affine_maps_from(target, sources, self._triangles, box, depth=target[:, 2],
                                                    grid_step=grid_step, tame_outside=True)
        patch = maps.remap(texture.image)
        if texture.hair is not None:
            _draw_hair(patch, maps, texture.image, texture.hair, target, (box[0], box[1]))
        # The source's lid bands without their lashes and crease over a narrower or a closing target
        # eye (swap/eyes.py).
        amounts = plain_amounts(texture.points, face.landmarks)
        plain = self._plain_lids(texture) if max(amounts) > 0.0 else None
        if plain is not None:
            fade_lids(patch, _sampler(maps), plain[0], face.landmarks, (box[0], box[1]), amounts)
        if texture.flipped is not None:
            # A turned source: its far half comes from the mirror image of its near half. Two
            # continuous warps blended across the midline (one warp switching between the two
            # pictures would smear whatever lies between them along the seam).
            flipped_maps = flipped[0]
            mirrored = flipped_maps.remap(texture.flipped)
            if texture.hair is not None:
                _draw_hair(mirrored, flipped_maps, texture.flipped, cv2.flip(texture.hair, 1), target, (box[0], box[1]))
            if plain is not None and plain[1] is not None:
                fade_lids(mirrored, _sampler(flipped_maps), plain[1], face.landmarks, (box[0], box[1]), amounts)
            weight = far_half_weight(target, texture.far_triangles, self._triangles, box, face.size)
            patch = cv2.blendLinear(mirrored, patch, weight, 1.0 - weight)
        return maps, patch

    def _plain_lids(self, texture: _Texture) -> tuple[np.ndarray, np.ndarray | None]:
        """The texture's picture and its mirror image's with the lid bands closed (made once)."""
        if self._plain is None or self._plain[0] is not texture:
            plain = plain_lids(texture.image, texture.points)
            flipped = None
            if texture.flipped is not None and texture.flipped_points is not None:
                flipped = plain_lids(texture.flipped, texture.flipped_points)
            self._plain = (texture, plain, flipped)
        return self._plain[1], self._plain[2]

    def _relight(self, frame: Frame, face: Face, maps, patch: np.ndarray, number: int,
                 still: _Still | None = None, box: tuple | None = None) -> tuple[np.ndarray, float]:
        """The clean (flat-lit) patch under the target's light: the target's SH light, fitted
        on its own skin a few times a second, evaluated at the source normals warped with the
        texture, as a per-channel gain (so coloured and side light come along); and how hard that
        light is (FaceLayer.hard_light: relight_weight squared, as the cheekbones' lift)."""
        texture = self._texture
        time_s = frame.pts if frame.pts is not None else frame.capture_ns / 1e9
        track = face.track_id if face.track_id >= 0 else -1 - number
        coeffs, mean = self._light.light(track, frame.image, face.landmarks, face.size, time_s)
        hard_light = relight_weight(coeffs) ** 2
        if still is not None and still.relit is not None and still.shading == self.blend.shading and \
                float(np.abs(coeffs - still.light).max()) <= LIGHT_REUSE:
            return still.relit.copy(), hard_light  # a still head under the same light
        step = _LIGHT_STEP if min(patch.shape[:2]) >= 8 * _LIGHT_STEP else 1
        # The normal map sits at 1/NORMAL_STEP of the texture: its pixel centres are there.
        map_x = (maps.map_x[step // 2::step, step // 2::step] + 0.5) / NORMAL_STEP - 0.5
        map_y = (maps.map_y[step // 2::step, step // 2::step] + 0.5) / NORMAL_STEP - 0.5
        weight = relight_weight(coeffs) if texture.light_normals is not None else 0.0
        normals = cv2.remap(texture.normals if weight < 1.0 else texture.light_normals, map_x, map_y,
                            cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if 0.0 < weight < 1.0:
            smoothed = cv2.remap(texture.light_normals, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            normals = cv2.addWeighted(normals, 1.0 - weight, smoothed, weight, 0.0)
        gain = _side_gain(normals, coeffs, self.blend.shading)
        bands = self._light.bands(track)
        if box is not None and bands is not None:
            gain = relight.brow_band_floor(gain, bands, patch, face.landmarks, box[:2], step, relight_weight(coeffs))
        gain = cv2.resize(gain, (patch.shape[1], patch.shape[0]), interpolation=cv2.INTER_LINEAR)
        relit = cv2.multiply(patch, gain, dtype=cv2.CV_8U)
        if still is not None:
            still.light, still.shading, still.relit = np.array(coeffs, copy=True), self.blend.shading, relit
            return relit.copy(), hard_light
        return relit, hard_light

    def close(self) -> None:
        self._source = None
        self._texture = None
        self.clean_texture = None
        self._light.reset()
        self._still.clear()
        self._eyes_open.clear()
        self._no_glasses.clear()
        self._glasses.clear()
        self._shape.reset()
        self._shape_still.clear()
        if self._hand_tracker is not None:
            self._hand_tracker.close()
            self._hand_tracker = None
