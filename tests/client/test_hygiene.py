"""Import hygiene: no nest_asyncio anywhere, and `import naive_nb` stays light."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMPORT = re.compile(r"^\s*(import|from)\s+nest_asyncio\b|__import__\(['\"]nest_asyncio", re.M)


def test_nest_asyncio_is_imported_nowhere() -> None:
    sources = [
        p
        for folder in ("naive_nb", "tests", "benchmarks", "scripts")
        for p in (ROOT / folder).rglob("*.py")
    ]
    assert sources
    offenders = [str(p) for p in sources if IMPORT.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_using_the_clients_loads_no_nest_asyncio() -> None:
    code = (
        "import sys, naive_nb\n"
        "assert 'httpx' not in sys.modules, 'import naive_nb pulled in httpx'\n"
        "naive_nb.Client, naive_nb.AsyncClient, naive_nb.JobFailed\n"
        "assert 'nest_asyncio' not in sys.modules\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_importing_the_client_package_leaves_the_clients_for_later() -> None:
    # a front end reads the client's facts (JOB_STATUSES, validate_input) while %load_ext runs
    code = (
        "import sys, naive_nb.client as c\n"
        "assert not [m for m in sys.modules if m.startswith('naive_nb.client.')]\n"
        "c.JOB_STATUSES, c.check_job_id, c.validate_input, c.DEFAULT_MODEL\n"
        "assert 'httpx' not in sys.modules, 'import naive_nb.client pulled in httpx'\n"
        "assert c.AsyncClient.__name__ == 'AsyncClient' and c.Client.__name__ == 'Client'\n"
        "assert 'httpx' in sys.modules\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
