"""The client layer: ``Client``, ``AsyncClient`` and what they return; knows only the HTTP contract.

Upper layers (run, display, notebook) import the client's names from here, never from its private
modules, so the modules can be reorganised without touching them. Nothing here imports the run,
display or notebook layers; only ``_backend`` imports ``naive_nb.local`` (to start the embedded
server when no key is set). Users import the public names from ``naive_nb`` itself.

Importing this package costs nothing: each name is imported on first use, from the module that
defines it. So a front end can read ``JOB_STATUSES`` or ``validate_input`` while ``%load_ext``
runs and pay only for those; the two clients (which import httpx) load when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from naive_nb._lazy import lazy_attributes

if TYPE_CHECKING:  # pragma: no cover - type checkers and editors see the real names
    from naive_nb.client._async import AsyncClient
    from naive_nb.client._backend import (
        LOCAL_BACKEND,
        Backend,
        Secret,
        resolve_backend,
    )
    from naive_nb.client._polling import PollSchedule
    from naive_nb.client._retry import RetryPolicy
    from naive_nb.client._slots import JobSlot
    from naive_nb.client._sync import Client, LoopThread
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
        MAX_COLORS,
        NUM_IMAGES,
        OUTPUT_FORMATS,
        RANDOM_SEED_LIMIT,
        RECRAFT_STYLES,
        SEED_MAX,
        SIDE,
        SIDE_MULTIPLE,
        STEPS,
        STRENGTH,
        documented_model,
        image_dimensions,
        steps_range,
        validate_input,
        validate_model,
        validate_values,
    )

# public name -> module defining it (imported on first attribute access)
_LAZY: dict[str, str] = {
    "LOCAL_BACKEND": "naive_nb.client._backend",
    "Backend": "naive_nb.client._backend",
    "Secret": "naive_nb.client._backend",
    "resolve_backend": "naive_nb.client._backend",
    "JobSlot": "naive_nb.client._slots",
    "PollSchedule": "naive_nb.client._polling",
    "RetryPolicy": "naive_nb.client._retry",
    "JOB_STATUSES": "naive_nb.client._types",
    "LOCAL_ENGINE": "naive_nb.client._types",
    "GeneratedImage": "naive_nb.client._types",
    "Job": "naive_nb.client._types",
    "ModelInfo": "naive_nb.client._types",
    "Notice": "naive_nb.client._types",
    "Price": "naive_nb.client._types",
    "Result": "naive_nb.client._types",
    "check_job_id": "naive_nb.client._types",
    "sniff_content_type": "naive_nb.client._types",
    "DEFAULT_MODEL": "naive_nb.client._validation",
    "DOCUMENTED_MODELS": "naive_nb.client._validation",
    "GUIDANCE": "naive_nb.client._validation",
    "IMAGE_SIZES": "naive_nb.client._validation",
    "MAX_COLORS": "naive_nb.client._validation",
    "RECRAFT_STYLES": "naive_nb.client._validation",
    "STRENGTH": "naive_nb.client._validation",
    "NUM_IMAGES": "naive_nb.client._validation",
    "OUTPUT_FORMATS": "naive_nb.client._validation",
    "RANDOM_SEED_LIMIT": "naive_nb.client._validation",
    "SEED_MAX": "naive_nb.client._validation",
    "SIDE": "naive_nb.client._validation",
    "SIDE_MULTIPLE": "naive_nb.client._validation",
    "STEPS": "naive_nb.client._validation",
    "documented_model": "naive_nb.client._validation",
    "image_dimensions": "naive_nb.client._validation",
    "steps_range": "naive_nb.client._validation",
    "validate_input": "naive_nb.client._validation",
    "validate_model": "naive_nb.client._validation",
    "validate_values": "naive_nb.client._validation",
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
    "MAX_COLORS",
    "NUM_IMAGES",
    "OUTPUT_FORMATS",
    "RANDOM_SEED_LIMIT",
    "RECRAFT_STYLES",
    "SEED_MAX",
    "SIDE",
    "SIDE_MULTIPLE",
    "STEPS",
    "STRENGTH",
    "AsyncClient",
    "Backend",
    "Client",
    "GeneratedImage",
    "Job",
    "JobSlot",
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


__getattr__, __dir__ = lazy_attributes("naive_nb.client", _LAZY, globals(), __all__)
