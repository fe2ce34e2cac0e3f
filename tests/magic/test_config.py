"""Settings through a real ``%config`` line: a refused value fails the cell, the user reads what
is allowed, and nothing changes; ``short_errors = False`` shows the exception behind a message."""

from __future__ import annotations

import _thread
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.utils.capture import capture_output
from traitlets import TraitError
from traitlets.config import Config

from naive_nb.local import LocalServer, serve_local
from naive_nb.notebook.config import SettingRefused
from naive_nb.notebook.magics import CellFailed, NaiveMagics
from naive_nb.run.problems import RunInterrupted
from tests.conftest import CANARY_KEY
from tests.magic.conftest import TestingShell


def _refused(ip: TestingShell, line: str) -> tuple[str, str]:
    """Run a %config line that must fail; its message, and what the user saw."""
    with capture_output() as captured:
        result = ip.shell.run_cell(line, store_history=True)
    assert not result.success
    error = result.error_in_exec
    assert isinstance(error, SettingRefused)
    return str(error), captured.stdout + captured.stderr


@pytest.mark.parametrize(
    ("line", "name", "needle"),
    [
        ("%config NaiveMagics.num_images = 9", "num_images", "an integer from 1 to 4; got 9"),
        ("%config NaiveMagics.num_images = '2'", "num_images", "an integer from 1 to 4; got '2'"),
        (
            "%config NaiveMagics.progress = 'bogus'",
            "progress",
            "one of 'auto', 'widget', 'html', 'text', 'none'; got 'bogus'",
        ),
        (
            "%config NaiveMagics.output_format = 'gif'",
            "output_format",
            "one of 'jpeg', 'png', None; got 'gif'",
        ),
        ("%config NaiveMagics.size = 'huge'", "size", "one of 'square_hd', 'square',"),
        ("%config NaiveMagics.size = '768x512'", "size", "'landscape_16_9'; got '768x512'"),
        ("%config NaiveMagics.timeout = 0", "timeout", "a number of at least 1; got 0"),
        ("%config NaiveMagics.cache = 'no'", "cache", "True or False; got 'no'"),
        ("%config NaiveMagics.display_width = 10", "display_width", "an integer from 320 to 4000"),
        ("%config NaiveMagics.store = ''", "store", "a directory path such as 'naive-results'"),
        ("%config NaiveMagics.store = '   '", "store", "(not empty); got '   '"),
        ("%config NaiveMagics.model = ''", "model", "a model id such as 'fal-ai/flux/schnell'"),
    ],
)
def test_a_refused_setting_fails_the_cell_and_changes_nothing(
    ip: TestingShell, line: str, name: str, needle: str
) -> None:
    before = getattr(ip.magics, name)
    message, seen = _refused(ip, line)
    assert message.startswith(f"%config: NaiveMagics.{name} must be ")
    assert needle in message
    assert message.endswith(f"It stays {before!r}.")
    assert message in seen  # shown to the user (one red line), not only logged
    assert "Traceback" not in seen
    assert getattr(ip.magics, name) == before
    # nor kept in the shell's config, from which %reload_ext would read it back
    assert ip.shell.config.NaiveMagics.get(name, before) == before


def test_an_unknown_setting_fails_the_cell_with_the_list(ip: TestingShell) -> None:
    message, seen = _refused(ip, "%config NaiveMagics.num = 4")
    assert message.startswith("%config: NaiveMagics has no setting 'num'. Settings: cache,")
    assert "num_images" in message and message in seen
    assert "num" not in ip.shell.config.NaiveMagics


def test_good_settings_still_apply_and_the_next_cell_uses_them(
    online: TestingShell, local_server: LocalServer, tmp_path: Path
) -> None:
    online.run("%config NaiveMagics.num_images = 2")
    online.run("%config NaiveMagics.size = 'square'")
    with pytest.raises(SettingRefused):
        online.run("%config NaiveMagics.store = ''")
    online.run("%naive a cat --seed 1")
    (job,) = local_server.state.all_jobs()
    assert job.input["num_images"] == 2 and job.input["image_size"] == "square"
    assert (tmp_path / "naive-results" / job.id / "manifest.json").is_file()  # not the cwd
    assert not (tmp_path / job.id).exists()


def test_an_empty_store_from_a_config_file_is_refused_too() -> None:
    with pytest.raises(TraitError, match=r"NaiveMagics\.store must be a directory path"):
        NaiveMagics(shell=None, config=Config({"NaiveMagics": {"store": ""}}))


# --- short_errors = False ----------------------------------------------------------------------


@pytest.fixture
def slow_server() -> Iterator[LocalServer]:
    """Jobs last their full estimate (a few seconds): long enough to interrupt."""
    with serve_local(api_key=CANARY_KEY, time_scale=1.0, spread=0.0, rate_limit=None) as server:
        yield server


def _raised(ip: TestingShell, cell: str) -> BaseException:
    with pytest.raises(BaseException) as caught:
        ip.run(cell)
    return caught.value


def test_short_errors_off_shows_a_failed_run_as_a_public_error(
    online: TestingShell, local_server: LocalServer
) -> None:
    online.run("%config NaiveMagics.short_errors = False")
    error = _raised(online, "%naive a cat [fail] --seed 1")
    assert type(error) is CellFailed  # public (naive_nb.notebook.magics.CellFailed), never _Short
    assert not type(error).__name__.startswith("_")
    (job,) = local_server.jobs()
    assert f"job {job['id']} failed" in str(error)


def test_short_errors_off_shows_the_interrupt_itself(
    ip: TestingShell, slow_server: LocalServer
) -> None:
    ip.use_client(slow_server)
    ip.run("%config NaiveMagics.short_errors = False")

    def interrupt_once_submitted() -> None:
        while not slow_server.jobs():
            time.sleep(0.005)
        _thread.interrupt_main()

    threading.Thread(target=interrupt_once_submitted, daemon=True).start()
    error = _raised(ip, "%naive a cat --seed 1")
    # the run layer's own exception (what the short message words), not a private wrapper;
    # what the run did about the job is the run layer's to test (tests/magic/test_errors.py)
    assert type(error) is RunInterrupted
    assert str(error).startswith("Interrupted")
