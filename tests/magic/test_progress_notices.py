"""The progress line says why a run pauses (the client's notices), until the next status."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.utils.capture import capture_output

from naive_nb.local import LocalServer
from tests.magic.conftest import TestingShell

NOTICE = "rate limited, resuming in 1 s"


def _outputs(captured: Any) -> list[str]:
    """Every progress rendering, in order: text lines (rewritten with \\r) or HTML updates."""
    lines = [line for line in captured.stdout.split("\r") if line.strip()]
    lines += [str(out.data.get("text/html", "")) for out in captured.outputs]
    return lines


@pytest.mark.parametrize("mode", ["text", "html"])
def test_a_rate_limit_pause_during_the_submit_shows_in_the_progress_line(
    online: TestingShell, local_server: LocalServer, mode: str
) -> None:
    online.run(f"%config NaiveMagics.progress = '{mode}'")
    online.magics.client.models()  # the catalog first: the 429 is for the submit
    local_server.faults.rate_limit_burst = 1
    local_server.faults.burst_retry_after = 1
    with capture_output() as captured:
        result = online.run("%naive a cat --seed 1 --size square")
    assert result.job_ids  # the run went on after the pause
    posts = [r.status for r in local_server.request_log if r.method == "POST"]
    assert posts == [429, 202]
    shown = _outputs(captured)
    noticed = [n for n, line in enumerate(shown) if NOTICE in line]
    assert noticed, shown
    assert "submitting" in shown[noticed[0]]  # on the state it explains
    # until the next status update, which carries no notice
    later = [line for line in shown[noticed[-1] + 1 :] if "naive" in line]
    assert later and NOTICE not in later[-1]
