"""Suite-wide fixtures."""

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _session_aura_home(tmp_path_factory) -> Iterator[None]:
    """No test, and no module- or session-scoped fixture, writes to the real ~/.aura."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AURA_HOME", str(tmp_path_factory.mktemp("aura-home-session")))
        yield


@pytest.fixture(autouse=True)
def _aura_home(tmp_path_factory, monkeypatch) -> None:
    """Each test gets its own empty AURA_HOME: nothing enrolled leaks between tests."""
    monkeypatch.setenv("AURA_HOME", str(tmp_path_factory.mktemp("aura-home")))
