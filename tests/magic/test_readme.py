"""The README's examples run as written: every %naive line parses, and its blocks run in a real
shell against the embedded server, sending exactly the requests they show (no comment text)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from naive_nb.local import LocalServer
from naive_nb.notebook.args import parse_line
from tests.magic.conftest import TestingShell

README = Path(__file__).resolve().parents[2] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def _magic_blocks() -> list[str]:
    return [block for block in _python_blocks() if "%naive" in block]


def _magic_lines() -> list[tuple[str, str | None]]:
    """Each %naive line (cell None), and each %%naive cell with its body."""
    found: list[tuple[str, str | None]] = []
    for block in _magic_blocks():
        if block.startswith("%%naive"):
            first, _, body = block.partition("\n")
            found.append((first.removeprefix("%%naive"), body))
            continue
        for line in block.splitlines():
            assert not line.lstrip().startswith("%%naive"), "a cell magic must open its block"
            if line.startswith("%naive"):
                found.append((line.removeprefix("%naive"), None))
    return found


def test_the_readme_has_magic_examples() -> None:
    assert len(_magic_lines()) >= 7  # the extraction found them (a test of nothing otherwise)


@pytest.mark.parametrize(("line", "cell"), _magic_lines())
def test_every_readme_magic_line_parses(line: str, cell: str | None) -> None:
    command = parse_line(line, cell)
    if command.name == "generate":
        assert "#" not in command.generate.prompt  # a comment is never prompt text
        assert command.generate.prompt


def test_the_readme_python_blocks_run_as_written(
    online: TestingShell, local_server: LocalServer
) -> None:
    # the online shell has NAIVE_API_KEY and NAIVE_BASE_URL set to the embedded server, as a
    # reader's environment would point at the hosted API
    for block in _python_blocks():
        online.run(block)
    jobs = sorted(local_server.state.all_jobs(), key=lambda job: job.created_at)
    made = [(job.input["prompt"], job.input["seed"]) for job in jobs]
    logo, lighthouse = "a minimalist logo for a tech startup", "a lighthouse at dusk"
    assert made[:5] == [(logo, 42), *[(logo, seed) for seed in (1, 2, 3, 4)]]
    # the model sweep: 4 seeds x 2 models, run concurrently (any order within the sweep)
    by_model = {(job.input["seed"], job.model) for job in jobs[5:13]}
    models = ("fal-ai/flux/schnell", "fal-ai/flux/dev")
    assert by_model == {(seed, model) for seed in (1, 2, 3, 4) for model in models}
    # compare(): seeds x steps; then the re-run from the store and the panel send nothing
    by_steps = {(job.input["seed"], job.input["num_inference_steps"]) for job in jobs[13:17]}
    assert by_steps == {(1, 4), (1, 8), (2, 4), (2, 8)}
    assert {prompt for prompt, _ in made[5:17]} == {lighthouse}
    assert made[17:] == [("a cat", 42)]  # the client example
    assert (Path.cwd() / "study.html").is_file() and (Path.cwd() / "study.png").is_file()
    assert jobs[0].input["num_images"] == 2 and jobs[0].input["image_size"] == "square_hd"
    assert online.ns["result"].job.id == jobs[-1].id and len(online.ns["result"].images) == 2
