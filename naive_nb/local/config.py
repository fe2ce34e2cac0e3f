"""Settings of one embedded server; every knob has a default suited to a notebook demo."""

from __future__ import annotations

from dataclasses import dataclass, field

from naive_nb.local.faults import Faults


@dataclass
class ServerConfig:
    api_keys: tuple[str, ...]
    time_scale: float = 1.0
    """Each job lasts its model's `estimated_seconds` times this (tests: near zero)."""
    spread: float = 0.2
    """Each job's duration varies by up to this fraction, deterministically per job id."""
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
