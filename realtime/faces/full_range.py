"""Small and distant faces: MediaPipe's full-range face detector finds them, the face mesh then
runs on each face's crop, enlarged and upscaled, and its landmarks go back to frame pixels.

Why: the face mesh finds faces with its own short-range detector, which sees the whole frame
letterboxed into 128x128 pixels; a face must fill a good part of the frame (at 720p, faces below
about 150 px are missed, a full-body shot's 40 px face always). The full-range detector
(`face_detection_full_range_sparse.tflite`, the graph of `mp.solutions.face_detection` with
model_selection=1, both inside the mediapipe 0.10.21 wheel: no download) is trained for faces up
to about 5 m from the camera, but it too sees the frame at 192x192: measured on faces shrunk from
../shared/media, it finds a face once the face is about 7 px wide in its input. So it looks at the
whole frame (faces down to about 45 px at 720p) and at 480-px tiles (down to about 24 px).

Cost, the common case being one big face the mesh already has: the detector looks at one region
(the whole frame, or one tile) every `SCAN_EVERY` frames (`CALM_EVERY` once a whole round found
nothing new), and only while fewer than max_faces faces are found; a face it finds is followed
from frame to frame by the mesh on its crop (no detector), so the scan only has to find a face
once. benchmarks/faces_detection.py measures it.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from realtime.faces.pose import head_pose
from realtime.faces.tracking import box_of
from realtime.frame import Box, Face

TILE = 480
"""Side of the square regions the detector looks at, in frame pixels (480: 30-px faces at 720p
were found in 9 of 9 placements, 24-px ones in 8 of 9; at 640 px, 6 and 8 of 9)."""
CROP = 256
"""Side of the crop the mesh runs on: a face enlarged to fill about half of it, which the mesh's
short-range detector finds (it expects a face that fills a good part of its 128-px input)."""
CROP_SCALE = 2.0
"""Crop side / face side: room for the head moving between frames and for the detector."""
SCAN_EVERY = 3
"""Frames between two looks of the full-range detector (one region each): at 720p the whole
frame and 8 tiles, so a face is found within 27 frames (0.9 s at 30 FPS), for about 7 ms every
third frame on this project's 2-core VM..."""
CALM_EVERY = 6
"""...and, once a whole round of looks found nothing new and no face came or went, every sixth
frame (someone walking in is found within 1.8 s): half the cost for the common case of one
person, who never has anyone behind them."""


def scan_regions(width: int, height: int, tile: int = TILE) -> list[Box]:
    """The whole frame, then overlapping tiles of `tile` px covering it (none when the frame is
    no bigger than a tile)."""
    regions: list[Box] = [(0, 0, width, height)]
    if max(width, height) <= tile:
        return regions

    def starts(length: int) -> list[int]:
        if length <= tile:
            return [0]
        count = int(np.ceil((length - tile) / (tile * 0.8))) + 1  # at least 20% overlap
        return [round(i * (length - tile) / (count - 1)) for i in range(count)]

    for y in starts(height):
        for x in starts(width):
            regions.append((x, y, min(width, x + tile), min(height, y + tile)))
    return regions


def overlaps(box: Box, faces: list[Face]) -> bool:
    """True when the centre of `box` lies inside one of the faces' boxes, or theirs inside it."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    for face in faces:
        x0, y0, x1, y1 = face.box
        fx, fy = (x0 + x1) / 2, (y0 + y1) / 2
        if (x0 <= cx <= x1 and y0 <= cy <= y1) or (box[0] <= fx <= box[2] and box[1] <= fy <= box[3]):
            return True
    return False


class SmallFaceFinder:
    """Faces the whole-frame mesh missed: found by the full-range detector, followed on crops."""

    def __init__(self, mp: Any, min_confidence: float, static: bool) -> None:
        self.static = static
        self._detector = mp.solutions.face_detection.FaceDetection(
            model_selection=1, min_detection_confidence=min_confidence)
        # Static: every crop is a new picture (the mesh's tracking mode, one graph per face,
        # measured 7.7 ms a crop against 9.4 here: not worth a graph per face).
        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=1, refine_landmarks=True,
            min_detection_confidence=min_confidence)
        self._followed: list[Face] = []
        self._frame = 0
        self._region = 0
        self._quiet_looks = 0
        """Looks in a row that found nothing new while no face came or went."""
        self._faces_before = 0
        self.scans = 0
        """Detector looks so far (the benchmark reports them)."""

    def warm_up(self) -> None:
        """First runs start TFLite's delegates (and their native log lines): do them now."""
        blank = np.zeros((CROP, CROP, 3), dtype=np.uint8)
        self._detector.process(blank)
        self._mesh.process(blank)

    def find(self, image: np.ndarray, known: list[Face], room: int) -> list[Face]:
        """Up to `room` faces in a BGR picture that are not among `known`."""
        if room <= 0:
            self._followed = []
            self._faces_before = len(known)
            return []
        height, width = image.shape[:2]
        found: list[Face] = []
        for face in self._followed:
            if len(found) >= room or overlaps(face.box, known + found):
                continue  # the whole-frame mesh has it now (it came nearer), or a duplicate
            followed = self._mesh_on_crop(image, face.box)
            if followed is not None and not overlaps(followed.box, known + found):
                found.append(followed)
        regions = scan_regions(width, height)
        faces_now = len(known) + len(found)
        if faces_now != self._faces_before:  # someone came or went: look eagerly again
            self._quiet_looks = 0
        every = CALM_EVERY if self._quiet_looks >= len(regions) else SCAN_EVERY
        if self.static:
            looks = regions  # a photo: look everywhere, once
        elif self._frame % every == 0 and len(found) < room:
            looks = [regions[self._region % len(regions)]]
            self._region += 1
        else:
            looks = []
        self._frame += 1
        before_looks = len(found)
        for region in looks:
            for box in self._detect(image, region):
                if len(found) >= room or overlaps(box, known + found):
                    continue
                new = self._mesh_on_crop(image, box)
                if new is not None and not overlaps(new.box, known + found):
                    found.append(new)
        if looks:
            self._quiet_looks = self._quiet_looks + 1 if len(found) == before_looks else 0
        self._faces_before = len(known) + len(found)
        self._followed = [] if self.static else found
        return found

    def _detect(self, image: np.ndarray, region: Box) -> list[Box]:
        """Face boxes (frame pixels) the full-range detector sees in one region of the picture."""
        x0, y0, x1, y1 = region
        rgb = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2RGB)
        self.scans += 1
        result = self._detector.process(rgb)
        boxes: list[Box] = []
        w, h = x1 - x0, y1 - y0
        for detection in result.detections or ():
            rel = detection.location_data.relative_bounding_box
            bx, by = x0 + rel.xmin * w, y0 + rel.ymin * h
            boxes.append((int(bx), int(by), int(bx + rel.width * w), int(by + rel.height * h)))
        return boxes

    def _mesh_on_crop(self, image: np.ndarray, box: Box) -> Face | None:
        """The mesh on a square crop around `box`, scaled to CROP px; landmarks in frame pixels."""
        height, width = image.shape[:2]
        x0, y0, x1, y1 = box
        side = max(x1 - x0, y1 - y0, 4) * CROP_SCALE
        left, top = (x0 + x1) / 2 - side / 2, (y0 + y1) / 2 - side / 2
        scale = CROP / side
        matrix = np.array([[scale, 0, -scale * left], [0, scale, -scale * top]], dtype=np.float64)
        interpolation = cv2.INTER_LINEAR if scale >= 1 else cv2.INTER_AREA
        crop = cv2.warpAffine(image, matrix, (CROP, CROP), flags=interpolation,
                              borderMode=cv2.BORDER_REPLICATE)
        result = self._mesh.process(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB))
        if not result.multi_face_landmarks:
            return None
        from realtime.faces.mediapipe_mesh import landmark_array  # (it imports this module)

        landmarks = landmark_array(result.multi_face_landmarks[0]) * (CROP / scale)
        landmarks[:, 0] += left
        landmarks[:, 1] += top
        return Face(landmarks=landmarks, box=box_of(landmarks, width, height), pose=head_pose(landmarks))

    def close(self) -> None:
        self._detector.close()
        self._mesh.close()
        self._followed = []
