"""The documentation stands on its own: every relative link resolves inside this repository, and
the API contract is one of its pages (docs/api.md), not a file in a planning folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _links(page: Path) -> list[str]:
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text())  # [text](target)
    return [link for link in links if "://" not in link]


def test_the_contract_is_in_the_repository() -> None:
    contract = (ROOT / "docs" / "api.md").read_text()
    for needle in ("## A. Documented", "## B. Open points", "POST /v1/images/generate"):
        assert needle in contract


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_resolves_inside_the_repository(page: Path) -> None:
    for link in _links(page):
        target = (page.parent / link).resolve()
        assert target.is_relative_to(ROOT), f"{page.name} points outside the repository: {link}"
        assert target.exists(), f"{page.name} links to a missing file: {link}"
    assert "../shared" not in page.read_text()
