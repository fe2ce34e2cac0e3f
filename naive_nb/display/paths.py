"""How a file's path is shown in an output: relative, never the machine's absolute path.

Outputs are saved in notebooks and reports that travel (a colleague's checkout, shared HTML), so
a path in them is relative to the notebook (the kernel's working directory) or to the report.
"""

from __future__ import annotations

import os
from pathlib import Path


def shown_path(path: Path | str, base: Path | str | None = None) -> str:
    """``path`` relative to ``base`` (default: the working directory), with ``/`` separators."""
    try:
        return Path(os.path.relpath(path, base)).as_posix()
    except ValueError:  # another drive on Windows: the name alone, never the machine's path
        return Path(path).name
