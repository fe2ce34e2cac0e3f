"""The defaults a front end configures, as the core reads them: :class:`Settings`.

The magic's traitlets (``%config NaiveMagics.x``) are the notebook user's way to set them; the
notebook layer turns them into a ``Settings`` and hands the current one to the core.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from naive_nb.client import DEFAULT_MODEL

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    """Defaults for what a request leaves open, where results go, and how runs behave.

    ``image_size``, ``num_images`` and ``output_format`` are written into each request whose
    model takes them (``output_format=None``: the model's own default), so a cache key names the
    full request. ``store`` holds files, manifests, the request cache and the job journal.
    ``cache``: serve a request made before from the store; ``cache_only``: never send a request.
    A sweep that would send more than ``confirm_images`` images or cost more than
    ``confirm_credits`` credits runs only when confirmed (None: no cap).
    """

    model: str = DEFAULT_MODEL
    image_size: str = "square_hd"
    num_images: int = 1
    output_format: str | None = None
    store: Path = Path("naive-results")
    timeout: float = 600.0
    cache: bool = True
    cache_only: bool = False
    confirm_images: int | None = 32
    confirm_credits: float | None = 20.0
