"""From corpus clips to training batches, through the SDK's one preprocessing implementation.

Per clip and epoch (all randomness from ``default_rng([seed, epoch, crc32(clip_id)])``, so
the stream does not depend on how clips are spread over ranks and workers):

1. pick one IMU stream at random among the clip's placements (both wrists and, in corpora
   written since placements were added, a waist, a trouser-pocket and an upper-arm device:
   each is its own virtual device, with its own rate, decimation and gravity convention, so
   both conventions, every placement and 10-200 Hz devices appear); ``locations`` restricts
   the choice (``("left_wrist", "right_wrist")``: the wrist-only ablation);
2. convert it to SI (:func:`aura_sdk.preprocessing.to_si`), start it at a random phase of
   the hop, and augment it at the device rate (:func:`augment_imu`: rotation, mirror, gain,
   noise);
3. run :func:`aura_sdk.preprocessing.preprocess` with the model's
   :class:`~aura_sdk.ModelInputSpec`: the very code ``AuraModel.windows`` runs on a device
   (resampling, gaps, windowing, padding, normalisation). With augmentation off, the
   training windows *are* the runtime windows, bit for bit;
4. keep windows wholly inside one labelled stretch; pair each with one of that stretch's
   descriptions (a row of the :class:`~aura_training.train.TextTable`), the mocap frames of
   the same 5 s and the video frames the video encoder reads (with the clip's sensor noise).

:class:`WindowStream` shuffles windows across clips in a buffer and yields whole batches;
each DataLoader worker of each rank reads its own shards through the corpus reader.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch.utils.data import IterableDataset, get_worker_info

from aura_sdk import ConfigError, ModelInputSpec, SensorSpec, SpecMismatchError
from aura_sdk.bundle import EncoderSpec
from aura_sdk.preprocessing import (
    UPRIGHT_AXES,
    UPRIGHT_SUFFIX,
    PreprocessConfig,
    Windows,
    preprocess,
    rotate_imu,
    to_si,
    upright_rotation,
)

from ..corpus import CorpusReader, ImuStream, Sample
from ..eval._inputs import location_placement
from ..losses import text_ids
from ..models import frame_indices
from ..text import label_prompts
from ._augment import augment_imu
from ._config import AugmentConfig

__all__ = [
    "DEFAULT_INPUT_SPEC",
    "ClipWindower",
    "WindowItem",
    "WindowStream",
    "activity_id",
    "collate",
    "stream_windows",
]

F32 = NDArray[np.float32]

#: The default model input: 50 Hz, 5 s windows (250 samples), a 2.5 s live hop, trained on
#: both gravity conventions ("either"), edge padding; statistics 0/1 until a run fills them.
DEFAULT_INPUT_SPEC = ModelInputSpec(sample_rate_hz=50.0, window_samples=250, hop_samples=125,
                                    gravity="either", pad_mode="edge")


def stream_windows(
    stream: ImuStream,
    spec: ModelInputSpec,
    *,
    hop_samples: int | None = None,
    pad_min_fraction: float = 0.2,
    augment: AugmentConfig | None = None,
    rng: np.random.Generator | None = None,
    start_s: float = 0.0,
    turn: NDArray[np.float64] | None = None,
    mirror_ok: bool = True,
) -> Windows:
    """The training path for one raw IMU stream: SI, augment, then the SDK's preprocessing.

    Args:
        stream: a corpus stream in its device's units, rate and gravity convention.
        spec: the model input (rate, window, gravity, statistics).
        hop_samples: hop between windows (``None``: the spec's live hop).
        pad_min_fraction: as ``PreprocessConfig.pad_min_fraction``.
        augment: augmentation of the SI stream (``None`` or disabled: none).
        rng: the generator for the augmentation.
        start_s: drop samples before this time (a random window phase).
        turn: a rotation of the sensor frame applied before the augmentation (the turn to
            the wearer's upright, :func:`aura_sdk.preprocessing.upright_rotation`).
        mirror_ok: see :func:`augment_imu`.

    Returns:
        The normalised windows, times in the stream's time base.

    Raises:
        SpecMismatchError: the stream's gravity convention cannot feed ``spec``.
    """
    x = to_si(stream.data, stream.spec)
    t = np.asarray(stream.t, dtype=np.float64)
    if start_s > 0.0:
        keep = t >= start_s
        x, t = x[keep], t[keep]
    if turn is not None:
        x = rotate_imu(x, turn)
    if augment is not None and augment.enabled:
        x = augment_imu(x, rng if rng is not None else np.random.default_rng(0), augment,
                        mirror_ok=mirror_ok)
    si = SensorSpec(sample_rate_hz=stream.spec.sample_rate_hz, accel_unit="m/s^2",
                    gyro_unit="rad/s", gravity_removed=stream.spec.gravity_removed)
    config = PreprocessConfig(hop_samples=hop_samples, pad_min_fraction=pad_min_fraction)
    return preprocess(x, si, spec, t=t, config=config)


@dataclass(frozen=True, eq=False)
class WindowItem:
    """One training example: a model-ready IMU window and what it is paired with.

    Attributes:
        imu: ``(window, 6)`` float32 normalised model input.
        text: row of the run's text table (``-1`` when text is not trained).
        text_id: content id of that text (equal texts, equal ids).
        mocap: ``(frames, 17, 3)`` float32 keypoints, or ``None``.
        video: ``(n_frames, H, W)`` uint8 frames the video encoder reads, or ``None``.
        activity: the window's label.
        clip_id, start_s, location: where it came from.
        placement: the placement input: 0 ("not said") or ``1 + i`` for the windower's
            ``placements[i]``.
    """

    imu: F32
    text: int
    text_id: int
    mocap: F32 | None
    video: NDArray[np.uint8] | None
    activity: str
    clip_id: str
    start_s: float
    location: str
    placement: int = 0


class ClipWindower:
    """Turn a clip into :class:`WindowItem` s for one epoch (picklable: runs in workers).

    Args:
        spec: the model input spec (with the run's statistics).
        modalities: the modalities trained (``imu`` plus loss pairs).
        text_index: text -> row of the text table.
        text_ids: ``(n,)`` content ids of the table's rows.
        seed: the run's seed.
        augment: augmentation (disabled for evaluation).
        hop_samples: hop between a clip's windows (``None``: the spec's live hop).
        pad_min_fraction: pad short segments into windows (as at run time).
        label_prompt_prob: probability of a label prompt instead of a description.
        locations: IMU streams to pick from (default: all of the clip's, every placement;
            clips holding none of them are skipped).
        video_frames: frames the video encoder reads (``n_frames`` of its config).
        mocap_fps: mocap frame rate the mocap encoder expects.
        positives: ``"activity"``: a window's ``text_id`` names its activity, so windows of
            the same activity are positives for each other's texts; ``"text"``: it names
            the text.
        placements: placement names the IMU encoder reads as a second input (its config's
            ``placements``); a stream ``"left_waist"`` is the placement ``"waist"``.
        placement_dropout: probability that a clip's placement is withheld (id 0) in an
            epoch, so the encoder also works when the user does not say.
        upright_prob: probability that a clip's stream, when its placement is said and the
            encoder knows that placement plus ``UPRIGHT_SUFFIX``, is turned to the wearer's
            upright (from the corpus's mounting, as :attr:`aura_sdk.SensorSpec.upright`
            turns a device at run time) and read as that placement.
        upright_reference: up per stream location in its canonical device frame (default:
            the placement's rest axis); see ``DataConfig.upright_reference``.
    """

    def __init__(
        self,
        spec: ModelInputSpec,
        modalities: Sequence[str],
        text_index: Mapping[str, int],
        text_ids: NDArray[np.int64],
        *,
        seed: int,
        augment: AugmentConfig,
        hop_samples: int | None = None,
        pad_min_fraction: float = 0.2,
        label_prompt_prob: float = 0.0,
        locations: Sequence[str] | None = None,
        video_frames: int = 1,
        mocap_fps: float = 10.0,
        positives: str = "text",
        placements: Sequence[str] = (),
        placement_dropout: float = 0.0,
        upright_prob: float = 0.0,
        upright_reference: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        self.spec = spec
        self.modalities = tuple(modalities)
        self.text_index = dict(text_index)
        self.text_ids = np.asarray(text_ids, dtype=np.int64)
        self.seed = seed
        self.augment = augment
        self.hop_samples = hop_samples
        self.pad_min_fraction = pad_min_fraction
        self.label_prompt_prob = label_prompt_prob
        self.locations = None if locations is None else tuple(locations)
        self.video_frames = video_frames
        self.mocap_fps = mocap_fps
        if positives not in ("text", "activity"):
            raise ValueError(f"positives must be 'text' or 'activity', not {positives!r}")
        self.positives = positives
        self.placements = tuple(placements)
        self.placement_dropout = placement_dropout
        self.upright_prob = upright_prob
        self.upright_reference = {k: np.asarray(v, dtype=np.float64)
                                  for k, v in (upright_reference or {}).items()}

    def rng(self, sample: Sample, epoch: int) -> np.random.Generator:
        """The clip's generator for ``epoch`` (independent of rank and worker)."""
        return np.random.default_rng([self.seed, epoch, zlib.crc32(sample.clip_id.encode())])

    def streams(self, sample: Sample) -> list[str]:
        """The clip's usable IMU streams, sorted."""
        locs = sorted(sample.imu) if self.locations is None else [
            loc for loc in self.locations if loc in sample.imu]
        if self.spec.gravity == "included":
            locs = [loc for loc in locs if not sample.imu[loc].spec.gravity_removed]
        return locs

    def imu_windows(self, sample: Sample, epoch: int) -> tuple[Windows, str,
                                                               np.random.Generator] | None:
        """The clip's IMU windows for ``epoch`` (one stream, augmented), or ``None``."""
        locs = self.streams(sample)
        rng = self.rng(sample, epoch)
        pick = int(rng.integers(len(locs))) if locs else 0
        hop = self.hop_samples or self.spec.hop_samples
        phase = float(rng.random()) * hop / self.spec.sample_rate_hz
        if not locs:
            return None
        stream = sample.imu[locs[pick]]
        start = phase if self.augment.enabled and self.augment.time_shift else 0.0
        _, turn = self.frame(sample, locs[pick], epoch)
        try:
            w = stream_windows(stream, self.spec, hop_samples=hop,
                               pad_min_fraction=self.pad_min_fraction, augment=self.augment,
                               rng=rng, start_s=start, turn=turn,
                               mirror_ok=turn is None or location_placement(locs[pick]) == "wrist")
        except SpecMismatchError:
            return None
        return w, locs[pick], rng

    def __call__(self, sample: Sample, epoch: int) -> list[WindowItem]:
        """The clip's training items for ``epoch``, in time order."""
        got = self.imu_windows(sample, epoch)
        if got is None:
            return []
        w, loc, rng = got
        placement, _ = self.frame(sample, loc, epoch)
        window_s = self.spec.window_s
        n_mocap = round(window_s * self.mocap_fps)
        items = []
        for i in range(len(w)):
            t0 = float(w.t_start[i])
            entry = next((e for e in sample.timeline
                          if e.start_s <= t0 + 1e-9 and t0 + window_s <= e.end_s + 1e-9), None)
            if entry is None or t0 < 0:
                continue
            text, text_id = self._text(sample, entry.texts, entry.activity, rng)
            if "text" in self.modalities and text < 0:
                continue
            mocap = video = None
            if "mocap" in self.modalities:
                mocap = _frames(sample.mocap, sample.mocap_fps, t0, n_mocap)
                if mocap is None:
                    continue
            if "video" in self.modalities:
                video = self._video(sample, t0, rng)
                if video is None:
                    continue
            items.append(WindowItem(imu=w.x[i], text=text, text_id=text_id, mocap=mocap,
                                    video=video, activity=entry.activity,
                                    clip_id=sample.clip_id, start_s=t0, location=loc,
                                    placement=placement))
        return items

    def placement_id(self, sample: Sample, location: str, epoch: int) -> int:
        """The placement input of a clip's stream in ``epoch`` (0: not said or withheld).

        Drawn from its own generator, so switching placements on changes no other draw.
        """
        pid = EncoderSpec.placement_index(self.placements, location_placement(location))
        if pid == 0:
            return 0
        rng = np.random.default_rng([self.seed, epoch, zlib.crc32(sample.clip_id.encode()), 1])
        if rng.random() < self.placement_dropout:
            return 0
        return pid

    def frame(self, sample: Sample, location: str, epoch: int
              ) -> tuple[int, NDArray[np.float64] | None]:
        """The placement input of a clip's stream in ``epoch`` and the turn of its sensor
        frame to the wearer's upright (``None``: read as the device sits). Drawn from its
        own generator, so turning streams on changes no other draw."""
        pid = self.placement_id(sample, location, epoch)
        name = location_placement(location)
        up_name = f"{name}{UPRIGHT_SUFFIX}"
        if (pid == 0 or name is None or self.upright_prob <= 0.0
                or up_name not in self.placements
                or sample.imu[location].spec.gravity_removed):  # no gravity: no up to find
            return pid, None
        rng = np.random.default_rng([self.seed, epoch, zlib.crc32(sample.clip_id.encode()), 2])
        mount = sample.params.get("imu", {}).get(location, {}).get("mount_rot")
        if mount is None or rng.random() >= self.upright_prob:
            return pid, None
        # the corpus stores v_device = mount @ v_sensor; up in the sensor frame is mount^T up
        axis = self.upright_reference.get(location)
        if axis is None:
            axis = np.array(UPRIGHT_AXES[name])
        up = np.asarray(mount, dtype=np.float64).T @ axis
        return (EncoderSpec.placement_index(self.placements, up_name),
                upright_rotation(up, name))

    def _text(self, sample: Sample, texts: Sequence[str], activity: str,
              rng: np.random.Generator) -> tuple[int, int]:
        choices = list(texts) or list(sample.texts)
        use_prompt = rng.random() < self.label_prompt_prob
        j = rng.random()
        if use_prompt and activity:
            choices = label_prompts(activity, "train")
        if "text" not in self.modalities or not choices:
            return -1, 0
        row = self.text_index.get(choices[int(j * len(choices))], -1)
        if row < 0:
            return row, 0
        if self.positives == "activity" and activity:
            return row, activity_id(activity)
        return row, int(self.text_ids[row])

    def _video(self, sample: Sample, t0: float,
               rng: np.random.Generator) -> NDArray[np.uint8] | None:
        if sample.video is None:
            return None
        n = round(self.spec.window_s * sample.video_fps)
        a = round(t0 * sample.video_fps)
        if a + n > sample.video.shape[0]:
            return None
        idx = [a + k for k in frame_indices(n, self.video_frames)]
        frames = sample.video[idx]
        sigma = float(sample.params.get("video_noise_sigma", 0.0))
        if sigma > 0:
            # the corpus stores noise-free frames; add the clip's drawn sensor noise
            noisy = frames + rng.normal(0.0, sigma, size=frames.shape)
            frames = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(frames)


def activity_id(activity: str) -> int:
    """A content id for "any text of this activity", hashed like a text's id from a key no
    text has (it starts with "activity" and a NUL)."""
    return int(text_ids([f"activity\x00{activity}"])[0])


def _frames(x: F32 | None, fps: float, t0: float, n: int) -> F32 | None:
    if x is None:
        return None
    a = round(t0 * fps)
    if a + n > x.shape[0]:
        return None
    return np.ascontiguousarray(x[a : a + n], dtype=np.float32)


def collate(items: Sequence[WindowItem], meta: Sequence[int] = (0, 0, 0)) -> dict[str, Any]:
    """Stack items into a batch of tensors.

    Returns:
        ``imu`` ``(B, window, 6)`` float32, ``text`` / ``text_id`` / ``placement`` ``(B,)``
        int64, ``activity_id`` ``(B,)`` int64 (:func:`activity_id` of the label, -1 for none),
        ``mocap`` ``(B, frames, 17, 3)`` and ``video`` ``(B, n, H, W)`` when present, and
        ``meta`` ``(3,)`` int64: reader, epoch and batch index within that reader's epoch.
    """
    out: dict[str, Any] = {
        "imu": torch.from_numpy(np.stack([it.imu for it in items])),
        "text": torch.tensor([it.text for it in items], dtype=torch.long),
        "text_id": torch.tensor([it.text_id for it in items], dtype=torch.long),
        "placement": torch.tensor([it.placement for it in items], dtype=torch.long),
        "activity_id": torch.tensor([activity_id(it.activity) if it.activity else -1
                                     for it in items], dtype=torch.long),
        "meta": torch.tensor(list(meta), dtype=torch.long),
    }
    if items and items[0].mocap is not None:
        out["mocap"] = torch.from_numpy(np.stack([it.mocap for it in items]))  # type: ignore[misc]
    if items and items[0].video is not None:
        out["video"] = torch.from_numpy(np.stack([it.video for it in items]))  # type: ignore[misc]
    return out


class WindowStream(IterableDataset[dict[str, Any]]):
    """Batches of windows from one split, each DataLoader worker of each rank on its shards.

    Training (``infinite=True``): each reader (``rank * workers + logical worker``) runs its
    own epochs back to back, shards and clips shuffled per epoch, windows mixed in a shuffle
    buffer, incomplete last batches dropped, so every rank always has a next batch and the
    ranks step together. Every batch carries ``meta = (reader, epoch, index)``; a reader
    restarted with ``start={logical: (epoch, index + 1)}`` continues exactly where it was.
    DataLoader fetches from its workers in turn starting at worker 0; ``rotate=r`` makes
    physical worker ``p`` host logical reader ``(p + r) % workers``, so a resumed loader
    continues the round-robin where the previous one stopped.

    Evaluation (``infinite=False``, ``shuffle_seed=None``): one pass in manifest order,
    a final partial batch kept if it holds at least 2 windows.

    Args:
        root: the corpus directory.
        split: the split to read.
        windower: turns clips into items.
        batch_size: windows per batch.
        modalities: corpus modalities to load.
        rank, world_size: this process among the ranks.
        shuffle_seed: shuffle seed (``None``: no shuffling).
        shuffle_buffer: windows held for mixing.
        infinite: cycle epochs forever (training).
        start: logical worker -> ``(epoch, batches to skip)``.
        rotate: see above.
    """

    def __init__(
        self,
        root: Any,
        split: str,
        windower: ClipWindower,
        batch_size: int,
        *,
        modalities: Sequence[str] = ("imu", "text", "mocap", "video"),
        rank: int = 0,
        world_size: int = 1,
        shuffle_seed: int | None = None,
        shuffle_buffer: int = 512,
        infinite: bool = False,
        start: Mapping[int, tuple[int, int]] | None = None,
        rotate: int = 0,
    ) -> None:
        super().__init__()
        self.reader = CorpusReader(root, split, modalities=modalities)
        self.windower = windower
        self.batch_size = batch_size
        self.rank = rank
        self.world_size = world_size
        self.shuffle_seed = shuffle_seed
        self.shuffle_buffer = shuffle_buffer
        self.infinite = infinite
        self.start = dict(start or {})
        self.rotate = rotate

    def __iter__(self) -> Iterator[dict[str, Any]]:
        info = get_worker_info()
        physical, workers = (0, 1) if info is None else (info.id, info.num_workers)
        logical = (physical + self.rotate) % workers
        epoch, skip = self.start.get(logical, (0, 0))
        empty = 0
        while True:
            made = 0
            for index, items in enumerate(self._epoch(epoch, logical, workers)):
                made += 1
                if index >= skip:
                    yield collate(items, (logical, epoch, index))
            if not self.infinite:
                return
            empty = empty + 1 if made == 0 else 0
            if empty >= 5:  # an epoch may draw small shards; five in a row is a config error
                raise ConfigError(
                    f"reader {self.rank * workers + logical} made no full batch of "
                    f"{self.batch_size} windows in 5 epochs: the corpus is too small for this "
                    "batch size and number of ranks x workers; lower batch_size or "
                    "data.num_workers, or write more (or smaller) shards")
            epoch, skip = epoch + 1, 0

    def _epoch(self, epoch: int, logical: int, workers: int) -> Iterator[list[WindowItem]]:
        train = self.shuffle_seed is not None
        samples = self.reader.iter_samples(self.rank, self.world_size, logical, workers,
                                           epoch=epoch, shuffle_seed=self.shuffle_seed,
                                           drop_uneven=self.infinite)
        items: Iterator[WindowItem] = (it for s in samples for it in self.windower(s, epoch))
        if train:
            key = self.rank * workers + logical
            rng = np.random.default_rng([self.shuffle_seed or 0, epoch, key, 0x5EED])
            items = _shuffled(items, rng, self.shuffle_buffer)
        batch: list[WindowItem] = []
        for it in items:
            batch.append(it)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if not self.infinite and len(batch) >= 2:
            yield batch


def _shuffled(items: Iterator[WindowItem], rng: np.random.Generator,
              size: int) -> Iterator[WindowItem]:
    buf: list[WindowItem] = []
    for it in items:
        if len(buf) < size:
            buf.append(it)
            continue
        j = int(rng.integers(size))
        yield buf[j]
        buf[j] = it
    for j in rng.permutation(len(buf)):
        yield buf[j]
