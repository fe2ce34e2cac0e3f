"""The layers, read from the imports: each imports only downwards, ``local/`` only itself.

notebook > display > run > client (with ``naive_nb.errors``, ``naive_nb._version`` and
``naive_nb._lazy``, the lazy package attributes every package face uses) >
local; the package face (``naive_nb/__init__.py``, ``cli.py``, ``demo.py``) sits on top. Only
``client/_backend.py`` may import ``naive_nb.local`` (to start the embedded server), and upper
layers take the client's names from ``naive_nb.client``, never from its private modules. Every
import counts, at any depth of a function and under ``TYPE_CHECKING`` alike.

And the words a user reads are the notebook layer's: no string in ``run/`` (docstrings aside,
which speak to developers) names the magic, a flag, a ``%config`` setting or a client call.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "naive_nb"
ORDER = ("local", "client", "run", "display", "notebook", "face")


def layer_of(module: str) -> str:
    parts = module.split(".")
    if parts[:1] != ["naive_nb"]:
        raise ValueError(module)
    if len(parts) == 1 or parts[1] in ("cli", "demo", "__main__"):
        return "face"
    if parts[1] in ("errors", "_version", "_lazy"):
        return "client"
    if parts[1] in ORDER:
        return parts[1]
    raise ValueError(f"{module} is in no layer")


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(source: str, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """(line, module) of every naive_nb module ``source`` imports, relative imports resolved."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield node.lineno, target


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """Why the imports of ``source`` (the code of ``module``) break the layering, if they do."""
    found = []
    mine = layer_of(module)
    for line, target in imports(source, module, is_package):
        if not target.startswith("naive_nb"):
            continue
        theirs = layer_of(target)
        where = f"{module}:{line} imports {target}"
        if mine == "local" and theirs != "local":
            found.append(f"{where}: local/ imports only itself")
        elif (
            theirs == "local"
            and mine not in ("local", "face")
            and module != "naive_nb.client._backend"
        ):
            found.append(f"{where}: only client/_backend.py starts the embedded server")
        elif ORDER.index(theirs) > ORDER.index(mine):
            found.append(f"{where}: {mine} imports upward ({theirs})")
        elif (
            mine not in ("client", "local")
            and target.startswith("naive_nb.client.")
            and target.split(".")[2].startswith("_")
        ):
            found.append(f"{where}: the client's names come from naive_nb.client")
    return found


def test_every_module_imports_only_downwards() -> None:
    found = []
    paths = sorted(PACKAGE.rglob("*.py"))
    assert len(paths) > 40  # the whole package was read
    for path in paths:
        found += violations(path.read_text(), module_name(path), path.name == "__init__.py")
    assert found == []


@pytest.mark.parametrize(
    ("module", "source", "why"),
    [
        ("naive_nb.run.plan", "from naive_nb.notebook.args import parse_line", "upward"),
        ("naive_nb.display.layout", "def f():\n    import naive_nb.notebook.magics", "upward"),
        ("naive_nb.client._sync", "from naive_nb.run import Session", "upward"),
        ("naive_nb.local.app", "from naive_nb.errors import NaiveError", "only itself"),
        ("naive_nb.run.runner", "from naive_nb.local import serve_local", "_backend.py"),
        (
            "naive_nb.run.runner",
            "from naive_nb.client._async import AsyncClient",
            "naive_nb.client",
        ),
        ("naive_nb.notebook.magics", "from ..run import session", None),
        ("naive_nb.run.session", "from .. import notebook", "upward"),
        ("naive_nb.client._backend", "from naive_nb.local import serve_local", None),
    ],
)
def test_the_check_sees_what_it_must(module: str, source: str, why: str | None) -> None:
    found = violations(source, module)
    if why is None:
        assert found == []
    else:
        assert len(found) == 1 and why in found[0], found


# -- the words of run/ -------------------------------------------------------------------------
FRONT_END_WORDS = re.compile(r"%naive|%%naive|%config|(?<![\w-])--[a-z]|\bclient\.\w+\(")


def user_strings(source: str) -> Iterator[tuple[int, str]]:
    """Every string constant of ``source`` but its docstrings (f-strings' literal parts too)."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    for node in ast.walk(tree):
        is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if is_text and id(node) not in docstrings:
            yield node.lineno, node.value


def test_the_run_layer_chooses_no_front_end_words() -> None:
    found = []
    for path in sorted((PACKAGE / "run").rglob("*.py")):
        for line, text in user_strings(path.read_text()):
            if FRONT_END_WORDS.search(text):
                found.append(f"{path.name}:{line}: {text!r}")
    assert found == []


def test_the_word_check_sees_front_end_words() -> None:
    source = (
        '"""A docstring may say %naive resume."""\n'
        'A = f"collect it with %naive resume {job}"\n'
        'B = "past the deadline (--timeout)"\n'
        'C = "%config NaiveMagics.offline = False"\n'
        'D = "see client.jobs() for more"\n'
        'E = "a well-known value, 2--3 times"\n'
    )
    flagged = [text for _, text in user_strings(source) if FRONT_END_WORDS.search(text)]
    assert len(flagged) == 4 and not any("docstring" in text for text in flagged)
