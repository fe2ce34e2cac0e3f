"""Binder as repo2docker builds it: a new virtualenv made only from ``binder/`` runs the notebooks.

repo2docker installs ``binder/requirements.txt``, then runs ``binder/postBuild`` from the
repository's root (which installs naive-nb from the checkout). This test does the same in a new
virtualenv, from a copy of the repository without its ``.venv``, then executes every notebook in
``notebooks/`` on a real kernel of that virtualenv, with no key: the notebooks must work on the
embedded local preview engine with nothing but what Binder would have installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# what repo2docker would not see: the developer's environment and outputs
IGNORED = shutil.ignore_patterns(
    ".venv",
    ".git",
    "__pycache__",
    "*.egg-info",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "naive-results",
    "naive-demo",
    "artifacts",
    "build",
    "dist",
)

EXECUTE = """
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

path, workdir = Path(sys.argv[1]), Path(sys.argv[2])
notebook = nbformat.read(path, as_version=4)
for cell in notebook.cells:
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
# a cell tagged raises-exception may fail (nbclient honours the tag); any other error fails
resources = {"metadata": {"path": str(workdir)}}
NotebookClient(notebook, timeout=300, kernel_name="python3", resources=resources).execute()
nbformat.write(notebook, workdir / path.name)
print("executed", path.name)
"""


def _env(venv: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("NAIVE_", "PYTHON", "VIRTUAL_ENV"))
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    env["NAIVE_LOCAL_TIME_SCALE"] = "0.02"  # the same notebooks, faster jobs
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="module")
def binder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the virtualenv's python, the repository copy) after requirements.txt and postBuild."""
    base = tmp_path_factory.mktemp("binder")
    repo = base / "repo"
    shutil.copytree(ROOT, repo, ignore=IGNORED)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = _env(venv)
    python = venv / "bin" / "python"
    for command in (
        [str(python), "-m", "pip", "install", "--quiet", "-r", "binder/requirements.txt"],
        ["bash", "binder/postBuild"],
    ):
        done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
    return python, repo


def test_binder_installs_naive_nb_from_the_checkout_with_consistent_pins(
    binder: tuple[Path, Path],
) -> None:
    python, _repo = binder
    check = subprocess.run(
        [str(python), "-m", "pip", "check"],
        env=_env(python.parent.parent),
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    where = subprocess.run(
        [str(python), "-c", "import naive_nb, sys; print(naive_nb.__file__)"],
        cwd=python.parent,  # not the repository: the installed package must be found
        env=_env(python.parent.parent),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert "site-packages" in where, where


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebook_runs_on_binder_without_a_key(
    binder: tuple[Path, Path], notebook: Path, tmp_path: Path
) -> None:
    python, repo = binder
    done = subprocess.run(
        [str(python), "-c", EXECUTE, str(repo / "notebooks" / notebook.name), str(tmp_path)],
        cwd=tmp_path,
        env=_env(python.parent.parent),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert (tmp_path / notebook.name).exists()
