"""Face mapping: which source photo each face in the video wears, and who is who over time.

A rule is `WHERE=PHOTO` (the `face_map` setting, `--map` on the command line):

- WHERE a position in the frame: `left`, `right`, `centre`, `top`, `bottom`, `top-left`, ...
  or `X,Y` as fractions of the frame (`0.25,0.5`). The face nearest that point when the rule
  is first applied is the person the rule means; from then on the rule follows that person,
  wherever they move (two people who swap places keep their sources).
- WHERE a picture file of the person in the video (`ref_bob.jpg=alice.jpg`): the face that
  looks most like that picture gets the photo.

Who is who: the tracker's ids (realtime/faces/tracking.py) carry a person from frame to frame,
but an id is lost when a face leaves the frame, and two faces that cross can exchange ids. So
each rule also keeps an appearance signature of its person, and each frame the rules are
matched to the faces by an optimal assignment over signature distances, with a small bonus for
keeping last frame's track (scipy's linear_sum_assignment; n is tiny).

The signature is computed from what the engine already has, with no model and no download:
the face aligned by its five key points (the ArcFace template, realtime/inference/align.py)
into a small crop that includes the hairline (an ellipse: not the background in the corners),
as (1) a hue-saturation histogram (skin tone, hair, lips, glasses frames) and (2) a coarse 8x8
CIELAB layout (where the dark and light parts are: hair line, brows, glasses, beard; lightness
normalised so that a change of exposure moves it little). Ratios of mesh landmark distances
were tried and dropped: expression and head turns move them more than identity does (measured:
the same person 3.4 apart, two people 0.9). It is no face-recognition model: it tells apart the
few people in one scene when their skin, hair or glasses differ, and is less sure for
look-alikes, for the same colours of clothes and hair, or under light that changes hue; dlib's
recognition network (the `eval` extra) would be stronger but is not installed by default, and
the default must work without a download.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from realtime.errors import SettingsError
from realtime.frame import Face
from realtime.inference.align import arcface_template, similarity_matrix

log = logging.getLogger(__name__)

# A rule that has found no face in this many frames with faces is said once (nothing silent).
UNUSED_WARNING_FRAMES = 150

# Named positions (x, y as fractions of the frame).
POSITIONS: dict[str, tuple[float, float]] = {
    "left": (0.0, 0.5), "right": (1.0, 0.5), "centre": (0.5, 0.5), "center": (0.5, 0.5),
    "top": (0.5, 0.0), "bottom": (0.5, 1.0),
    "top-left": (0.0, 0.0), "top-right": (1.0, 0.0),
    "bottom-left": (0.0, 1.0), "bottom-right": (1.0, 1.0),
}
_POINT = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*[,:]\s*([0-9]*\.?[0-9]+)\s*$")
PICTURE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")

# Signature crop: the ArcFace template shrunk so that forehead, hairline and jaw are inside.
_CROP = 64
_ZOOM = 0.7
# A face farther than this from a rule's signature is not that rule's person (a stranger, or
# the person seen too poorly to say). Measured on ../shared/media (benchmarks/face_mapping.py):
# the same person across a clip stays below ~0.5, two different people are above ~1.7.
MATCH_GATE = 1.0
# Keeping last frame's track is worth this much signature distance: ids are kept unless the
# appearance clearly says the tracker exchanged two people.
TRACK_BONUS = 0.25
# How fast a rule's signature follows its person (per frame seen clearly).
LEARN_RATE = 0.05


@dataclass(frozen=True)
class MapRule:
    """One `WHERE=PHOTO` rule, parsed."""

    text: str
    source: str
    position: tuple[float, float] | None = None
    reference: str | None = None

    @property
    def label(self) -> str:
        return Path(self.source).stem


def parse_rule(text: str) -> MapRule:
    """A rule from its text; SettingsError (one line, saying the form) when malformed. Files are
    not opened here (see `check_files`)."""
    where, sep, photo = text.partition("=")
    where, photo = where.strip(), photo.strip()
    form = ("a face map rule is WHERE=PHOTO, WHERE being left, right, centre, top, bottom, "
            "top-left..., X,Y (fractions of the frame) or a picture of the person in the video")
    if not sep or not where or not photo:
        raise SettingsError(f"{form}; not {text!r}")
    if where.lower() in POSITIONS:
        return MapRule(text, photo, position=POSITIONS[where.lower()])
    point = _POINT.match(where)
    if point:
        x, y = float(point.group(1)), float(point.group(2))
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise SettingsError(f"face map position {where!r} is outside the frame: X,Y are fractions 0..1")
        return MapRule(text, photo, position=(x, y))
    if Path(where).suffix.lower() in PICTURE_SUFFIXES:
        return MapRule(text, photo, reference=where)
    raise SettingsError(f"{form}; {where!r} is none of those")


def parse_rules(texts: tuple[str, ...]) -> list[MapRule]:
    return [parse_rule(text) for text in texts]


def check_files(rules: list[MapRule]) -> None:
    """SettingsError naming the first rule whose photo or reference picture is missing."""
    for rule in rules:
        for what, path in (("photo", rule.source), ("reference picture", rule.reference)):
            if path is not None and not Path(path).is_file():
                raise SettingsError(f"face map {rule.text!r}: {what} {path} not found")


# -- the signature ----------------------------------------------------------------------------
def _ellipse() -> np.ndarray:
    """The face and the hair around it in the signature crop, not the corners (the background)."""
    mask = np.zeros((_CROP, _CROP), np.uint8)
    cv2.ellipse(mask, (_CROP // 2, int(_CROP * 0.45)), (int(_CROP * 0.42), int(_CROP * 0.52)), 0, 0, 360, 255, -1)
    return mask


_MASK = _ellipse()


@dataclass(frozen=True)
class Signature:
    layout: np.ndarray
    hues: np.ndarray

    def distance(self, other: Signature) -> float:
        """0 for the same picture; about 1.5 and more for different people (see MATCH_GATE).
        Weights and scales measured on ../shared/media's people (benchmarks/face_mapping.py):
        the hue-saturation histogram separates them best (same person at most 0.10 apart, two
        people at least 0.51), the layout less (0.43 against 0.41: a turned head changes it)."""
        layout = float(np.abs(self.layout - other.layout).mean()) / 12.0 / 0.4
        hues = 0.5 * float(np.abs(self.hues - other.hues).sum()) / 0.25
        return 0.7 * hues + 0.3 * layout

    def blended(self, other: Signature, rate: float) -> Signature:
        return Signature((1 - rate) * self.layout + rate * other.layout,
                         (1 - rate) * self.hues + rate * other.hues)


def signature(image: np.ndarray, face: Face) -> Signature:
    from realtime.faces.topology import five_points

    template = arcface_template(112) / 112.0
    template = (template - 0.5) * _ZOOM + 0.5
    matrix = similarity_matrix(five_points(face.landmarks), template * _CROP)
    crop = cv2.warpAffine(image, matrix, (_CROP, _CROP), flags=cv2.INTER_AREA,
                          borderMode=cv2.BORDER_REPLICATE)
    lab = cv2.cvtColor(crop, cv2.COLOR_BGR2LAB).astype(np.float32)
    light = lab[..., 0][_MASK > 0]
    lab[..., 0] = (lab[..., 0] - light.mean()) / (light.std() + 1e-3) * 20.0  # exposure-robust
    lab[_MASK == 0] = 0.0
    layout = cv2.resize(lab, (8, 8), interpolation=cv2.INTER_AREA).ravel()
    hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)
    hues = cv2.calcHist([hsv], [0, 1], _MASK, [12, 4], [0, 180, 0, 256]).ravel()
    hues = hues / max(float(hues.sum()), 1.0)
    return Signature(layout, hues.astype(np.float32))


# -- the mapper -------------------------------------------------------------------------------
@dataclass
class _RuleState:
    rule: MapRule
    reference: Signature | None = None
    learned: Signature | None = None
    track_id: int | None = None
    applied: bool = False
    warned: bool = False

    def distance(self, other: Signature) -> float | None:
        known = [s for s in (self.reference, self.learned) if s is not None]
        return min(s.distance(other) for s in known) if known else None


@dataclass
class Assignment:
    """Per face of the frame (same order), the index of its rule or None."""

    rules: list[int | None] = field(default_factory=list)


class FaceMapper:
    """Keeps, across frames, which face each rule means. Not thread-safe: one per swap stage."""

    def __init__(self) -> None:
        self._states: list[_RuleState] = []
        self._frames_with_faces = 0

    @property
    def rules(self) -> list[MapRule]:
        return [state.rule for state in self._states]

    def configure(self, rules: list[MapRule], references: dict[str, Signature]) -> None:
        """New rules; a rule whose text is unchanged keeps who it follows."""
        old = {state.rule.text: state for state in self._states}
        states = []
        for rule in rules:
            state = old.get(rule.text) or _RuleState(rule)
            if rule.reference is not None:
                state.reference = references[rule.reference]
            states.append(state)
        self._states = states

    def assign(self, image: np.ndarray, faces: list[Face]) -> list[int | None]:
        """Which rule each face falls under (index into `rules`), None for a face no rule maps."""
        from scipy.optimize import linear_sum_assignment

        result: list[int | None] = [None] * len(faces)
        if not faces or not self._states:
            return result
        height, width = image.shape[:2]
        signatures = [signature(image, face) if face.held == 0 else None for face in faces]
        big = 1e6
        cost = np.full((len(self._states), len(faces)), big)
        for r, state in enumerate(self._states):
            for f, face in enumerate(faces):
                same_track = state.track_id is not None and face.track_id == state.track_id
                bonus = TRACK_BONUS if same_track else 0.0
                seen = signatures[f]
                if seen is None:  # a held face: only its own track may keep it
                    cost[r, f] = 0.0 if same_track else big
                    continue
                distance = state.distance(seen)
                if distance is None:
                    if state.rule.position is not None:
                        # Not seen yet: the face nearest the rule's point (in frame diagonals).
                        x0, y0, x1, y1 = face.box
                        px, py = state.rule.position
                        cost[r, f] = 10.0 + math.hypot((x0 + x1) / 2 / width - px,
                                                       (y0 + y1) / 2 / height - py)
                    continue
                if distance - bonus <= MATCH_GATE:
                    cost[r, f] = distance - bonus
        rows, cols = linear_sum_assignment(cost)
        for r, f in zip(rows, cols, strict=True):
            if cost[r, f] >= big:
                continue
            state = self._states[r]
            state.applied = True
            result[f] = r
            state.track_id = faces[f].track_id
            sig = signatures[f]
            if sig is not None and self._clear(faces, f):
                state.learned = sig if state.learned is None else state.learned.blended(sig, LEARN_RATE)
        self._frames_with_faces += 1
        if self._frames_with_faces >= UNUSED_WARNING_FRAMES:
            for state in self._states:
                if not state.applied and not state.warned:
                    state.warned = True
                    what = (f"no face looked like {state.rule.reference}" if state.rule.reference
                            else "no face was left for it")
                    log.warning("face map %r: %s in %d frames with faces; %s is not worn", state.rule.text,
                                what, self._frames_with_faces, state.rule.source)
        return result

    @staticmethod
    def _clear(faces: list[Face], index: int) -> bool:
        """True when no other face overlaps this one (an overlapped face's crop shows both)."""
        from realtime.faces.tracking import iou

        return all(iou(faces[index].box, other.box) == 0.0
                   for i, other in enumerate(faces) if i != index)


def face_at(faces: list[Face], x: float, y: float) -> Face | None:
    """The face whose box holds the point (pixels), the smallest if several; None if none."""
    inside = [face for face in faces if face.box[0] <= x < face.box[2] and face.box[1] <= y < face.box[3]]
    return min(inside, key=lambda face: face.size) if inside else None


def map_face(rules: tuple[str, ...], mapping: list, face: Face, width: int, height: int,
             photo: str | None) -> tuple[str, ...]:
    """The face map after giving `face` (one of a frame's faces; `mapping` is that frame's
    Frame.mapping) the photo `photo` (None: take its rule away): the rule that followed it is
    replaced by a position rule at its centre, which binds to it on the next frame."""
    following = {rule for box, _, track_id, rule in mapping
                 if rule is not None and (track_id == face.track_id or box == face.box)}
    kept = tuple(rule for rule in rules if rule not in following)
    if photo is None:
        return kept
    x0, y0, x1, y1 = face.box
    # ':' between X and Y: the map's items are ';'-separated but a comma reads as a list elsewhere.
    return (*kept, f"{(x0 + x1) / 2 / width:.3f}:{(y0 + y1) / 2 / height:.3f}={photo}")
