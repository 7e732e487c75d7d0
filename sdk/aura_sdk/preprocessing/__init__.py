"""Preprocessing shared by the runtime and the training pipeline (numpy/scipy, no state).

Raw device samples -> SI units -> anti-aliased resampling onto the model's uniform grid (gaps
detected and never interpolated across) -> gravity convention -> windows -> normalisation.
"""

from .._spec import UPRIGHT_SUFFIX
from ._gravity import GravityTracker
from ._pipeline import (
    PreprocessConfig,
    Preprocessor,
    PreprocessPlan,
    PreprocessStats,
    Windows,
    concat_windows,
    gravity_action,
    preprocess,
    timestamps_from_last,
)
from ._resample import (
    Gap,
    KernelSpec,
    ResampledChunk,
    ResamplePlan,
    StreamResampler,
    kernel_weights,
    resolve_plans,
)
from ._units import as_samples, as_timestamps, to_si
from ._upright import (
    UPRIGHT_AXES,
    WALKING_PLACEMENTS,
    UprightTracker,
    estimate_upright,
    rotate_imu,
    upright_rotation,
)
from ._window import Windower, normalize, pad_segment

__all__ = [
    "UPRIGHT_AXES",
    "UPRIGHT_SUFFIX",
    "WALKING_PLACEMENTS",
    "Gap",
    "GravityTracker",
    "KernelSpec",
    "PreprocessConfig",
    "PreprocessPlan",
    "PreprocessStats",
    "Preprocessor",
    "ResamplePlan",
    "ResampledChunk",
    "StreamResampler",
    "UprightTracker",
    "Windower",
    "Windows",
    "as_samples",
    "as_timestamps",
    "concat_windows",
    "estimate_upright",
    "gravity_action",
    "kernel_weights",
    "normalize",
    "pad_segment",
    "preprocess",
    "resolve_plans",
    "rotate_imu",
    "timestamps_from_last",
    "to_si",
    "upright_rotation",
]
