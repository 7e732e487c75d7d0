"""Third-person video: a COCO skeleton rendered from random exo viewpoints (numpy only).

Frames are small grayscale images (64x64 uint8 by default) of a capsule body drawn with a
z-buffer on a distance field, under a randomised pinhole camera (azimuth, height, distance,
field of view, shake, tracking) with a randomised look (build, clothing levels, background,
occluders, noise).
"""

from ._camera import Camera, CameraRanges, look_at_rotation, sample_camera
from ._raster import BODY_CAPSULES, Capsules, body_capsules, rasterize
from ._scene import RenderRanges, RenderResult, render_clip, render_with_camera

__all__ = [
    "BODY_CAPSULES",
    "Camera",
    "CameraRanges",
    "Capsules",
    "RenderRanges",
    "RenderResult",
    "body_capsules",
    "look_at_rotation",
    "rasterize",
    "render_clip",
    "render_with_camera",
    "sample_camera",
]
