"""The embedded swapper: the source photo's face warped onto each target face's mesh.

No model, no download: MediaPipe's 468-point mesh gives the same topology on both faces, so the
source texture is carried triangle by triangle onto the target geometry (one dense remap over the
face box, triangles drawn back to front), and the target keeps its own eyes and mouth interior
through the mesh's holes.
"""

from __future__ import annotations

import logging

from realtime.blend.mask import face_mask
from realtime.faces.source import SourceFace
from realtime.faces.topology import MESH_POINTS, topology
from realtime.faces.warp import piecewise_affine_maps
from realtime.frame import Face, FaceLayer, Frame
from realtime.settings import Settings

log = logging.getLogger(__name__)

# Beyond this yaw the far half of a source face is too foreshortened to texture the target's:
# the warp stretches a few pixels over a whole cheek.
PROFILE_YAW_DEG = 35.0


def profile_warning(source: SourceFace) -> str | None:
    """A sentence for the user when the source face is turned too far to wear, else None."""
    yaw = source.face.pose[0]
    if abs(yaw) <= PROFILE_YAW_DEG:
        return None
    side = "right" if yaw > 0 else "left"
    return (f"the face in {source.name} is turned {abs(yaw):.0f}° to the {side} (more than "
            f"{PROFILE_YAW_DEG:.0f}°): its far cheek will look stretched; a photo facing the camera "
            "works best")


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
        warning = profile_warning(source)
        if warning:
            log.warning(warning)

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
        # The maps are piecewise linear: on a big face a coarser grid costs less and stays within
        # a fraction of a pixel of the exact maps.
        grid_step = 8 if face.size > 500 else 4
        maps = piecewise_affine_maps(target, source, self._triangles, box, depth=target[:, 2],
                                     grid_step=grid_step)
        patch = maps.remap(self._source.image)
        alpha = face_mask(face.landmarks, box, face.size, self.blend)
        return FaceLayer(box=box, image=patch, alpha=alpha, face=face)

    def close(self) -> None:
        self._source = None
