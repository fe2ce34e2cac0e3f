"""Lines a person really types (autocorrect, comments, a capital letter, a flag in the body)
through a real shell against the embedded server: each is refused before anything is sent, or
sent as it was plainly meant; none is paid for as something else (issue 7, item 8)."""

from __future__ import annotations

import pytest

from naive_nb.local import LocalServer
from naive_nb.notebook.messages import NaiveUsageError
from tests.conftest import CANARY_KEY
from tests.magic.conftest import TestingShell


def _submitted(server: LocalServer) -> list[tuple[object, object]]:
    """(prompt, seed) of every job the server accepted, oldest first."""
    jobs = sorted(server.state.all_jobs(), key=lambda job: job.created_at)
    return [(job.input.get("prompt"), job.input.get("seed")) for job in jobs]


def _refused(ip: TestingShell, cell: str) -> str:
    with pytest.raises(NaiveUsageError) as caught:
        ip.run(cell)
    text = str(caught.value)
    assert CANARY_KEY not in text
    return text


@pytest.mark.parametrize(
    ("cell", "needles"),
    [
        ("%naive a cat --seeds '1-10 (+0)'", ["--seeds", "the step must not be 0"]),
        ("%naive a cat -m ''", ["-m is empty", "NaiveMagics.model"]),
        ("%naive a cat --model=", ["--model is empty"]),
        # Schnell's own range, from the validator: never the "1 to 50" of other models
        ("%naive a cat --steps 0", ["--steps", "1 to 12", "Nothing was sent."]),
        ("%naive a cat -m fal-ai/flux/dev --steps 60", ["--steps", "1 to 50", "flux/dev"]),
        ("%naive a cat --steps 4,13", ["--steps", "1 to 12", "got 13"]),
        ("%%naive --seed 1\nA minimalist logo\n--seeds 1-4\n", ["flags go on the %%naive line"]),
        ("%%naive\nA minimalist logo\n\u2014num 2\n", ["(%%naive --num 2)"]),
        ("%naive Status report on a desk", ["quote it or use --prompt"]),
    ],
)
def test_refused_before_anything_is_sent(
    online: TestingShell, local_server: LocalServer, cell: str, needles: list[str]
) -> None:
    text = _refused(online, cell)
    for needle in needles:
        assert needle in text
    if "--steps 0" in cell:
        assert "1 to 50" not in text
    assert local_server.jobs() == []
    assert not any(r.path == "/v1/images/generate" for r in local_server.request_log)


@pytest.mark.parametrize(
    ("cell", "shows"),
    [
        ("%naive Models", "fal-ai/flux/schnell"),  # the models table
        ("%naive MODELS", "fal-ai/flux/schnell"),
        ("%naive Help", "%naive resume [JOB_ID]"),  # the help text
        ("%naive HELP", "%naive resume [JOB_ID]"),
    ],
)
def test_a_capitalised_subcommand_runs_it_and_generates_nothing(
    online: TestingShell, local_server: LocalServer, cell: str, shows: str
) -> None:
    value, captured = online.capture(cell)
    assert shows in repr(value) + captured.stdout
    assert local_server.jobs() == []


@pytest.mark.parametrize("dash", ["\u2013", "\u2014"])
def test_a_typographic_dash_flag_is_honoured(
    online: TestingShell, local_server: LocalServer, dash: str
) -> None:
    online.run(f"%naive a lighthouse at dusk {dash}seed 42")
    online.run(f"%naive a lighthouse at dusk {dash}{dash}seeds 1{dash}2")
    assert _submitted(local_server) == [
        ("a lighthouse at dusk", 42),
        ("a lighthouse at dusk", 1),
        ("a lighthouse at dusk", 2),
    ]


def test_a_trailing_comment_is_not_paid_for(
    online: TestingShell, local_server: LocalServer
) -> None:
    online.run("%naive a minimalist logo for a tech startup --seeds 1-2   # one job per seed")
    online.run(
        "%%naive --seed 3   # the cell line may end in a comment too\n"
        "# and the body may hold comment lines\nA minimalist logo\n"
    )
    assert _submitted(local_server) == [
        ("a minimalist logo for a tech startup", 1),
        ("a minimalist logo for a tech startup", 2),
        ("A minimalist logo", 3),
    ]
