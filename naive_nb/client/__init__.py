"""The client layer: ``Client``, ``AsyncClient`` and what they return; knows only the HTTP contract.

Upper layers (run, display, notebook) import the client's names from here, never from its private
modules, so the modules can be reorganised without touching them. Nothing here imports the run,
display or notebook layers; only ``_backend`` imports ``naive_nb.local`` (to start the embedded
server when no key is set). Users import the public names from ``naive_nb`` itself.

Importing this package stays cheap: the facts, types and validators are plain Python, while the
two clients (which import httpx) are loaded on first use, so a front end can read
``JOB_STATUSES`` or ``validate_input`` during ``%load_ext`` without pulling in httpx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from naive_nb.client._backend import LOCAL_BACKEND, Backend, Secret, resolve_backend
from naive_nb.client._polling import PollSchedule
from naive_nb.client._retry import RetryPolicy
from naive_nb.client._types import (
    JOB_STATUSES,
    LOCAL_ENGINE,
    GeneratedImage,
    Job,
    ModelInfo,
    Notice,
    Price,
    Result,
    check_job_id,
    sniff_content_type,
)
from naive_nb.client._validation import (
    DEFAULT_MODEL,
    DOCUMENTED_MODELS,
    GUIDANCE,
    IMAGE_SIZES,
    NUM_IMAGES,
    OUTPUT_FORMATS,
    RANDOM_SEED_LIMIT,
    SEED_MAX,
    STEPS,
    documented_model,
    image_dimensions,
    steps_range,
    validate_input,
    validate_model,
    validate_values,
)

if TYPE_CHECKING:  # pragma: no cover - type checkers see the lazily loaded names
    from naive_nb.client._async import AsyncClient
    from naive_nb.client._sync import Client, LoopThread

# name -> module defining it, imported on first attribute access (these import httpx)
_LAZY: dict[str, str] = {
    "AsyncClient": "naive_nb.client._async",
    "Client": "naive_nb.client._sync",
    "LoopThread": "naive_nb.client._sync",
}

__all__ = [
    "DEFAULT_MODEL",
    "DOCUMENTED_MODELS",
    "GUIDANCE",
    "IMAGE_SIZES",
    "JOB_STATUSES",
    "LOCAL_BACKEND",
    "LOCAL_ENGINE",
    "NUM_IMAGES",
    "OUTPUT_FORMATS",
    "RANDOM_SEED_LIMIT",
    "SEED_MAX",
    "STEPS",
    "AsyncClient",
    "Backend",
    "Client",
    "GeneratedImage",
    "Job",
    "LoopThread",
    "ModelInfo",
    "Notice",
    "PollSchedule",
    "Price",
    "Result",
    "RetryPolicy",
    "Secret",
    "check_job_id",
    "documented_model",
    "image_dimensions",
    "resolve_backend",
    "sniff_content_type",
    "steps_range",
    "validate_input",
    "validate_model",
    "validate_values",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'naive_nb.client' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
