"""The package's front door: every public name resolves, lazily, and type checkers see it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import naive_nb

INIT = Path(naive_nb.__file__)


def test_every_public_name_resolves() -> None:
    for name in naive_nb.__all__:
        assert getattr(naive_nb, name) is not None, name


def test_lazy_names_are_public_and_visible_to_type_checkers() -> None:
    tree = ast.parse(INIT.read_text())
    checked: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom):
                    checked.update(alias.name for alias in stmt.names)
    lazy = set(naive_nb._LAZY)
    assert lazy == checked  # a name added to one and not the other is untyped or unreachable
    assert lazy <= set(naive_nb.__all__)


def test_importing_the_package_imports_nothing_heavy() -> None:
    code = (
        "import sys, naive_nb; "
        "print(sorted(m for m in ('httpx', 'PIL', 'starlette', 'uvicorn', 'ipywidgets') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        naive_nb.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018


def test_load_ext_imports_no_client_core_or_heavy_library() -> None:
    # %load_ext must stay cheap (< 50 ms, benchmarks/notebook_size.py): the magic's module only,
    # nothing of the client (httpx), the core, the renderers (Pillow) or the server (Starlette)
    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "InteractiveShell.instance().run_cell('%load_ext naive_nb').raise_error()\n"
        "names = ('httpx', 'PIL', 'starlette', 'uvicorn', 'naive_nb.client', "
        "'naive_nb.run.session', 'naive_nb.display.grid', 'naive_nb.local')\n"
        "print(sorted(m for m in names if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
