"""Each notebook of ``notebooks/`` executed once per test session, each way (see notebooks.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.notebooks.notebooks import Executed, execute_keyless, execute_with_canary

Run = Callable[[str], Executed]


def _once(
    execute: Callable[[str, Path], Executed], way: str, folders: pytest.TempPathFactory
) -> Run:
    """``run(name)``: the notebook executed ``execute``'s way the first time it is asked for."""
    done: dict[str, Executed] = {}

    def run(name: str) -> Executed:
        if name not in done:
            done[name] = execute(name, folders.mktemp(f"{name}-{way}"))
        return done[name]

    return run


@pytest.fixture(scope="session")
def keyless(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """``keyless(name)``: the notebook as a reader runs it (no key), executed once."""
    return _once(execute_keyless, "keyless", tmp_path_factory)


@pytest.fixture(scope="session")
def canary(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """``canary(name)``: the notebook run with the canary key on a server here, once."""
    return _once(execute_with_canary, "canary", tmp_path_factory)
