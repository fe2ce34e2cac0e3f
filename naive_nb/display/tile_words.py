"""The heading of a tile without an image, from why it has none (a failure's code).

These are output, not error messages: the cell's error (when a run fails) is worded by the
notebook layer, which also passes the line under the heading (``failure_text``); the heading
only says which kind of blank this is, so a grid of failures reads at a glance.
"""

from __future__ import annotations

__all__ = ["failure_heading"]

_HEADINGS = {
    "failed": "failed",
    "flagged": "flagged by the safety checker",
    "cancelled": "cancelled",
    "refused": "refused",
    "submit": "not submitted",
    "timeout": "still running",
    "lost_contact": "lost contact",
    "lost": "lost",
    "no_images": "no images",
    "download": "not downloaded",
    "outcome_unknown": "outcome unknown",
    "not_this_request": "not this request",
    "not_run": "not run",
    "file_missing": "file missing",
}


def failure_heading(code: str | None) -> str:
    """``failed``, ``cancelled``, ``not run``...: what kind of blank a tile is."""
    if not code:
        return "failed"
    return _HEADINGS.get(code, code.replace("_", " "))
