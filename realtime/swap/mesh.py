"""The embedded swapper: the source photo's face warped onto each target face's mesh.

No model, no download: MediaPipe's 468-point mesh gives the same topology on both faces, so the
source texture is carried triangle by triangle onto the target geometry (one dense remap over the
face box, triangles drawn back to front), and the target keeps its own eyes and mouth interior
through the mesh's holes.
"""

from __future__ import annotations

from realtime.blend.mask import face_mask
from realtime.faces.source import SourceFace
from realtime.faces.topology import MESH_POINTS, topology
from realtime.faces.warp import piecewise_affine_maps
from realtime.frame import Face, FaceLayer, Frame
from realtime.settings import Settings


class MeshSwapper:
    name = "mesh"

    def __init__(self, settings: Settings) -> None:
        self._triangles = topology().triangles
        self._source: SourceFace | None = None
        self.configure(settings)

    def configure(self, settings: Settings) -> None:
        self.blend = settings.blend

    def set_source(self, source: SourceFace) -> None:
        self._source = source

    def swap(self, frame: Frame, faces: list[Face]) -> list[FaceLayer]:
        if self._source is None:
            return []
        return [layer for face in faces if (layer := self._swap_one(frame, face)) is not None]

    def _swap_one(self, frame: Frame, face: Face) -> FaceLayer | None:
        target = face.landmarks[:MESH_POINTS]
        x0, y0, x1, y1 = face.box
        # One pixel of margin so that the feathered edge never touches the box edge.
        box = (max(0, x0 - 1), max(0, y0 - 1), min(frame.width, x1 + 1), min(frame.height, y1 + 1))
        if box[2] - box[0] < 8 or box[3] - box[1] < 8:
            return None  # a face this small (or mostly off-frame) is not worth a swap
        source = self._source.face.landmarks[:MESH_POINTS]
        maps = piecewise_affine_maps(target, source, self._triangles, box, depth=target[:, 2])
        patch = maps.remap(self._source.image)
        alpha = face_mask(face.landmarks, box, face.size, self.blend)
        return FaceLayer(box=box, image=patch, alpha=alpha, face=face)

    def close(self) -> None:
        self._source = None
