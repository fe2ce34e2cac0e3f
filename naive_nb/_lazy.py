"""Lazy package attributes (PEP 562): a package names what it exports and where each lives, and a
name's module is imported on first use only, so ``import naive_nb`` (and ``%load_ext``) stays
cheap and does not pull in httpx, Pillow or Starlette before they are needed."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(
    package: str, where: Mapping[str, str], namespace: dict[str, Any], exported: list[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level ``__getattr__`` and ``__dir__`` of ``package``: a name of ``where`` is
    imported from its module on first access and kept in ``namespace`` (the package's
    ``globals()``), so later lookups are plain attribute reads."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exported))

    return __getattr__, __dir__
