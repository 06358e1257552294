"""The clean source texture: what the mesh swapper wears, made once per source photo.

Moving the photo's pixels onto the target brings along everything the photo had besides the
face: its light, a hand on the cheek, hair strands, glasses, lipstick. So, once per photo:
0. its own grain, film noise or craquelure is taken out (non-local means, from the noise
   measured on its skin, its change kept below ~0.7% of the face inside the face oval when it ran
   on film grain: the relief above that is the photo's; a clean photo is left alone): the target
   camera's grain replaces it;
1. its light is fitted (first order over the mesh normals, in luminance, weighted towards
   skin-coloured points away from the rim, reweighted against outliers from several starts:
   fit_photo_light) and its directional part (side and top/bottom light) divided out through a
   soft limit and a smooth ratio (photo_shading); the even part, the face's own relief, stays;
1b. the light and tint that differ between the sides (what the first-order light could not
   follow, a hand-coloured print's pinker cheek) are evened against the mirror partner's low
   frequencies (balance_sides; heads turned by up to ~20 degrees);
2. its occluders are found inside the face oval: a hand (MediaPipe Hands, bundled with the
   mediapipe package) and whatever is not skin-coloured after de-lighting (hair strands, glasses
   frames, a sleeve; with hysteresis, so a strand's thin, half-transparent end joined to it goes
   too), leaving out the eyes, brows, lips and nostrils, which are face;
3. the occluded pixels are filled from the mirror image of the face (the same mesh point on the
   other side) where that side is clean skin, and with a smooth membrane from the skin around
   (push-pull) where it is not, met at its border by the kept skin's own level (_match_seam:
   no outline of another tone), fading into the kept pixels over a soft edge; the photo's own
   glasses (rims, bridge, temples: swap/source_glasses.py) are among these occluders;
3b. the photo's local cast shadows (deep eye sockets, beside the nose, under the lower lip),
   which a smooth light cannot explain, are lifted towards the skin nearby (swap/shadows.py);
4. the lips' colour is toned towards natural lips, and eye make-up towards the skin's chroma
   (`makeup` setting: 1 keeps the make-up as is).
The eyes and the inner mouth never come from the source at all: the mask leaves the target's
own eyes and mouth interior showing, so the source's gaze and an open source mouth (its teeth
and tongue lie inside the hole of the mesh) never reach the output.
The texture also carries a normal map of the face, in the face's own frame, for relighting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from realtime.blend import relight
from realtime.faces.topology import MESH_POINTS, topology
from realtime.faces.warp import piecewise_affine_maps
from realtime.swap.fill import push_pull_fill
from realtime.swap.shadows import (
    even_nose_sides,
    lift_shadows,
    nose_shade_zone,
    shadow_zones,
    soften_nose_planes,
)
from realtime.swap.source_glasses import SourceGlasses, find_source_glasses

log = logging.getLogger(__name__)

# The normal map is kept at 1/_NORMAL_STEP of the texture: light varies slowly.
NORMAL_STEP = 2
# Mesh points around the nostrils: dark, but face (left out of the occluder search).
_NOSTRILS = (64, 98, 97, 2, 326, 327, 294, 278, 48, 4, 240, 460, 75, 305, 19, 94)
# The nose, its flanks and wings (shadows._NOSE): never grown into as a hair strand.
_NOSE_ZONE = (168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 98, 327, 129, 358, 49, 279, 48, 278, 64, 294,
              209, 429, 217, 437, 174, 399, 193, 417, 122, 351, 188, 412, 198, 420, 131, 360)
# A pixel is "not skin" when its de-lit LAB colour is this many robust spreads from the skin's.
_SKIN_DISTANCE = 4.0
# The photo's own directional shading is divided out through a soft limit (log-ratio
# compressed by tanh towards +-this): a hard clip (0.75-1.33 before) left a flat plateau over
# half the face on each side of a side-lit photo and a step where the normals turn across the
# nose's flank (Einstein, s12: a grey patch beside the nose with straight edges).
_DELIGHT_SOFT = 0.5
# The normals' side component is smoothed over this fraction of the face before the ratio is
# taken: it flips across the nose's ridge within a few pixels, and a ratio that follows it left a
# step down the nose's flank (with the hard clip and 3%: p99 of the change's gradient 4.1 per
# face size on s12); smoothing the ratio over 10% softened it but no longer took the side light
# off the nose itself. The up/down component over _DELIGHT_BLUR_TOP (see delight()).
_DELIGHT_BLUR = 0.06
_DELIGHT_BLUR_TOP = 0.03
# The spread of the skin's lightness about the fitted light (relative) at which a point's weight
# halves (Cauchy): pores, make-up and brush strokes lie within it, hair and shadows well beyond.
_DELIGHT_SPREAD = 0.08
# The light and tint that differ between the sides are evened against the mirror partner's
# (balance_sides), low-passed over this fraction of the face (Gaussian sigma), the gain limited
# to this factor either way and the chroma shift to this many LAB units (float LAB: a, b in
# -127..127), measured on pixels within this many skin spreads of the skin's colour
# (skin_mismatch), for heads turned by up to _BALANCE_YAW degrees (fading out over the next 10);
# the sides' lightness is evened only beyond this half log-ratio (a face's own slight asymmetry
# stays: Hopper swapped onto herself 29.0 dB with all of it evened, 30.1 with this, 30.7 without).
_BALANCE_BLUR = 0.025
_BALANCE_MAX = 2.5
_BALANCE_TINT = 12.0
_BALANCE_SKIN = 2.5
_BALANCE_YAW = 15.0
_BALANCE_KEEP = 0.05
# Luminance weights (BGR).
_LUMA = np.array([0.114, 0.587, 0.299])
# Skin noise (grey levels of the finest band) below which a photo is not denoised, the
# denoising strength per level of noise, and its maximum (non-local means `h`).
NOISE_FLOOR = 2.0
DENOISE_GAIN = 1.2
DENOISE_MAX = 10.0
# The denoiser's change is kept only below this scale (Gaussian sigma, fraction of the face): above
# it the photo's own picture comes back. Non-local means at s12's strength (6.7) also averaged away
# the face's soft modelling (the cheeks' and lids' relief, the brows' and forehead's texture: a
# waxy face) that the grain, a pixel or two wide, does not need taken: dlib's distance to the photo
# rose 0.010 over s12 > d3, d6, d14 (benchmarks/results/s32-distance: its ablation map put the loss
# on the cheeks, brows, lids and forehead, not on one feature); with this, s12's six written pairs
# 0.500 -> 0.495. A fraction of the face (s12 1.5 px, s9 2.2, s10 3.6): at a fixed 1.5 px s10's
# craquelure, wider in pixels on its bigger face, came back on its cheeks.
DENOISE_KEEP_ABOVE = 0.0073
# ... inside the face oval only, faded in over this fraction of the face from its edge: kept out to
# the oval, the relief made s12's jaw side on d6 a little lighter and steeper where the blend's
# feather meets the camera's face (seam 2.56 -> 3.08, 2 frames over 3; s33-relief).
RELIEF_EDGE = 0.05
# ... and only where the denoiser ran at least this strong and under its ceiling (film grain: s12
# 6.7, Hopper 8.7). Not at the ceiling (DENOISE_MAX: s10's craquelure, h 10): with it s10 went
# 0.4359 -> 0.4562 on d6 and 0.4924 -> 0.5099 on d14, its sharpness on d14 1.250 -> 1.285 (written,
# s33-relief). Not under RELIEF_FROM: s9 (5.5) kept it unchanged. With it, her painted nose's
# shaded flank beside its lit ridge stepped harder on d9 (seam 3.00 -> 3.10, 4 frames over 3) and
# the fill of her hair over the cheek came out 4 levels darker (the occluder search found 5% fewer
# pixels); put back after the fill and out of the nose instead, s12 kept a third of the distance
# gained and s9 on d9 rose to 3.66 (s33-relief).
RELIEF_FROM = 6.0
# unblotch: the denoised picture smoothed over this fraction of the face (Gaussian sigma) down the
# nose's sides, and a moustache's dark pixels grown by HAIR_GROW of it (the strands' light gaps
# and fringe) taking the photo's own pixels back. At 0.008 the blotches went entirely, but dlib's
# distance to the photo rose +0.011 on s9 > d6 and +0.006 on s12 > d13 (0.005: +0.004, +0.001).
NOSE_SMOOTH = 0.005
# Both only where the denoiser ran this strong (its `h`) or stronger: the clumps are its own. s12
# (6.7) and s10 (10) wore dark dashes or a mottled ridge (s10, worn mirrored, is left as it is:
# make_clean_texture); on s9 (5.5) the nose's smoothing changed
# 54 texture pixels by more than 8 levels and still cost +0.0075 of dlib's distance on d6; s6
# (2.7: next to no clumps) passes the moustache test before de-lighting (its sculpted one).
UNBLOTCH_FROM = 6.0
HAIR_GROW = 0.012
# Lips apart by more than this fraction of the mouth's width: an open mouth (a slight parting
# of the lips, 0.1-0.2, is a closed mouth's look).
OPEN_MOUTH = 0.3
# The fill fades into the kept pixels over this fraction of the face (Gaussian sigma; the fill
# covers the occluders themselves fully). Short: a fade of 0.8-1% lowered the edges of d9's
# glasses rims kept over s42's filled temples (0.83 -> 0.79 of them, tests/test_swap_sharp.py).
_FILL_FEATHER = 0.006
# The fill's membrane is made from kept pixels within this many skin spreads of the skin's colour
# (stricter than _SKIN_DISTANCE: what is not quite an occluder is not quite skin either).
_FILL_SKIN_DISTANCE = 2.5
# Holes enclosed by the fill next to the photo's glasses under this size (fraction of the face,
# squared) are filled too (_glasses_leftovers): Hopper's largest glare hole is about 0.05.
_GLASSES_HOLE = 0.08
# Glare on the lenses: lighter than the neighbourhood's median (7% of the face) by this many grey
# levels, within this fraction of the face from the frames.
_GLARE = 18
_GLARE_REACH = 0.03
# The fill over the glasses takes the level of the skin seen through them (_level_through_lenses):
# pixels with rim evidence under this (LAB levels, as source_glasses._THRESHOLD), low-passed over
# this fraction of the face, by a gain of at most _LENS_GAIN either way (1.15 cost +0.017 identity
# distance to her photo, which wears the glasses; 1.10: under-eye -12.3 -> -10.5 L* vs the demo's
# own, identity within run-to-run noise, benchmarks/results/s25-hopper2).
_LENS_SEEN = 8.0
_LENS_LEVEL_BLUR = 0.04
_LENS_GAIN = 1.10
# The nose ridge between the glasses' lenses, kept as the photo has it, takes the tint of the fill
# over the lenses beside it (_ridge_between_lenses): a flash's highlight on a bare ridge between two
# tinted lenses (Hopper's: 10-12 L* over the fill, half its chroma) was worn as a pale grey wedge
# down the nose (the demo: -6.6 chroma vs the skin beside it -> -0.6). Its lightness stays: taken
# to the fill's level as well (+12.8 -> +4.7 L*) it looked flatter but cost +0.018 of her dlib
# distance on the demo (18/18 frames worse); the tint alone: -0.004 (benchmarks/results/s35-demo).
_RIDGE_TINT = 1.0
# The fill over the glasses' lenses is lifted where it is darker than _LENS_FILL_DEPTH under the
# kept skin's level around the face (_fill_to_skin_level; that level over _LENS_FILL_AROUND of the
# face, the fill's own over _LENS_FILL_OWN), by a gain of at most _LENS_FILL_MAX; and the shadow
# lift leaves the fill alone (shadows.lift_shadows' `lenses`). Below each eye the membrane took the
# lower lid's and the rim shadow's darkness (Hopper's fill 8-10 L* under her cheek there) and the
# shadow lift, from the few lid pixels beside it, raised pale crescents in it: dark under-eyes
# ringed by light arcs below each eye, on every frame of the demo and of d6. Now the band under her
# lower lids is as much lighter than her upper cheeks as the demo's own (+2.0 L*, the clip +2.1;
# before -0.6). dlib's distance to her photo (which wears the glasses) rose: demo 0.5243 -> 0.5266,
# written 60 frames d13 0.480 -> 0.485, d6 0.591 -> 0.605; the rings alone left (levelled, lifted
# as before) d6 +0.007 in process; at a depth of 0 the demo +0.021 (benchmarks/results/s36-demo).
_LENS_FILL_DEPTH = 0.06
_LENS_FILL_MAX = 1.3
_LENS_FILL_AROUND = 0.10
_LENS_FILL_OWN = 0.03
# The brows above the glasses' upper rims are kept (_brows_above_rims): the brow points widened by
# _BROW_REACH of the face; the rim darker than _RIM_DARK of the skin's median lightness, widened by
# _RIM_EDGE of the face.
_BROW_REACH = 0.04
_RIM_DARK = 0.45
_RIM_EDGE = 0.008
# The kept brows get back the hairs the denoising washed out (_hairs_back): only what the photo
# has darker than its denoised copy, at most this factor darker (her light hair highlights, put
# back too, read as pale scratches on d6's darker skin).
_HAIRS_DARKEST = 0.5
# Creases (_soften_creases): a thin dark line (a black-hat over _CREASE_WIDTH of the face) in the
# lower face that reaches _CREASE_BLACK grey levels below the skin beside it has what is deeper
# than _CREASE_DEPTH spread as shading over _CREASE_SPREAD of the face.
_CREASE_WIDTH = 0.04
_CREASE_DEPTH = 30.0
_CREASE_BLACK = 60.0
_CREASE_SPREAD = 0.012
# How far (fraction of the face) beyond the nostrils and lips a dark patch is a moustache, kept
# (_moustache_zone): s12's ends reach about 0.05 past his mouth's corners.
_MOUSTACHE_REACH = 0.07
# A mirror partner this many skin spreads darker than the skin (lightness only) is hair, not a
# fill (_not_hair): at 2.5 and 4, s9's fill stepped 10.9 and 19.4 levels against its cheek.
_HAIR_DISTANCE = 1.5
# The fill meets the kept skin's level measured in a band this wide (fraction of the face) along
# its border, taken over this much (Gaussian sigma): _match_seam.
_SEAM_BAND = 0.015
_SEAM_BLUR = 0.01
# ... and keeps the fill's own detail finer than this (Gaussian sigma, fraction of the face).
_SEAM_DETAIL = 0.02
# Between the two (see _match_seam): 0 the fill's own level, 1 the border's continued.
_SEAM_CONTINUE = 0.5


# The lower lip's outline of the source moved down to its red's edge (_lower_lip_to_its_red):
# walked at most _LIP_EDGE_REACH of the face below each lower outer-lip point, to where a* falls
# halfway from the lip's to the skin's below; moved only when the edge lies more than
# _LIP_EDGE_SLACK of the face below the point (s10's near half: 1.6-2.6%). Only for a source worn
# mirrored: on frontal photos the lip's reddish shade under it would move points too (s7, s0),
# unmeasured (benchmarks/results/s32-lipband).
_LIP_EDGE_REACH = 0.035
_LIP_EDGE_SLACK = 0.01
_LOWER_LIP = (146, 91, 181, 84, 17, 314, 405, 321, 375)


def _lower_lip_to_its_red(image: np.ndarray, landmarks: np.ndarray, face_size: float) -> np.ndarray:
    """`landmarks` with the lower lip's outer points moved down to the edge of the lip's red where
    it lies well below them: left where it is, the red beyond the outline is worn below the
    target's lower lip (s10 on d6, d10: a red band round the lips)."""
    a = cv2.GaussianBlur(cv2.cvtColor(image, cv2.COLOR_BGR2LAB)[..., 1].astype(np.float32),
                         (0, 0), max(1.0, 0.004 * face_size))
    height, width = a.shape
    reach = int(round(_LIP_EDGE_REACH * face_size))
    moved = landmarks.copy()
    for index in _LOWER_LIP:
        x, y = (int(round(v)) for v in landmarks[index, :2])
        if not (0 <= x < width and y >= 3 and y + 2 * reach < height):
            continue
        lip = float(np.median(a[max(0, y - reach // 3):y + 1, x]))
        skin = float(np.median(a[y + reach + reach // 2:y + 2 * reach, x]))
        if lip - skin < 6.0:
            continue
        below = np.nonzero(a[y:y + reach + 1, x] < 0.5 * (lip + skin))[0]
        step = int(below[0]) if len(below) else reach
        if step > _LIP_EDGE_SLACK * face_size:
            moved[index, 1] = y + step
    return moved


# A turned painting's lower lip carries a broad painted highlight across its middle (s10): worn
# mirrored, it became a pale blob in the middle of a red lip. Lighter than the lower lip's median
# by this many L levels (of 255): filled from the lip around it (_lip_highlight_out).
_LIP_HIGHLIGHT = 14.0
_LOWER_LIP_LOOP = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291,
                   308, 324, 318, 402, 317, 14, 87, 178, 88, 95, 78)


def _lip_highlight_out(image: np.ndarray, landmarks: np.ndarray, face_size: float) -> np.ndarray:
    """`image` with the lower lip's broad highlight filled from the lip around it."""
    lip = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(lip, [np.round(landmarks[list(_LOWER_LIP_LOOP), :2] * 16).astype(np.int32)], 1, shift=4)
    if int(lip.sum()) < 50:
        return image
    lightness = cv2.GaussianBlur(cv2.cvtColor(image, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32),
                                 (0, 0), max(1.0, 0.003 * face_size))
    level = float(np.median(lightness[lip > 0]))
    light = ((lightness > level + _LIP_HIGHLIGHT) & (lip > 0)).astype(np.uint8)
    if not light.any():
        return image
    grow = max(1, int(round(0.006 * face_size)))
    # Grown over the highlight's soft edge, but not past the lip's outline (its edge against the
    # skin is kept as sharp as it is).
    light = cv2.dilate(light, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))) & lip
    return cv2.inpaint(image, light, max(2.0, 0.02 * face_size), cv2.INPAINT_TELEA)


def _mouth_opening(landmarks: np.ndarray) -> float:
    """The gap between the inner lips (points 13, 14) over the mouth's width (61, 291)."""
    points = landmarks[:, :2]
    width = float(np.linalg.norm(points[61] - points[291]))
    return float(np.linalg.norm(points[13] - points[14])) / max(width, 1e-6)


@dataclass(frozen=True)
class CleanTexture:
    """A source face ready to be worn: cropped around the face, de-lit, occluders filled."""

    image: np.ndarray
    """BGR uint8, the clean texture (the crop of the photo around the face)."""
    landmarks: np.ndarray
    """(478, 3) float32, the source's landmarks in the texture's pixels."""
    normals: np.ndarray
    """(h / NORMAL_STEP, w / NORMAL_STEP, 3) float32 normals in the face's frame (the mesh's own,
    interpolated: they turn by most of a right angle within a few pixels at the lids, the brow
    ridge, the nostrils and the lip rims)."""
    occluders: np.ndarray
    """uint8 {0, 1} (h, w): what was found in front of the face and filled."""
    face_size: float
    original: np.ndarray
    """The crop before cleaning (for side-by-side display)."""
    mouth_open: bool = False
    """The photo's mouth is open: the swapper shows the target's whole mouth instead."""
    origin: tuple[int, int] = (0, 0)
    """Where the texture's top-left pixel is in the photo."""
    glasses: SourceGlasses | None = None
    """The photo's own glasses (filled in `image`), None when it has none."""
    moustache: bool = False
    """The face has a moustache (faces/brows.has_moustache on `image`): decided once per photo, the
    blend stage keeps its strands (brows.hair_weight) and looks for none on a clean-shaven face."""
    light_normals: np.ndarray | None = None
    """`normals` smoothed as the de-lighting smoothed them (light_normals()): the scale the photo's
    own light was taken out at, at which the swapper puts a strong target light back
    (swap/mesh.py, relight_weight)."""

    @property
    def points(self) -> np.ndarray:
        return self.landmarks[:MESH_POINTS, :2].astype(np.float32)


def _polygon_mask(shape, points_list, dilate_px: float = 0.0) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    for points in points_list:
        hull = cv2.convexHull(np.round(points[:, :2] * 16).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 1, shift=4)
    if dilate_px >= 1:
        size = int(2 * dilate_px) | 1
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    return mask


def _fill_poly(shape, points: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(points[:, :2] * 16).astype(np.int32)], 1, shift=4)
    return mask


def hand_mask(image: np.ndarray, face_size: float) -> np.ndarray:
    """uint8 {0, 1}: the hands MediaPipe Hands finds in a still picture (each hand's landmark
    hull, widened by a finger's width), zeros when there is none."""
    from realtime.faces.mediapipe_mesh import import_mediapipe

    mp = import_mediapipe()  # without sounddevice's start-up probing

    height, width = image.shape[:2]
    mask = np.zeros((height, width), np.uint8)
    with mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=2,
                                  min_detection_confidence=0.4) as hands:
        result = hands.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    for hand in result.multi_hand_landmarks or ():
        points = np.array([(p.x * width, p.y * height) for p in hand.landmark], np.float32)
        span = float(np.linalg.norm(points.max(0) - points.min(0)))
        mask |= _polygon_mask(mask.shape, [points], dilate_px=0.12 * span)
    return mask


def _features_mask(shape, landmarks: np.ndarray, face_size: float) -> np.ndarray:
    """The parts of the face that are not skin-coloured but are face: eyes, brows, lips and
    nostrils (slightly widened)."""
    top = topology()
    regions = [landmarks[r] for r in (top.right_eye, top.left_eye, top.right_eyebrow,
                                     top.left_eyebrow)]
    # Nostrils, the upper lip and the lips as one region: a moustache is the person's own.
    regions.append(np.concatenate([landmarks[list(_NOSTRILS)], landmarks[top.outer_lips]]))
    return _polygon_mask(shape, regions, dilate_px=0.02 * face_size)


def _moustache_zone(shape, landmarks: np.ndarray, face_size: float) -> np.ndarray:
    """uint8 {0, 1}: where a moustache grows: the nostrils' base to the lips, widened by
    _MOUSTACHE_REACH of the face (its ends reach past the mouth's corners and droop beside them)."""
    return _polygon_mask(shape, [np.concatenate([landmarks[list(_NOSTRILS)], landmarks[topology().outer_lips]])],
                         dilate_px=_MOUSTACHE_REACH * face_size)


def _points_mask(shape, points: np.ndarray) -> np.ndarray:
    """uint8 {0, 1}: the pixels under `points` (x, y), clipped to `shape`."""
    mask = np.zeros(shape, np.uint8)
    xy = np.round(points[:, :2]).astype(int)
    mask[np.clip(xy[:, 1], 0, shape[0] - 1), np.clip(xy[:, 0], 0, shape[1] - 1)] = 1
    return mask


def _lips_mask(shape, landmarks: np.ndarray, face_size: float) -> np.ndarray:
    """uint8 {0, 1}: the lips' outer outline, slightly widened."""
    return _polygon_mask(shape, [landmarks[topology().outer_lips]], dilate_px=0.01 * face_size)


def _not_hair(flat: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """uint8 {0, 1}: pixels of `flat` (BGR) not much darker than the `skin` pixels (bool): hair,
    brow tails and deep shadows are darker than skin; blush, lips and make-up differ in tint."""
    lightness = cv2.cvtColor(flat, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    if skin.sum() < 20:
        return np.ones(flat.shape[:2], np.uint8)
    values = lightness[skin]
    median = float(np.median(values))
    spread = max(10.0, 1.4826 * float(np.median(np.abs(values - median))))
    return (lightness >= median - _HAIR_DISTANCE * spread).astype(np.uint8)


def skin_mismatch(lab: np.ndarray, samples: np.ndarray, candidates: np.ndarray,
                  distance_limit: float = _SKIN_DISTANCE) -> np.ndarray:
    """uint8 {0, 1} over `candidates`: pixels whose LAB colour is far from the skin samples'
    (median and robust spread per channel; `distance_limit` spreads)."""
    median = np.median(samples, axis=0)
    spread = 1.4826 * np.median(np.abs(samples - median), axis=0)
    spread = np.maximum(spread, np.array([10.0, 3.0, 3.0]))
    distance = np.sqrt((((lab.astype(np.float32) - median) / spread) ** 2).sum(axis=2))
    return ((distance > distance_limit) & (candidates > 0)).astype(np.uint8)


def _mirror(image: np.ndarray, landmarks: np.ndarray, grid_step: int = 4) -> np.ndarray:
    """`image` with each point of the face replaced by its mirror partner's pixel (the same
    mesh point across the midline), over the whole picture; the warp evaluated every `grid_step`
    pixels (swap/eyes.even_eyes draws it at every pixel)."""
    from realtime.swap.mesh import MIRROR

    height, width = image.shape[:2]
    points = landmarks[:MESH_POINTS, :2].astype(np.float32)
    flipped_points = points[MIRROR].copy()
    flipped_points[:, 0] = width - 1 - flipped_points[:, 0]
    maps = piecewise_affine_maps(points, flipped_points, topology().triangles, (0, 0, width, height),
                                 grid_step=grid_step)
    return maps.remap(cv2.flip(image, 1))


def fit_photo_light(colours: np.ndarray, normals: np.ndarray,
                    weights: np.ndarray | None = None) -> tuple[float, float]:
    """(side, top): the photo's first-order light at skin points, as the x and y terms over the
    even light (ambient plus light along the view axis), in luminance.

    Robust where a least-squares fit of the colours is pulled: each point is weighted by how
    skin-coloured it is (its chromaticity, which shading does not change, against the skin's
    median: hair, a beard, a sideburn, the background differ), by how far it is from the face's
    rim (|normal x| over 0.5 is where hair and background reach in), and by its residual
    (iteratively reweighted, Cauchy, from several starts), so a strong side light needs
    consistent evidence over the skin (a ridge on the side term as well under-corrected a known
    side light: 0.375 read as 0.32; this reads 0.36). Luminance only: fitting per channel gave
    each channel its own side term (s7: 0.55 / 0.46 / 0.24) and dividing them out left coloured
    (grey, bluish) patches on the shadowed cheek."""
    values = colours.astype(np.float64)
    lum = values @ _LUMA
    count = len(lum)
    weight = np.ones(count) if weights is None else np.asarray(weights, np.float64).copy()
    if count < 12 or weight.sum() < 12:
        return 0.0, 0.0
    chroma = values / np.maximum(values.sum(axis=1, keepdims=True), 1.0)
    median = np.median(chroma[weight > 0], axis=0)
    spread = np.maximum(1.4826 * np.median(np.abs(chroma[weight > 0] - median), axis=0), 0.008)
    distance = np.sqrt((((chroma - median) / spread) ** 2).sum(axis=1))
    weight *= 1.0 / (1.0 + (distance / 3.0) ** 4)
    x, y, z = (normals[:, k].astype(np.float64) for k in range(3))
    weight *= np.clip((0.85 - np.abs(x)) / 0.35, 0.0, 1.0)
    basis = np.stack([np.ones(count), x, y, z], axis=1)

    def reweighted(start: np.ndarray) -> tuple[np.ndarray, float]:
        """IRLS (Cauchy, residuals relative to the mean lightness) from the points in `start`;
        the coefficients and their robust loss over all points."""
        robust = start.astype(np.float64)
        coeffs = np.zeros(4)
        for _ in range(6):
            total = weight * robust
            if total.sum() < 12:
                return coeffs, np.inf
            gram = basis.T @ (basis * total[:, None])
            coeffs = relight._solve(gram, (basis * total[:, None]).T @ lum[:, None])[:, 0]
            residual = (lum - basis @ coeffs) / max(float(np.average(lum, weights=total)), 1.0)
            robust = 1.0 / (1.0 + (residual / _DELIGHT_SPREAD) ** 2)
        return coeffs, float((weight * np.log1p((residual / _DELIGHT_SPREAD) ** 2)).sum())

    # Several starts, each leaving out one side, the top or the bottom of the face (where hair,
    # a sideburn or a beard would lie): least squares from all points is pulled by a band of
    # dark hair down one side (Hopper, lit from the front, with one painted on: side term 0.5
    # by least squares, 0.27 here; tests/test_swap_delight.py), and reweighting alone does not
    # recover from a pulled start. The start whose end fits the face best (lowest robust loss)
    # wins.
    starts = [np.ones(count, bool), x > -0.45, x < 0.45, y > -0.4, y < 0.4]
    coeffs = min((reweighted(start) for start in starts), key=lambda fit: fit[1])[0]
    even = coeffs[0] + coeffs[3] * float(np.average(z, weights=weight))
    even = max(even, 1.0)
    return float(coeffs[1] / even), float(coeffs[2] / even)


def balance_sides(flat: np.ndarray, landmarks: np.ndarray, face_size: float, oval: np.ndarray,
                  exclude: np.ndarray) -> np.ndarray:
    """float32 BGR: `flat` (float32 BGR) with the light and tint that differ between the two
    sides of the face taken out: each point's low-frequency lightness is brought to the
    geometric mean of its own and its mirror partner's (the same mesh point across the
    midline), its low-frequency chroma (LAB a, b) to their mean, so only the even (left-right
    symmetric) shading stays: the face's own relief.

    The first-order light over the mesh normals (fit_photo_light) cannot follow a light that is
    not a smooth function of the normals, nor a tint: a hand-coloured print tinted one cheek
    pinker, and the de-lighting lightened the other to grey (s12: a pink and a grey half with a
    straight boundary beside the nose); one side left darker than the other, the mirror fills
    and the membranes then met the skin a level off (s42's temples, s9's far cheek). The mirror
    partner sees the same face under the other side of the light, so the ratio of the two is
    the side light itself, with no model of the light. The correction is nil on the midline and
    continuous everywhere (both low-passes are smooth and the mirror warp is piecewise linear):
    no step. Measured on skin only: `exclude` (eyes, brows, lips, nostrils, occluders) and
    whatever is not skin-coloured (a dark band of hair or a hard cast shadow the occluder search
    left is not side light: Hopper with a painted lock of hair down one cheek had that side
    brightened by half), and their mirror images; each side's level spread into the rest by
    push-pull. Fine detail (pores, wrinkles, the features) is the photo's own."""
    from realtime.faces.pose import head_pose

    # A turned head's far side is foreshortened and partly hidden behind the nose: its mesh
    # points lie on the nose or the near cheek's edge, and the mirror partner is no longer the
    # same skin (s10, 34 degrees: the near cheek was compared with the nose). Full strength up
    # to _BALANCE_YAW, none beyond _BALANCE_YAW + 10 degrees.
    strength = float(np.clip((_BALANCE_YAW + 10.0 - abs(head_pose(landmarks)[0])) / 10.0, 0.0, 1.0))
    shape = flat.shape[:2]
    if strength <= 0.0:
        return flat
    lab = cv2.cvtColor(np.clip(flat, 0, 255) / 255.0, cv2.COLOR_BGR2LAB)
    xy = np.round(landmarks[relight.skin_points(), :2]).astype(int)
    xy[:, 0] = np.clip(xy[:, 0], 0, shape[1] - 1)
    xy[:, 1] = np.clip(xy[:, 1], 0, shape[0] - 1)
    # On skin_mismatch's 8-bit LAB scale.
    lab8 = lab * np.array([255.0 / 100.0, 1.0, 1.0], np.float32) + np.array([0.0, 128.0, 128.0], np.float32)
    candidates = ((oval > 0) & (exclude == 0)).astype(np.uint8)
    valid = candidates & (1 - skin_mismatch(lab8, lab8[xy[:, 1], xy[:, 0]], candidates, _BALANCE_SKIN))
    valid &= (_mirror(valid * 255, landmarks) > 127).astype(np.uint8)
    if valid.sum() < 0.05 * shape[0] * shape[1]:
        return flat
    # Log-lightness (a ratio: light multiplies) and the two chroma channels (a tint adds).
    channels = np.dstack([np.log(np.maximum(lab[..., 0], 1.0)), lab[..., 1], lab[..., 2]])
    sigma = max(1.5, _BALANCE_BLUR * face_size)
    weight = valid.astype(np.float32)
    spread = cv2.GaussianBlur(weight, (0, 0), sigma)
    low = cv2.GaussianBlur(channels * weight[..., None], (0, 0), sigma) / np.maximum(spread, 1e-4)[..., None]
    low = push_pull_fill(low, (spread > 0.2).astype(np.uint8))
    shift = 0.5 * (_mirror(low, landmarks) - low)
    # A face's own slight asymmetry stays (Hopper onto herself: 30.7 dB without the balance,
    # 29.0 with all of it): only what the sides differ by beyond _BALANCE_KEEP is evened.
    lightness = shift[..., 0]
    lightness = np.sign(lightness) * np.maximum(np.abs(lightness) - _BALANCE_KEEP, 0.0)
    shift[..., 0] = np.clip(lightness, -np.log(_BALANCE_MAX), np.log(_BALANCE_MAX))
    shift[..., 1:] = np.clip(shift[..., 1:], -_BALANCE_TINT, _BALANCE_TINT)
    # Beyond the face's outline (hair, background) the correction fades out.
    fade = strength * cv2.GaussianBlur(oval.astype(np.float32), (0, 0), max(1.5, 0.02 * face_size))
    shift *= fade[..., None]
    lab[..., 0] *= np.exp(shift[..., 0])
    lab[..., 1:] += shift[..., 1:]
    return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR) * np.float32(255.0)


def light_normals(normal_map: np.ndarray, face_size: float) -> np.ndarray:
    """The normal map (at 1/NORMAL_STEP) the photo's light is divided out at and a strong target
    light is multiplied back at (swap/mesh.py, relight_weight): the side component smoothed over _DELIGHT_BLUR of the face (it flips
    across the nose's ridge within a few pixels, and a ratio that follows it left a step down the
    nose's flank), the up/down one over _DELIGHT_BLUR_TOP (the lower lip and the chin face down
    within a short distance; smoothed as widely, the lower lip kept its dark underside: a dark
    line against a target's open mouth, s42 on d3, 3.6 levels).

    The relight used the raw map before (s22): the mesh's interpolated normals turn by most of a
    right angle within a few pixels at the lids, the brow ridge, the nostrils and the lip rims,
    so a light from above (d3: top term 0.42 of the even light) drew thin dark bands in the worn
    face's sockets and under its nose and lip, over the photo's own shade at that scale, which
    the de-lighting leaves in. s42 on d3: dlib distance 0.516 -> 0.468 in process (6 frames);
    the room's light at the scale of the cheeks, forehead and nose is unchanged."""
    normals = normal_map.copy()
    for axis, width in ((0, _DELIGHT_BLUR), (1, _DELIGHT_BLUR_TOP)):
        normals[..., axis] = cv2.GaussianBlur(normal_map[..., axis], (0, 0),
                                              max(0.5, width * face_size / NORMAL_STEP))
    return normals


def photo_shading(normal_map: np.ndarray, side: float, top: float) -> np.ndarray:
    """(h, w) float32: the photo's directional shading (fit_photo_light) at each normal, as a
    ratio to its even light, softly limited: log(1 + side x + top y) compressed by tanh, so it
    has no plateau and no corner where a clip would begin."""
    n = normal_map.astype(np.float32)
    ratio = 1.0 + np.float32(side) * n[..., 0] + np.float32(top) * n[..., 1]
    log_ratio = np.log(np.maximum(ratio, np.float32(0.2)))
    return np.exp(_DELIGHT_SOFT * np.tanh(log_ratio / _DELIGHT_SOFT)).astype(np.float32)


def skin_noise(image: np.ndarray, landmarks: np.ndarray) -> float:
    """The picture's noise on the skin (grey levels): the robust spread of its finest band
    (the picture minus its 1-px Gaussian blur) at the mesh's skin points."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    fine = grey - cv2.GaussianBlur(grey, (0, 0), 1.0)
    xy = np.round(landmarks[relight.skin_points(), :2]).astype(int)
    xy[:, 0] = np.clip(xy[:, 0], 0, image.shape[1] - 1)
    xy[:, 1] = np.clip(xy[:, 1], 0, image.shape[0] - 1)
    values = fine[xy[:, 1], xy[:, 0]]
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def denoise_with_relief(image: np.ndarray, landmarks: np.ndarray, face_size: float) -> tuple[np.ndarray, np.ndarray]:
    """(denoised, denoised with the photo's relief kept: the same object when none is kept).
    The source's own grain, film noise, halftone or craquelure taken out (non-local means,
    strength from the noise measured on its skin). The worn face gets the target camera's
    finest band instead (blend/detail.py); the source's grain, enlarged onto a bigger face,
    read as grey speckles (an old photo) or cracks (a painting). A clean photo (noise under
    NOISE_FLOOR levels) is left as it is. At strengths from RELIEF_FROM to under DENOISE_MAX (film
    grain), only the denoiser's change below DENOISE_KEEP_ABOVE is kept inside the face oval
    (faded in over RELIEF_EDGE): the photo's relief above the grain's scale is the photo's own."""
    noise = skin_noise(image, landmarks)
    if noise < NOISE_FLOOR:
        return image, image
    strength = float(min(DENOISE_MAX, DENOISE_GAIN * noise))
    # Search window in proportion to the face: about 5% of it, at least the default 21 px.
    window = max(21, int(0.05 * face_size) | 1)
    # Tried and left out in session 32: a painting's cracks filled first and h 4 (s32-denoise: no
    # specks in the nostrils, but her cheeks' paint patches came back with edges on d10 and d14,
    # sharpness on d14 1.32).
    denoised = cv2.fastNlMeansDenoisingColored(image, None, strength, strength, 5, window)
    if not RELIEF_FROM <= strength < DENOISE_MAX:
        return denoised, denoised
    # Its grain taken, not its relief: the photo above DENOISE_KEEP_ABOVE, the denoised below,
    # inside the face oval, faded in over its outer RELIEF_EDGE.
    original, clean = image.astype(np.float32), denoised.astype(np.float32)
    kept = cv2.GaussianBlur(original - clean, (0, 0), max(1.0, DENOISE_KEEP_ABOVE * face_size))
    oval = _fill_poly(image.shape[:2], landmarks[topology().face_oval])
    depth = cv2.distanceTransform(oval, cv2.DIST_L2, 5) / max(RELIEF_EDGE * face_size, 1.0)
    weight = np.clip(depth, 0.0, 1.0).astype(np.float32)
    kept *= (weight * weight * (3 - 2 * weight))[..., None]
    return denoised, np.clip(clean + kept + 0.5, 0, 255).astype(np.uint8)


def unblotch(denoised: np.ndarray, original: np.ndarray, landmarks: np.ndarray, face_size: float) -> np.ndarray:
    """`denoised` (denoise's output for `original`) without the clumps non-local means leaves
    in two places of a grainy photo (where it ran at UNBLOTCH_FROM or stronger):
    - down the sides of the nose (shadows.nose_shade_zone): a soft side-lit shade with the
      photo's grain on it came out as a chain of dark dashes (the denoiser averages a patch
      only with patches like it, so the grain's darker runs stay darker), which the de-lighting
      then set off against a lighter cheek: "a dark, blotchy smudge up the side of the nose",
      s12 on d9, d13, d14. There the denoised picture is smoothed over NOSE_SMOOTH of the face:
      the shade's lightness stays, its blotches go;
    - over a moustache's hair (faces/brows.has_moustache; its dark pixels in _moustache_zone,
      grown by HAIR_GROW): the strands, which look like one another, were averaged into dark
      clumps with a speckled rim, "a solid pasted patch". There the photo's own pixels come back:
      its strands are its finest band, which the worn face keeps over the hair
      (brows.hair_weight) while the skin beside it takes the camera's grain (blend/detail.py).
    benchmarks/results/s29-s12nose."""
    if denoised is original or min(DENOISE_MAX, DENOISE_GAIN * skin_noise(original, landmarks)) < UNBLOTCH_FROM:
        return denoised
    shape = original.shape[:2]
    out = denoised.astype(np.float32)
    zone = nose_shade_zone(shape, landmarks, face_size)
    if zone is not None:
        x0, y0, weight = zone
        y1, x1 = y0 + weight.shape[0], x0 + weight.shape[1]
        # Blurred over the zone's rectangle grown by three sigmas (no edge effect inside it).
        sigma = max(0.8, NOSE_SMOOTH * face_size)
        pad = int(np.ceil(3 * sigma))
        ya, yb, xa, xb = max(0, y0 - pad), min(shape[0], y1 + pad), max(0, x0 - pad), min(shape[1], x1 + pad)
        smooth = cv2.GaussianBlur(out[ya:yb, xa:xb], (0, 0), sigma)[y0 - ya:y1 - ya, x0 - xa:x1 - xa]
        part = out[y0:y1, x0:x1]
        part += weight[..., None] * (smooth - part)
    from realtime.faces.brows import has_moustache

    if has_moustache(denoised, landmarks, face_size):
        weight = moustache_hair(denoised, landmarks, face_size)[..., None]
        out += weight * (original.astype(np.float32) - out)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def moustache_hair(picture: np.ndarray, landmarks: np.ndarray, face_size: float) -> np.ndarray:
    """float32 (h, w) 0..1 over `picture` (BGR, a source photo or its clean texture; `landmarks` in
    its pixels): its moustache's hair, the pixels in _moustache_zone darker than the skin
    (_not_hair), grown by HAIR_GROW of the face (the strands' light gaps and fringe) and faded."""
    shape = picture.shape[:2]
    skin = _points_mask(shape, landmarks[relight.skin_points()]) > 0
    hair = _moustache_zone(shape, landmarks, face_size) & (1 - _not_hair(picture, skin))
    grow = max(1, int(round(HAIR_GROW * face_size)))
    hair = cv2.dilate(hair, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))
    return cv2.GaussianBlur(hair.astype(np.float32), (0, 0), max(1.0, 0.5 * grow))


def _match_border(flat: np.ndarray, fill: np.ndarray, region: np.ndarray, known: np.ndarray,
                  face_size: float) -> np.ndarray:
    """`fill` (float32) plus a smooth correction membrane: the difference between `flat` and
    `fill` measured on the kept pixels (`known`) along `region`'s border and spread inwards
    (normalised convolution over 8% of the face), so the fill meets its surroundings' level."""
    grow = max(3, int(0.02 * face_size) | 1)
    band = cv2.dilate(region.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
    band = (band > 0) & known
    if not band.any():
        return fill
    weight = band.astype(np.float32)
    difference = (flat.astype(np.float32) - fill) * weight[..., None]
    spread_sigma = max(2.0, 0.08 * face_size)
    spread = cv2.GaussianBlur(weight, (0, 0), spread_sigma)
    membrane = cv2.GaussianBlur(difference, (0, 0), spread_sigma) / np.maximum(spread, 1e-4)[..., None]
    return fill + membrane


def _match_seam(flat: np.ndarray, fill: np.ndarray, region: np.ndarray, known: np.ndarray,
                face_size: float) -> np.ndarray:
    """`fill` (float32) with its low frequencies replaced by the smoothest membrane (push-pull,
    fill.push_pull_fill) of the kept skin's level right along `region`'s border: its detail (the
    mirror's pores, the membrane's nothing) on the border's level, continued inwards, a
    seamless (Poisson-like) join. _match_border's correction is an average over 8% of the face,
    so where the border's level changes faster than that (a shadowed rim beside a lit cheek, the
    temple under hair beside the brow) the fill met it a level too light or too dark: an outline
    of another tone (s42's temples, s10's far cheek); and a fill's own level (a membrane of the
    skin further in, the other cheek's lit rim) rose again away from a border darkened by the
    face's rounding: a dark line between two lighter sides (s9's cheek contour). The border's
    level is taken over a short distance (_SEAM_BLUR of the face), so pores and single dark
    pixels there do not become streaks across the fill."""
    grow = max(3, int(_SEAM_BAND * face_size) | 1)
    band = cv2.dilate(region.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
    band = (band > 0) & known
    if not band.any():
        return fill
    weight = band.astype(np.float32)
    sigma = max(1.0, _SEAM_BLUR * face_size)
    spread = cv2.GaussianBlur(weight, (0, 0), sigma)
    level = cv2.GaussianBlur(flat.astype(np.float32) * weight[..., None], (0, 0), sigma) / \
        np.maximum(spread, 1e-4)[..., None]
    # Met exactly at the border, the fill's own level inside (an exact seam: the smoothest
    # correction membrane of the difference along the border) ...
    seamless = fill + push_pull_fill(level - fill, band.astype(np.uint8))
    # ... or the border's level continued inwards with the fill's detail on it.
    base = cv2.GaussianBlur(push_pull_fill(level, band.astype(np.uint8)), (0, 0), sigma)
    detail_sigma = max(1.5, _SEAM_DETAIL * face_size)
    continued = fill - cv2.GaussianBlur(fill, (0, 0), detail_sigma) + base
    return seamless + _SEAM_CONTINUE * (continued - seamless)


def fill_occluders(flat: np.ndarray, landmarks: np.ndarray, occluders: np.ndarray,
                   oval: np.ndarray, mouth: np.ndarray, face_size: float,
                   mirror_yaw: float = 20.0, skin: np.ndarray | None = None,
                   features: np.ndarray | None = None) -> np.ndarray:
    """`flat` (BGR uint8) with the `occluders` filled: from the mirror image of the face where
    the other side is clean skin, a smooth membrane from the skin around (fill.push_pull_fill)
    elsewhere; the fill fades into the kept pixels over a soft edge (no step anywhere: the fill
    before, Telea inpainting at 256 px and a 3-px fade, left blocks with straight edges in s42's
    temple hair and a curved step down s10's shadowed cheek). `skin` (uint8 {0, 1}, optional):
    the kept pixels that are skin-coloured, the only ones the membrane is made from; `features`
    (uint8 {0, 1}, optional): what the fade stays out of (the lips and nostrils)."""
    if not occluders.any():
        return flat
    from realtime.faces.pose import head_pose

    occluded = occluders > 0
    # Only the skin is a source: not the occluders, nor anything beyond the face's outline (the
    # hair and background just outside it would be smeared inwards).
    known = (~occluded) & (oval > 0)
    # The membrane from skin only: hair strands and brow tails the occluder search left (too
    # thin, or face) darkened it into soft blotches (s42's temples). (Made from all the kept
    # pixels near the border instead, it carried a shadowed cheek's dark rim inwards as a dark
    # band along the fill's outline, s10; the soft edge below takes the kept pixels' level.)
    sources = known if skin is None else known & (skin > 0)
    fill = push_pull_fill(flat, (sources if sources.any() else known).astype(np.uint8))
    sigma = max(1.5, _FILL_FEATHER * face_size)
    reach = max(3, int(4 * sigma) | 1)
    mirror_share: np.ndarray | float = 0.0
    lips = _lips_mask(flat.shape[:2], landmarks, face_size) > 0
    lips_soft = cv2.GaussianBlur(lips.astype(np.float32), (0, 0), sigma)[..., None]
    if abs(head_pose(landmarks)[0]) <= mirror_yaw:
        mirrored = _mirror(flat, landmarks).astype(np.float32)
        # A mirrored pixel is usable where it is skin: not an occluder on the other side, inside
        # the other side's outline, not the mouth (its other side is no cleaner).
        usable = (_mirror(occluders * 255, landmarks) < 128) & (_mirror(oval * 255, landmarks) > 127) & \
            (mouth == 0)
        if skin is not None:
            # Nor hair the occluder search left on the other side (s42's temples): what is much
            # darker than the skin. Only darker: a partner that is skin-coloured in lightness but
            # not in tint (a blushed cheek, the lips, an iris's rim) is the face's own and is
            # its best fill. (Tested on the full colour, a hand over one side of the mouth left
            # half the lips filled with beige skin and a grey membrane blob on the cheek where
            # the other cheek is blushed: worn on every frame, benchmarks/assets'
            # source_hand_cheek.jpg.)
            # The lips (their dark parting line included) mirror onto their own other half. (Not
            # the eyes and brows: let through, s42's eye corner and brow tail were mirrored into
            # her hair-covered temple's fill, a sharper outline, test_swap_source_glasses.)
            usable &= (_mirror(_not_hair(flat, known & (skin > 0)) * 255, landmarks) > 127) | lips
        region = occluded & usable
        if region.any():
            # The mirrored side may be a little lighter or darker than its new surroundings (the
            # de-lighting is not perfect): taken to their level along the border.
            mirrored = _match_border(flat, mirrored, region, sources if sources.any() else known,
                                     face_size)
            # The mirror's share falls smoothly to zero before its usable part ends (a hard
            # switch between mirror and membrane was a visible outline).
            inside = cv2.erode(usable.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach, reach)))
            share = cv2.GaussianBlur(inside.astype(np.float32), (0, 0), sigma)[..., None]
            fill = fill + share * (mirrored - fill)
            mirror_share = share
    # The membrane from skin only is lighter than a shadowed border (s10's far cheek) or darker
    # than a bright one: taken to the kept pixels' level along its border too, so the soft edge
    # below fades only their fine texture, not a level (a level fading over it read as a
    # lighter patch's soft outline, and steepened the de-lighting's change: s12 3.9 per face).
    # Matched to the kept skin only: hair the occluder search left just outside the fill (s42's
    # temples, where the face's outline runs under the hair) pulled the fill's level down to a
    # grey-brown patch with an outline.
    matched = sources if sources.any() else known
    if (occluded & lips).any() and (known & lips).any():
        # Lips the mirror cannot give (both halves covered near the midline, or a head too
        # turned to mirror) are filled from the lips left uncovered, not from skin: the skin
        # membrane drew a beige wedge down through the mouth.
        # (Telea's inpainting, tried, did not carry the parting line across either and left a
        # lighter column with edges.)
        own = push_pull_fill(flat, (known & lips).astype(np.uint8))
        fill = fill + lips_soft * (1.0 - mirror_share) * (own - fill)
    unmatched = fill
    fill = _match_border(flat, fill, occluded, matched, face_size)
    fill = _match_seam(flat, fill, occluded, matched, face_size)
    if (occluded & lips).any():
        # The lips keep their own level: matched to the skin's along the fill's border, the
        # mirrored or lip-filled half turned to a pale smudge beside the uncovered half.
        fill = fill + lips_soft * (unmatched - fill)
    # Soft edges: the fill covers the occluders fully and fades into the kept pixels outside
    # them over a few sigma.
    covered = cv2.dilate(occluders, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach, reach)))
    alpha = cv2.GaussianBlur(covered.astype(np.float32), (0, 0), sigma)
    if features is not None:
        # Not into the lips and nostrils beside an occluder: the fade lightened the
        # corner of s12's lips next to a speck under his moustache (a line against d3's open
        # mouth, 3 -> 5.4 levels).
        alpha *= 1.0 - cv2.GaussianBlur(features.astype(np.float32), (0, 0), sigma)
    alpha = np.maximum(alpha, occluded.astype(np.float32))
    # Beyond the face's outline (never worn, but shown in the GUI's source panel) the fill fades
    # out within a short ring instead of spreading skin over the hair.
    outline = cv2.dilate(oval, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach, reach)))
    alpha = (alpha * cv2.GaussianBlur(outline.astype(np.float32), (0, 0), sigma))[..., None]
    blended = flat.astype(np.float32) + alpha * (fill - flat.astype(np.float32))
    return np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def _lighter_than_around(image: np.ndarray, face_size: float) -> np.ndarray:
    """int16: each pixel's grey level above its neighbourhood's median (7% of the face): glare."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    window = max(3, int(0.07 * face_size) | 1)
    return grey.astype(np.int16) - cv2.medianBlur(grey, window).astype(np.int16)


def _glasses_leftovers(occluders: np.ndarray, glasses: np.ndarray, original: np.ndarray,
                       face_size: float) -> np.ndarray:
    """uint8 {0, 1}: what the fill around the photo's glasses left as it was: the lenses' glare
    (spots lighter than their neighbourhood's median by _GLARE grey levels, within _GLARE_REACH
    of the frames) and the small holes (under _GLASSES_HOLE of the face, squared) that
    `occluders` encloses next to the frames. Kept among the smooth fill, Hopper's were white
    specks 26-50 grey levels above it below her eyes."""
    grow = max(3, int(_GLARE_REACH * face_size) | 1)
    reach = cv2.dilate(glasses, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
    spots = ((_lighter_than_around(original, face_size) > _GLARE) & (reach > 0)).astype(np.uint8)
    spot_grow = max(3, int(0.012 * face_size) | 1)
    occluders = occluders | cv2.dilate(spots, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (spot_grow, spot_grow)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(1 - occluders, connectivity=4)
    height, width = occluders.shape
    x, y = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    small = (stats[:, cv2.CC_STAT_AREA] < (_GLASSES_HOLE * face_size) ** 2) & (x > 0) & (y > 0) & \
        (x + stats[:, cv2.CC_STAT_WIDTH] < width) & (y + stats[:, cv2.CC_STAT_HEIGHT] < height)
    near = np.zeros(count, bool)
    near[np.unique(labels[reach > 0])] = True
    small[0] = False
    return occluders | (small & near)[labels].astype(np.uint8)


def _level_through_lenses(clean: np.ndarray, flat: np.ndarray, original: np.ndarray,
                          occluders: np.ndarray, glasses: SourceGlasses, face_size: float) -> np.ndarray:
    """`clean` with the lightness of its fill over the glasses taken to the level of the skin
    seen through them: the membrane is made from the skin around the frames (the cheeks below
    the rims' shadow, the temples) and came out 5-6 L* darker than Hopper's skin under her
    lenses (a grey-brown patch under each eye, her lit nose ridge left as a pale triangle
    between them). The level is the photo's own (de-lit) skin between the rims and creases
    (pixels without rim evidence, not glare), low-passed over _LENS_LEVEL_BLUR of the face;
    only the lightness, as a gain limited to _LENS_GAIN either way, the fill's detail kept."""
    from realtime.swap.source_glasses import rim_evidence

    region = (occluders > 0) & (cv2.dilate(glasses.mask, np.ones((5, 5), np.uint8)) > 0)
    if not region.any():
        return clean
    seen = region & (rim_evidence(original, face_size) < _LENS_SEEN) & \
        (_lighter_than_around(original, face_size) < _GLARE)
    sigma = max(2.0, _LENS_LEVEL_BLUR * face_size)
    weight = seen.astype(np.float32)
    support = cv2.GaussianBlur(weight, (0, 0), sigma)
    flat_l = cv2.cvtColor(flat, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    clean_l = cv2.cvtColor(clean, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    target = cv2.GaussianBlur(flat_l * weight, (0, 0), sigma) / np.maximum(support, 1e-4)
    area = region.astype(np.float32)
    current = cv2.GaussianBlur(clean_l * area, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(area, (0, 0), sigma), 1e-4)
    gain = np.clip(target / np.maximum(current, 1.0), 1.0 / _LENS_GAIN, _LENS_GAIN)
    # Where too little skin is seen nearby, nothing; faded in over the region's edge.
    trust = np.clip(support / 0.2, 0.0, 1.0)
    soft = cv2.GaussianBlur(area, (0, 0), max(1.0, 0.01 * face_size)) * trust
    gain = 1.0 + soft * (gain - 1.0)
    return np.clip(clean.astype(np.float32) * gain[..., None] + 0.5, 0, 255).astype(np.uint8)


def _ridge_between_lenses(clean: np.ndarray, occluders: np.ndarray, glasses: SourceGlasses,
                          landmarks: np.ndarray, face_size: float) -> np.ndarray:
    """`clean` with the kept skin of the nose ridge between the glasses' lenses given the tint
    of the fill over the lenses on either side (_RIDGE_TINT; its lightness kept). Weighted by how
    much fill lies on both sides (the ridge between the lenses, fading down the nose), within a
    band along the ridge (168 -> 4) as wide as 60% of the inner eye corners' gap; the ridge's
    finer detail is kept (its tint's low frequencies only are moved)."""
    region = ((occluders > 0) & (cv2.dilate(glasses.mask, np.ones((5, 5), np.uint8)) > 0)).astype(np.float32)
    if not region.any():
        return clean
    shape = clean.shape[:2]
    top, tip = landmarks[168, :2], landmarks[4, :2]
    gap = float(np.linalg.norm(landmarks[133, :2] - landmarks[362, :2]))
    band = np.zeros(shape, np.uint8)
    cv2.line(band, tuple(int(round(v)) for v in top), tuple(int(round(v)) for v in tip), 1,
             max(1, int(round(0.6 * gap))))
    kept = (band > 0) & (occluders == 0)
    if not kept.any():
        return clean
    lab = cv2.cvtColor(clean.astype(np.float32) / 255.0, cv2.COLOR_BGR2LAB)
    sigma = max(2.0, 0.05 * face_size)
    support = cv2.GaussianBlur(region, (0, 0), sigma)
    fill = cv2.GaussianBlur(lab * region[..., None], (0, 0), sigma) / np.maximum(support, 1e-4)[..., None]
    ridge_w = kept.astype(np.float32)
    ridge_support = cv2.GaussianBlur(ridge_w, (0, 0), 0.5 * sigma)
    ridge = cv2.GaussianBlur(lab * ridge_w[..., None], (0, 0), 0.5 * sigma) / \
        np.maximum(ridge_support, 1e-4)[..., None]
    # Both lenses near: the fill around the pixel on its left and on its right.
    half = max(3, int(gap))
    left = cv2.GaussianBlur(np.roll(region, half // 2, axis=1), (0, 0), sigma)
    right = cv2.GaussianBlur(np.roll(region, -(half // 2), axis=1), (0, 0), sigma)
    weight = np.clip(np.minimum(left, right) / 0.25, 0.0, 1.0)
    soft = cv2.GaussianBlur(kept.astype(np.float32), (0, 0), max(1.0, 0.01 * face_size)) * kept
    weight *= _RIDGE_TINT * soft
    shift = fill - ridge
    shift[..., 0] = 0.0
    lab += weight[..., None] * shift
    out = np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2BGR) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.where((weight > 1e-3)[..., None], out, clean)


def _fill_to_skin_level(clean: np.ndarray, occluders: np.ndarray, glasses: SourceGlasses, oval: np.ndarray,
                        features: np.ndarray, face_size: float) -> np.ndarray:
    """`clean` with the fill over the glasses' lenses lifted where it is darker than the skin
    around the face (_LENS_FILL_DEPTH under its level, a gain of at most _LENS_FILL_MAX; never
    darkened). The membrane takes its level from the fill's border, which below each eye is the
    lower lid and the rim's shadow: Hopper's fill was 8-10 L* darker there than her cheek below
    it, worn as dark under-eyes (9-13 L* darker than the demo's own). The skin's level: the kept
    skin (not filled, not eyes, brows, lips or nostrils, without its darker outliers) over
    _LENS_FILL_AROUND of the face; the fill's own over _LENS_FILL_OWN. Its detail is kept (a gain)."""
    region = ((occluders > 0) & (cv2.dilate(glasses.mask, np.ones((5, 5), np.uint8)) > 0)).astype(np.float32)
    skin = (oval > 0) & (occluders == 0) & (features == 0)
    if not region.any() or skin.sum() < 100:
        return clean
    grey = cv2.cvtColor(clean, cv2.COLOR_BGR2GRAY).astype(np.float32)

    def level(weights: np.ndarray, sigma: float) -> np.ndarray:
        return cv2.GaussianBlur(grey * weights, (0, 0), sigma) / \
            np.maximum(cv2.GaussianBlur(weights, (0, 0), sigma), 1e-4)

    wide = max(3.0, _LENS_FILL_AROUND * face_size)
    around = level(skin.astype(np.float32), wide)
    around = level((skin & (grey > (1.0 - 0.15) * around)).astype(np.float32), wide)
    own = level(region, max(1.5, _LENS_FILL_OWN * face_size))
    gain = np.clip((1.0 - _LENS_FILL_DEPTH) * around / np.maximum(own, 1.0), 1.0, _LENS_FILL_MAX)
    soft = cv2.GaussianBlur(region, (0, 0), max(1.0, 0.01 * face_size)) * region
    gain = 1.0 + soft * (gain - 1.0)
    gain = cv2.GaussianBlur(gain, (0, 0), max(1.0, 0.006 * face_size))
    return np.clip(clean.astype(np.float32) * gain[..., None] + 0.5, 0, 255).astype(np.uint8)


def _soften_creases(clean: np.ndarray, local: np.ndarray, face_size: float,
                    oval: np.ndarray) -> np.ndarray:
    """`clean` with the lower face's creases deeper than a real fold's softened to shading.

    An old face's nasolabial folds and marionette lines (Hopper's) are soft shading with fine
    wrinkles in the photo; the denoising (non-local means, strength 8.6 on her JPEG) flattened
    the shading and kept each fold's edge, a 1-2 px line 85-124 grey levels under the skin
    beside it (a black-hat over 4% of the face), worn as black cut lines from the nose to the
    chin (the colour transfer then stretched them further: 32 -> 44 L* on the demo). What is
    deeper than _CREASE_DEPTH is taken off the line and put back spread over _CREASE_SPREAD of
    the face: the same darkness, as a groove's shading. Below the eyes only; not the lips,
    nostrils, upper lip or nose (their dark edges are the face's own), nor a face with a
    moustache."""
    from realtime.faces.brows import has_moustache

    # Not on a face with facial hair: the dark edges of s12's moustache and beard are 60-100
    # deep (the hair test, _not_hair, also takes Hopper's folds for hair: not usable here).
    if has_moustache(clean, local, face_size):
        return clean
    grey = cv2.cvtColor(clean, cv2.COLOR_BGR2GRAY).astype(np.float32)
    size = max(3, int(_CREASE_WIDTH * face_size) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    shape = grey.shape
    top = topology()
    _, keep, _ = shadow_zones(shape, local, face_size)
    below = np.arange(shape[0])[:, None] > local[np.concatenate([top.right_eye, top.left_eye]), 1].max() + 0.05 * face_size
    zone = (cv2.erode(oval, kernel) > 0) & (keep == 0) & below
    if not zone.any():
        return clean
    zone &= _polygon_mask(shape, [local[list(_NOSE_ZONE)]], dilate_px=0.02 * face_size) == 0
    depth = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel)
    excess = np.where(zone, np.maximum(depth - _CREASE_DEPTH, 0.0), 0.0).astype(np.float32)
    # Only the lines that reach _CREASE_BLACK somewhere (hysteresis): a freckle, a nose rim, a
    # beard's edge or a mouth corner's shade on the other photos (s7, s9, s10, s12: 30-60 deep)
    # are the face's own.
    count, labels = cv2.connectedComponents((excess > 0).astype(np.uint8), connectivity=8)
    if count < 2:
        return clean
    black = np.unique(labels[zone & (depth > _CREASE_BLACK)])
    excess *= np.isin(labels, black[black > 0])
    if not excess.any():
        return clean
    spread = cv2.GaussianBlur(excess, (0, 0), max(1.0, _CREASE_SPREAD * face_size))
    # Added to B, G and R alike (a gain on a line at a third of the skin's grey tripled its red:
    # red lines beside the nose on the demo).
    change = (excess - spread)[..., None]
    return np.clip(clean.astype(np.float32) + change + 0.5, 0, 255).astype(np.uint8)


def _brows_above_rims(original: np.ndarray, landmarks: np.ndarray, face_size: float,
                      skin: np.ndarray) -> np.ndarray:
    """uint8 {0, 1}: the brows that show above the upper rims of the photo's glasses. The frame
    search takes the brow hairs for a rim's edge (they depart from the skin around as much as an
    amber rim), so the fill used to cover them: Hopper's face was worn without brows. Here, in the
    brow zone (the brow points widened by _BROW_REACH of the face), the rim is what is much darker
    than the skin (under _RIM_DARK of its median lightness: her black rims 17-73 of 255, her brow
    hairs 105-170, her skin 190-210), widened by _RIM_EDGE of the face (its anti-aliased edge);
    what lies above it in the same column is kept. `skin`: LAB samples of the photo's skin."""
    top = topology()
    shape = original.shape[:2]
    zone = _polygon_mask(shape, [landmarks[top.right_eyebrow, :2]], dilate_px=_BROW_REACH * face_size) | \
        _polygon_mask(shape, [landmarks[top.left_eyebrow, :2]], dilate_px=_BROW_REACH * face_size)
    if len(skin) < 20 or not zone.any():
        return np.zeros(shape, np.uint8)
    lightness = cv2.cvtColor(original, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    rim = ((lightness < _RIM_DARK * float(np.median(skin[:, 0]))) & (zone > 0)).astype(np.uint8)
    edge = max(3, int(2 * _RIM_EDGE * face_size) | 1)
    rim = cv2.dilate(rim, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (edge, edge)))
    # Above the rim: the rows over each column's first rim pixel (columns without a rim: none).
    rows = np.arange(shape[0])[:, None]
    first = np.where(rim.any(axis=0), rim.argmax(axis=0), -1)[None, :]
    return (zone & (rows < first)).astype(np.uint8)


def _hairs_back(clean: np.ndarray, denoised: np.ndarray, original: np.ndarray, region: np.ndarray,
                face_size: float) -> np.ndarray:
    """`clean` with the dark fine detail (hairs) that the denoising took out put back in `region`
    (uint8 {0, 1}; faded over its edge): the lightness ratio of the photo to its denoised copy,
    where the photo is darker (down to _HAIRS_DARKEST)."""
    grey = cv2.cvtColor(original, cv2.COLOR_BGR2GRAY).astype(np.float32)
    smooth = cv2.cvtColor(denoised, cv2.COLOR_BGR2GRAY).astype(np.float32)
    gain = np.clip((grey + 1.0) / (smooth + 1.0), _HAIRS_DARKEST, 1.0)
    soft = cv2.GaussianBlur(region.astype(np.float32), (0, 0), max(1.0, 0.004 * face_size))
    gain = 1.0 + soft * (gain - 1.0)
    return np.clip(clean.astype(np.float32) * gain[..., None] + 0.5, 0, 255).astype(np.uint8)


def make_clean_texture(image: np.ndarray, landmarks: np.ndarray, makeup: float = 0.4,
                       find_hands: bool = True, mirror_yaw: float = 20.0) -> CleanTexture:
    """The clean texture of the face at `landmarks` (478, 3) in `image` (BGR uint8)."""
    top = topology()
    points = landmarks[:, :2]
    low, high = points[:MESH_POINTS].min(axis=0), points[:MESH_POINTS].max(axis=0)
    face_size = float(np.hypot(*(high - low)))
    margin = 0.15 * face_size
    height, width = image.shape[:2]
    x0, y0 = (int(max(0, np.floor(v - margin))) for v in low)
    x1, y1 = int(min(width, np.ceil(high[0] + margin))), int(min(height, np.ceil(high[1] + margin)))
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    local = landmarks.astype(np.float32).copy()
    local[:, 0] -= x0
    local[:, 1] -= y0
    shape = crop.shape[:2]
    original = crop
    # The worn picture keeps the photo's relief; the occluder search looks at the one without it
    # (`plain`): the relief's wrinkles and modelling read as "not skin" there (Hopper's forehead
    # and brow bridge filled, 24% more occluder pixels: her brows only 9 levels under her forehead
    # instead of 17-23; s9's hair over her cheek 5% fewer pixels, its fill 4 levels darker).
    plain, crop = denoise_with_relief(crop, local, face_size)
    from realtime.faces.pose import head_pose

    # Turned beyond mirror_yaw: the swapper wears its near half mirrored on the far one (swap/mesh.py).
    mirrored = abs(head_pose(local)[0]) > mirror_yaw
    if not mirrored:
        # Not for a source the swapper wears mirrored (turned beyond mirror_yaw, swap/mesh.py): on
        # s10 the smoothed nose side left the edge of its bridge's shade column a straight step on
        # d10 (seam 3.2 -> 4.2, on the hand clip 2.8 -> 4.9 in 10 frames; session 29, s29-lead).
        unblotched = unblotch(crop, original, local, face_size)
        plain = unblotched if plain is crop else unblotch(plain, original, local, face_size)
        crop = unblotched

    raw_normals = relight.normal_map(local, shape, step=NORMAL_STEP)
    normals = light_normals(raw_normals, face_size)
    vertex_normals = relight.vertex_normals(local)
    skin = relight.skin_points()

    oval = _fill_poly(shape, local[top.face_oval])
    inner = cv2.erode(oval, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    features = _features_mask(shape, local, face_size)
    candidates = inner & (1 - features)

    # 1. Light, first pass (robust), and the de-lit picture.
    def delight(exclude: np.ndarray | None, picture: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        picture = crop if picture is None else picture
        colours = relight.sample_points(picture, local[skin], face_size)
        weights = None if exclude is None else (1 - exclude[np.clip(np.round(local[skin, 1]).astype(int), 0, shape[0] - 1),
                                                            np.clip(np.round(local[skin, 0]).astype(int), 0, shape[1] - 1)]).astype(np.float32)
        # First order only for the photo: a directional light plus ambient is what can be told
        # apart from the face's own albedo on one photo (the quadratic terms also fit make-up,
        # a tan line or a hand-coloured print, and dividing them out leaves grey patches).
        # Only the directional part (side, top/bottom) is divided out (as relight.side_shading
        # does for the target): one luminance ratio, softly limited (photo_shading).
        side, top_light = fit_photo_light(colours, vertex_normals[skin], weights)
        # At the smoothed normals (light_normals), as the target's light is put back.
        ratio = photo_shading(normals, side, top_light)
        ratio = cv2.resize(ratio, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)[..., None]
        coeffs = np.array([side, top_light])
        # No fade towards the oval's border: with the whole light divided out, a fade there
        # left a bright band across the top of the forehead (the light from above taken out
        # below the band, not in it). The directional ratio is continuous over the whole crop
        # (the normal map extends past the oval) and the mask fades the face out anyway.
        flat = picture.astype(np.float32) / ratio
        # 1b. The light and tint that differ between the sides (balance_sides).
        hidden = features if exclude is None else features | exclude
        flat = balance_sides(flat, local, face_size, oval, hidden)
        flat = np.clip(flat, 0, 255).astype(np.uint8)
        return flat, coeffs

    flat, light = delight(None)
    # What the occluder search reads: the de-lit picture without the relief.
    search = flat if plain is crop else delight(None, plain)[0]

    # 2. Occluders: the photo's own glasses, hands, then whatever is not skin-coloured. The
    # glasses are searched apart: their upper rims lie in the brow band, which the skin test
    # leaves out (brows are face), and amber or clear rims are near the skin's colour.
    occluders = np.zeros(shape, np.uint8)
    # On the photo as it is: denoising (Hopper's JPEG noise, strength 8.6) softened her amber
    # rims below the evidence threshold (coverage 58% around one eye instead of 100%).
    glasses = find_source_glasses(original, local, face_size, oval)
    if glasses is not None:
        occluders |= glasses.mask
    if find_hands:
        try:
            occluders |= hand_mask(plain, face_size) & oval
        except Exception as error:  # noqa: BLE001 - hands are a refinement; say so, go on
            log.warning("could not look for hands in the source photo (%s); a hand on the face "
                        "would be worn", error)
    lab = cv2.cvtColor(cv2.GaussianBlur(search, (0, 0), max(0.8, 0.004 * face_size)), cv2.COLOR_BGR2LAB)
    xy = np.round(local[skin, :2]).astype(int)
    xy[:, 0] = np.clip(xy[:, 0], 0, shape[1] - 1)
    xy[:, 1] = np.clip(xy[:, 1], 0, shape[0] - 1)
    samples = lab[xy[:, 1], xy[:, 0]].astype(np.float32)
    samples = samples[occluders[xy[:, 1], xy[:, 0]] == 0]
    # The skin's chroma for the lips and lids (steps 4, 5) read off the worn picture.
    worn_lab = lab if search is flat else \
        cv2.cvtColor(cv2.GaussianBlur(flat, (0, 0), max(0.8, 0.004 * face_size)), cv2.COLOR_BGR2LAB)
    tone_samples = worn_lab[xy[:, 1], xy[:, 0]].astype(np.float32)[occluders[xy[:, 1], xy[:, 0]] == 0]
    if len(samples) > 20:
        mismatch = skin_mismatch(lab, samples, candidates)
        small = max(3, int(0.01 * face_size) | 1)
        mismatch = cv2.morphologyEx(mismatch, cv2.MORPH_OPEN,
                                    cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (small, small)))
        # A moustache is the person's own, also where it reaches past the lips' corners: dark
        # pixels beside the mouth are hair, not an occluder (s12's moustache end drooping past
        # his mouth's corner was filled with cheek: a square-cut dark block on every target).
        moustache = _moustache_zone(shape, local, face_size) & \
            (1 - _not_hair(search, _points_mask(shape, local[skin]) > 0))
        mismatch &= 1 - moustache
        # Hysteresis (as Canny's edges): what is only a little off the skin's colour (within
        # _SKIN_DISTANCE but beyond _FILL_SKIN_DISTANCE) is an occluder too where it is joined
        # to one: the thin, half-transparent ends of a hair strand (s42's strand from the
        # forehead into the eye, the hair over her temple) that the strict test alone left
        # as a dark streak; a lone shadow or blemish that far off stays.
        weak = skin_mismatch(lab, samples, candidates, _FILL_SKIN_DISTANCE)
        # Not down the nose: its shadowed flank on a side-lit painting (s10) is a little off
        # the skin's colour and joined to the far cheek's shadow; grown into, the nose was
        # filled flat with a lighter block and a hard edge at its tip.
        weak &= 1 - _polygon_mask(shape, [local[list(_NOSE_ZONE)]], dilate_px=0.03 * face_size)
        weak &= 1 - moustache
        weak = cv2.morphologyEx(weak, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
        count, labels = cv2.connectedComponents(weak | mismatch | occluders, connectivity=8)
        if count > 1:
            strong = np.unique(labels[(mismatch | occluders) > 0])
            mismatch |= (np.isin(labels, strong[strong > 0]) & (weak > 0)).astype(np.uint8)
        occluders |= mismatch
    brows = np.zeros(shape, np.uint8)
    if occluders.any():
        grow = max(3, int(0.015 * face_size) | 1)
        occluders = cv2.dilate(occluders, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow))) & oval
        # The light again without the occluded points (a hand is lit differently). Not without
        # the glasses' points: the skin under thin rims and clear lenses is lit like the face,
        # the robust fit already discounts a rim's pixels, and leaving out the 82 skin points
        # around Hopper's eyes moved her fitted top light from -0.36 to -0.49 (a side light put
        # on her photo then stayed: cheek balance 0.79 instead of 0.90).
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow))
        others = occluders if glasses is None else occluders & (1 - cv2.dilate(glasses.mask, kernel))
        if others.any():
            flat, light = delight(others)
            search = flat if plain is crop else delight(others, plain)[0]
        if glasses is not None:
            # Never the eyes and their lids (the whites and catchlights are lighter than the lids
            # around; a margin of 2.5% of the face instead of 5% filled lid skin: identity
            # distance on the demo +0.0066 instead of +0.0052).
            eyes = _polygon_mask(shape, [local[top.right_eye], local[top.left_eye]], dilate_px=0.05 * face_size)
            occluders |= _glasses_leftovers(occluders, glasses.mask, original, face_size) & oval & (1 - eyes)
            # Her brows are hers: what of them shows above the upper rims is kept, not filled.
            brows = _brows_above_rims(original, local, face_size, samples)
            occluders &= 1 - brows

    # An open mouth: its lips, teeth and tongue must not be worn. The swapper then shows the
    # target's own mouth (lips included); here the mouth is filled with skin so that nothing
    # of it shows through the soft edge of that hole.
    mouth_open = _mouth_opening(local) > OPEN_MOUTH
    mouth = np.zeros(shape, np.uint8)
    if mouth_open:
        mouth = _polygon_mask(shape, [local[top.outer_lips]], dilate_px=0.04 * face_size) & oval
        occluders |= mouth

    # 2b. No relief in and around what is filled, nor in the holes it encloses: the skin and glare
    # between Hopper's rims' pieces came back as a light speck (28 levels) in the fill below her eye.
    if plain is not crop and occluders.any():
        near = cv2.morphologyEx(occluders, cv2.MORPH_CLOSE,
                                cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(0.06 * face_size) | 1,) * 2))
        grow = max(3, int(0.02 * face_size) | 1)
        near = cv2.dilate(near, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
        away = cv2.GaussianBlur(near.astype(np.float32), (0, 0), max(1.0, 0.01 * face_size))[..., None]
        flat = np.clip(flat + away * (search.astype(np.float32) - flat) + 0.5, 0, 255).astype(np.uint8)

    # 3. Fill: the mirror image where the other side is clean, a smooth membrane elsewhere.
    skin_like = None
    if len(samples) > 20 and occluders.any():
        lab = cv2.cvtColor(cv2.GaussianBlur(search, (0, 0), max(0.8, 0.004 * face_size)), cv2.COLOR_BGR2LAB)
        skin_like = 1 - skin_mismatch(lab, samples, oval, _FILL_SKIN_DISTANCE)
    lips = _polygon_mask(shape, [np.concatenate([local[list(_NOSTRILS)], local[top.outer_lips]])],
                         dilate_px=0.02 * face_size)
    # The fill's soft edge stays out of the lips and nostrils, and out of the brows kept above
    # glasses' rims (it covered their lower half with skin: a pale band between brow and rim).
    keep = (lips & (1 - mouth)) | brows
    clean = fill_occluders(flat, local, occluders, oval, mouth, face_size, mirror_yaw, skin_like,
                           keep)
    if glasses is not None:
        clean = _level_through_lenses(clean, flat, original, occluders, glasses, face_size)
        clean = _ridge_between_lenses(clean, occluders, glasses, local, face_size)
        clean = _fill_to_skin_level(clean, occluders, glasses, oval, features, face_size)
        if brows.any():
            # Their hairs as the photo has them: the denoising (strength 8.6 on her JPEG) had
            # washed her sparse, light-brown hairs out to a faint smudge.
            clean = _hairs_back(clean, crop, original, brows, face_size)

    # 3b. The photo's local cast shadows (eye sockets, beside and under the nose, under the lower
    # lip), which the smooth de-lighting cannot take out, lifted towards the skin nearby.
    # A source turned beyond `mirror_yaw` (swap/mesh.MIRROR_YAW_DEG) wears its near half on both:
    # the near side of its nose, shaded, went down both flanks (s10 on d10: a tan column). Its
    # nose's shade is lifted further then. Not for a frontal photo: lifting a side-lit nose's
    # shade as far moved s12's identity distance by +0.01 to +0.04 on d10, d13, d14 and d20.
    lenses = None if glasses is None else \
        occluders & (cv2.dilate(glasses.mask, np.ones((5, 5), np.uint8)) > 0).astype(np.uint8)
    clean = lift_shadows(clean, local, face_size, oval, occluders, mirrored, float(light[0]), lenses)
    clean = _soften_creases(clean, local, face_size, oval)
    if mirrored:
        # ... and its nose planes' painted edges, worn down both flanks, softened (shadows.NOSE_PLANES).
        clean = soften_nose_planes(clean, local, face_size, oval, occluders)
    else:
        # A frontal source's nose: the light that differs between its two sides (shadows.even_nose_sides).
        clean = even_nose_sides(clean, local, face_size, oval, float(light[0]), occluders)

    # 4. Lips towards natural lips: their chroma's departure from the skin's, scaled.
    if makeup < 1.0 and len(samples) > 20:
        lips = _fill_poly(shape, local[top.outer_lips]) & (1 - _fill_poly(shape, local[top.inner_mouth]))
        if lips.any():
            soft = cv2.GaussianBlur(lips.astype(np.float32), (0, 0), max(1.0, 0.005 * face_size))
            lab = cv2.cvtColor(clean, cv2.COLOR_BGR2LAB).astype(np.float32)
            skin_ab = np.median(tone_samples[:, 1:], axis=0)
            # Natural lips sit a little redder than the skin: keep that much at least.
            natural = skin_ab + np.array([10.0, 3.0])
            toned = natural + makeup * (lab[..., 1:] - natural)
            lab[..., 1:] = lab[..., 1:] + soft[..., None] * (toned - lab[..., 1:])
            clean = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)

    # 5. Eye make-up (shadow, a tinted lid) towards the skin's chroma by the same factor; its
    # lightness (liner, lashes, the lid's crease) stays: worn on a target without make-up, a red
    # or brown lid read as a smeared, bruised eye area.
    if makeup < 1.0 and len(samples) > 20:
        lids = np.zeros(shape, np.uint8)
        for eye, brow in ((top.right_eye, top.right_eyebrow), (top.left_eye, top.left_eyebrow)):
            lids |= _polygon_mask(shape, [np.concatenate([local[eye], local[brow]])])
            lids |= _polygon_mask(shape, [local[eye]], dilate_px=0.04 * face_size)
        lids &= 1 - _polygon_mask(shape, [local[top.right_eyebrow], local[top.left_eyebrow]])
        if lids.any():
            soft = cv2.GaussianBlur(lids.astype(np.float32), (0, 0), max(1.0, 0.01 * face_size))
            lab = cv2.cvtColor(clean, cv2.COLOR_BGR2LAB).astype(np.float32)
            skin_ab = np.median(tone_samples[:, 1:], axis=0)
            toned = skin_ab + makeup * (lab[..., 1:] - skin_ab)
            lab[..., 1:] = lab[..., 1:] + soft[..., None] * (toned - lab[..., 1:])
            clean = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)

    from realtime.faces.brows import has_moustache

    # 5. A turned source's closed lips, worn mirrored: its lower lip's red worn inside the target's
    # lower lip, not below it, and its broad highlight not mirrored into a pale blob in its middle
    # (s10 on d6, d9, d10: "a reddish band round the lips"; written d(source) against main a7a8702:
    # d10 -0.017, d6 -0.016, d14 -0.011, d9 +0.002, benchmarks/results/s32-lead/quality_swap_s10_stop.json).
    if mirrored and not mouth_open:
        local = _lower_lip_to_its_red(clean, local, face_size)
        clean = _lip_highlight_out(clean, local, face_size)
    return CleanTexture(image=clean, landmarks=local, normals=raw_normals, light_normals=normals,
                        occluders=occluders, face_size=face_size, original=original, mouth_open=mouth_open,
                        origin=(x0, y0), glasses=glasses, moustache=has_moustache(clean, local, face_size))


def clean_texture_of(source, makeup: float = 0.4) -> CleanTexture:
    """The clean texture of a SourceFace, made once and remembered with the photo (the swapper
    and the GUI's source panel share it)."""
    # The picture and face are part of the key: dataclasses.replace() of a SourceFace copies
    # the memo along with it.
    key = ("clean_texture", round(float(makeup), 3), id(source.image), id(source.face))
    texture = source.memo.get(key)
    if texture is None:
        texture = make_clean_texture(source.image, source.face.landmarks, makeup=makeup)
        source.memo[key] = texture
        # Said once per photo (a new make-up strength makes a new texture, not a new warning).
        if texture.glasses is not None and texture.glasses.brows_hidden and \
                not source.memo.get("glasses_warned"):
            source.memo["glasses_warned"] = True
            log.warning("the face in %s wears glasses whose frames hide its brows: the frames are "
                        "taken out of the worn face, but only the part of the brows above them is kept: "
                        "the brows will look thin; a photo without glasses works better",
                        getattr(source, "name", "the source photo"))
    return texture


def clean_texture_preview(source, makeup: float = 0.4) -> np.ndarray:
    """The clean texture of a SourceFace, for display (BGR uint8)."""
    return clean_texture_of(source, makeup).image
