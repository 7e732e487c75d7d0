"""Few-shot enrollment on the device: features that keep motion detail, a small head fitted
with numpy/scipy, and the store of enrolled examples.

An enrolled label keeps, for every window of every example (and of augmented views of it),
the encoder's embedding and a feature row: robust statistics of the window
(:func:`window_statistics`) joined with the encoder's pooled token features when the bundle
exports them. With two or more enrolled labels in play, :class:`FewShotHead` (softmax
regression, :class:`LogisticHead`) decides among them; ``aura_sdk.live.Scorer`` mixes it with
zero-shot text scores.
"""

from ._classifier import DEFAULT_C, FewShotHead
from ._enrollments import Enrollments
from ._features import STATS_VERSION, n_statistics, window_statistics
from ._head import LogisticHead
from ._store import EnrolledLabel, EnrollmentStore

__all__ = [
    "DEFAULT_C",
    "STATS_VERSION",
    "EnrolledLabel",
    "EnrollmentStore",
    "Enrollments",
    "FewShotHead",
    "LogisticHead",
    "n_statistics",
    "window_statistics",
]
