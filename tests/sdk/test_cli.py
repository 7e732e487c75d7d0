"""The `aura` entry point: the fixed subcommand tree and its failure modes."""

from importlib import metadata

import pytest

from aura_sdk import MissingExtraError, NotBuiltError
from aura_sdk.cli import EXIT_MISSING_EXTRA, EXIT_NOT_BUILT, EXIT_USAGE, _registry, main

FIXED = {"demo", "live", "devices", "simulate", "decode", "data", "train", "distill", "eval",
         "export", "retrain", "bundle", "bench", "enroll"}


def test_every_fixed_subcommand_name_exists() -> None:
    assert set(_registry.SLOTS) == FIXED


def test_public_names_are_frozen() -> None:
    # Command and run_standalone are what the server-side packages' subcommands build on
    import aura_sdk.cli as cli

    assert set(cli.__all__) == {"EXIT_FAILED", "EXIT_MISSING_EXTRA", "EXIT_NOT_BUILT", "EXIT_OK",
                                "EXIT_USAGE", "Command", "main", "run_standalone"}
    assert cli.Command is _registry.Command and cli.run_standalone is _registry.run_standalone


def test_help_lists_every_command(capsys) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in FIXED:
        assert f"  {name} " in out


def test_unknown_command_is_a_usage_error(capsys) -> None:
    assert main(["frobnicate"]) == EXIT_USAGE
    assert "invalid choice" in capsys.readouterr().err


def test_unbuilt_command_names_the_missing_capability(capsys, monkeypatch) -> None:
    monkeypatch.setattr(_registry, "_entry_point", lambda name: None)
    assert main(["train"]) == EXIT_NOT_BUILT
    err = capsys.readouterr().err
    assert "aura train" in err and "not built yet" in err and "pretraining" in err
    with pytest.raises(NotBuiltError):
        _registry.resolve("eval")


def test_missing_extra_names_the_extra(capsys, monkeypatch) -> None:
    # a real entry point whose module cannot be imported, as when an extra is not installed
    ep = metadata.EntryPoint(name="train", value="aura_no_such_module_xyz:COMMAND",
                             group=_registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(_registry, "_entry_point", lambda name: ep)
    with pytest.raises(MissingExtraError) as info:
        _registry.resolve("train")
    assert info.value.extra == "train"
    assert main(["train"]) == EXIT_MISSING_EXTRA
    assert "pip install 'aura-sdk[train]'" in capsys.readouterr().err


def test_version_flag(capsys) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("aura-sdk ")


def test_every_fixed_command_is_built_in_the_full_install() -> None:
    for name in sorted(FIXED):
        command = _registry.resolve(name)
        assert isinstance(command, _registry.Command), name
