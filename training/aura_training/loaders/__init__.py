"""Real data sets read into the corpus sample schema (for users who have the data).

* PAMAP2: protocol / optional ``.dat`` files (100 Hz hand, chest and ankle IMUs).
* Ego-Exo4D: takes, 3D body pose, atomic descriptions, expert commentary, Aria IMU (CSV).

Nothing is downloaded: point the loaders at files you have.
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
    "PAMAP2_ACTIVITIES",
    "PAMAP2_IMUS",
    "PAMAP2_RATE_HZ",
    "Pamap2Recording",
    "load_egoexo4d",
    "load_pamap2",
    "read_aria_imu_csv",
    "read_atomic_descriptions",
    "read_body_pose",
    "read_expert_commentary",
    "read_pamap2_dat",
    "read_takes",
    "resample_keypoints",
]
