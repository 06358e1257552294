"""The swap stage: choose the target faces, render the source face onto each."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from realtime.errors import FacecamError
from realtime.faces.mapping import FaceMapper, Signature, check_files, parse_rules, signature
from realtime.faces.source import SourceFace, SourceLibrary, small_source_warning, source_warnings
from realtime.frame import Face, FaceLayer, Frame
from realtime.settings import Settings, SwapSettings, source_face_index
from realtime.swap import Swapper, create_swapper
from realtime.swap.fallback import apply_lost_face_blur

log = logging.getLogger(__name__)


# Faces of sizes within this ratio are "the same size": then the lower one is taken as nearer.
_SAME_SIZE = 1.15
# A head (face and the hair around it) is about this much larger than the face mesh's hull.
HEAD_SCALE = 1.35


def _nearer(a: Face, b: Face) -> bool:
    """Whether face a is in front of face b: the larger is nearer the camera; of two faces of
    about the same size, the lower in the picture (people nearer the camera stand lower in it)."""
    if max(a.size, b.size) > _SAME_SIZE * min(a.size, b.size):
        return a.size > b.size
    return a.box[3] > b.box[3]


def clip_hidden_faces(layers: list[FaceLayer]) -> list[FaceLayer]:
    """Where two faces overlap (one person passing in front of another), the face behind must not
    be painted over the face in front: the mesh of a half-hidden face is still a whole face, and
    its swapped layer would cover the nearer person's forehead or hair. Each layer loses, softly,
    the area of every nearer person's head: the convex hull of the face mesh, enlarged by
    HEAD_SCALE for the hair around it."""
    from realtime.faces.topology import MESH_POINTS
    from realtime.faces.tracking import iou

    for back in layers:
        for front in layers:
            if front is back or iou(front.box, back.box) == 0.0 or not _nearer(front.face, back.face):
                continue
            x0, y0, x1, y1 = back.box
            points = front.face.landmarks[:MESH_POINTS, :2].astype(np.float32)
            centre = points.mean(axis=0)
            hull = cv2.convexHull(centre + HEAD_SCALE * (points - centre))
            cover = np.zeros(back.alpha.shape, np.float32)
            cv2.fillConvexPoly(cover, np.round(hull - (x0, y0)).astype(np.int32), 1.0, cv2.LINE_AA)
            sigma = max(1.0, 0.01 * front.face.size)
            cover = cv2.GaussianBlur(cover, (0, 0), sigma)
            back.alpha = back.alpha * (1.0 - np.clip(cover * 1.5, 0.0, 1.0))
    return layers


def select_faces(faces: list[Face], settings: SwapSettings, width: int, height: int) -> list[Face]:
    if not faces or settings.faces == "all":
        return faces
    if settings.faces == "largest":
        return [max(faces, key=lambda face: face.size)]
    target_x, target_y = settings.face_position[0] * width, settings.face_position[1] * height

    def distance(face: Face) -> float:
        x0, y0, x1, y1 = face.box
        return ((x0 + x1) / 2 - target_x) ** 2 + ((y0 + y1) / 2 - target_y) ** 2

    return [min(faces, key=distance)]


class SwapStage:
    """Renders the main source onto the selected faces; with a face map (issue 18), each mapped
    face wears its own photo. One swapper per photo: a swapper keeps per-source state (the clean
    texture, the tracked light, a neural embedding), so switching its source per face would
    reset that state every frame."""

    name = "swap"

    def __init__(self, settings: Settings, sources: SourceLibrary) -> None:
        self.sources = sources
        self.swapper: Swapper = create_swapper(settings)
        self._source: SourceFace | None = None
        self._prepared: dict[str, Swapper] = {}
        self._source_key: tuple | None = None
        self._warned_small = False
        self.mapper = FaceMapper()
        self._mapped: dict[str, tuple[tuple, Swapper]] = {}
        """photo path -> (its key, the swapper wearing it), for the face map's photos."""
        self.configure(settings)

    def prepare(self, settings: Settings) -> None:
        """Load the swapper `settings` name now (Engine.update, on its thread): one that cannot
        load raises FacecamError here, and the running one is untouched. The face map's photos
        and reference pictures are loaded here too, so a bad one is refused."""
        name = settings.swap.swapper
        if name != self.swapper.name:
            if name not in self._prepared:
                self._prepared[name] = create_swapper(settings)
        elif callable(getattr(self.swapper, "prepare", None)):  # new weights of the same swapper
            self.swapper.prepare(settings)
        self._map_references(settings)

    def _map_references(self, settings: Settings) -> dict[str, Signature]:
        """Loads every photo and reference picture of the face map (FacecamError naming the
        rule when one is missing or has no face) and returns the references' signatures."""
        rules = parse_rules(settings.swap.face_map)
        check_files(rules)
        references: dict[str, Signature] = {}
        for rule in rules:
            try:
                self.sources.get(rule.source)
                if rule.reference is not None:
                    picture = self.sources.get(rule.reference)
                    references[rule.reference] = signature(picture.image, picture.face)
            except FacecamError as error:
                raise type(error)(f"face map {rule.text!r}: {error}") from None
        return references

    def configure(self, settings: Settings) -> None:
        if settings.swap.swapper != self.swapper.name:
            self.swapper.close()
            self.swapper = self._prepared.pop(settings.swap.swapper, None) or create_swapper(settings)
            self._source = None
            for _, swapper in self._mapped.values():
                swapper.close()
            self._mapped.clear()
        self.swapper.configure(settings)
        index = source_face_index(settings.swap.source_face)
        photo = self.sources.get(settings.source)
        key = (id(photo), index)
        if key != self._source_key or self._source is None:
            source = photo.choose(index)
            for note in source_warnings(source, index):
                log.warning(note)
            self.swapper.set_source(source)
            self._source = source
            self._source_key = key
            self._warned_small = False
        references = self._map_references(settings)
        rules = parse_rules(settings.swap.face_map)
        self.mapper.configure(rules, references)
        wanted = {rule.source for rule in rules}
        for path in list(self._mapped):
            if path not in wanted:
                self._mapped.pop(path)[1].close()
        for path in wanted:
            mapped = self.sources.get(path)
            key = (id(mapped), index)
            if path in self._mapped and self._mapped[path][0] == key:
                self._mapped[path][1].configure(settings)
                continue
            if path in self._mapped:
                self._mapped.pop(path)[1].close()
            swapper = create_swapper(settings)
            swapper.set_source(mapped.choose(index))
            self._mapped[path] = (key, swapper)
        self.settings = settings.swap
        self.face_settings = settings.faces
        self.main_label = Path(settings.source).stem if settings.source else "built-in face"

    def process(self, frame: Frame) -> Frame:
        if self.mapper.rules:
            frame.layers = self._swap_mapped(frame)
            return frame
        faces = select_faces(frame.faces, self.settings, frame.width, frame.height)
        faces = apply_lost_face_blur(frame, faces, self.face_settings)  # lost_face = 'blur'
        frame.layers = clip_hidden_faces(self.swapper.swap(frame, faces))
        self._warn_small(faces)
        return frame

    def _swap_mapped(self, frame: Frame) -> list:
        """Every face under a rule wears the rule's photo; the others the main source or their
        own face (unmapped_faces). frame.mapping says who wears what (the GUI's name tags)."""
        rules = self.mapper.rules
        assigned = self.mapper.assign(frame.image, frame.faces)
        groups: dict[str, list[Face]] = {}
        mapping = []
        for face, rule_index in zip(frame.faces, assigned, strict=True):
            if rule_index is None:
                if self.settings.unmapped_faces == "keep":
                    continue
                groups.setdefault("", []).append(face)
                mapping.append((face.box, self.main_label, face.track_id, None))
            else:
                rule = rules[rule_index]
                groups.setdefault(rule.source, []).append(face)
                mapping.append((face.box, rule.label, face.track_id, rule.text))
        frame.mapping = mapping
        layers = []
        for path, faces in groups.items():
            faces = apply_lost_face_blur(frame, faces, self.face_settings)
            swapper = self.swapper if path == "" else self._mapped[path][1]
            layers.extend(swapper.swap(frame, faces))
        self._warn_small(frame.faces)
        return clip_hidden_faces(layers)

    def _warn_small(self, faces: list[Face]) -> None:
        if faces and not self._warned_small and self._source is not None:
            warning = small_source_warning(self._source, max(face.size for face in faces))
            if warning:
                log.warning(warning)
            self._warned_small = True

    def close(self) -> None:
        self.swapper.close()
        for swapper in self._prepared.values():
            swapper.close()
        self._prepared.clear()
        for _, swapper in self._mapped.values():
            swapper.close()
        self._mapped.clear()
