"""Each notebook of ``notebooks/`` executed once per test session, each way (see notebooks.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.notebooks.notebooks import Executed, execute_keyless, execute_with_canary

Run = Callable[[str], Executed]


@pytest.fixture(scope="session")
def keyless(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """``keyless(name)``: the notebook as a reader runs it (no key), executed once."""
    done: dict[str, Executed] = {}

    def run(name: str) -> Executed:
        if name not in done:
            done[name] = execute_keyless(name, tmp_path_factory.mktemp(f"{name}-keyless"))
        return done[name]

    return run


@pytest.fixture(scope="session")
def canary(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """``canary(name)``: the notebook run with the canary key on a server here, once."""
    done: dict[str, Executed] = {}

    def run(name: str) -> Executed:
        if name not in done:
            done[name] = execute_with_canary(name, tmp_path_factory.mktemp(f"{name}-canary"))
        return done[name]

    return run
