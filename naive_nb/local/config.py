"""Settings of one embedded server; every knob has a default suited to a notebook demo."""

from __future__ import annotations

from dataclasses import dataclass, field

from naive_nb.local.faults import Faults
from naive_nb.local.timing import Timing


@dataclass
class ServerConfig:
    api_keys: tuple[str, ...]
    time_scale: float = 1.0
    """Each job lasts its model's `estimated_seconds` times this (tests: near zero)."""
    workers: int = 4
    """Jobs processed at once; later ones stay `queued`."""
    balance: float = 100.0
    """Starting credits of each key."""
    rate_limit: int | None = 600
    """Requests per minute per key; None for no limit."""
    file_ttl: float = 3600.0
    """Seconds a result file stays downloadable."""
    tier: str = "pro"
    faults: Faults = field(default_factory=Faults)
    timing: Timing = field(default_factory=Timing)
    """How long each job takes around its estimate (uniform +-20 % by default), a queue delay
    before it starts, and whether replies carry `progress`; see `timing.py`."""
