"""The client layer: ``Client``, ``AsyncClient`` and what they return; knows only the HTTP contract.

Upper layers (run, display, notebook) import the client's names from here, never from its private
modules, so the modules can be reorganised without touching them. Nothing here imports the run,
display or notebook layers; only ``_backend`` imports ``naive_nb.local`` (to start the embedded
server when no key is set). Users import the public names from ``naive_nb`` itself.
"""

from __future__ import annotations

from naive_nb.client._async import DEFAULT_MODEL, AsyncClient
from naive_nb.client._backend import Backend, Secret, resolve_backend
from naive_nb.client._polling import PollSchedule
from naive_nb.client._retry import RetryPolicy
from naive_nb.client._sync import Client, LoopThread
from naive_nb.client._types import GeneratedImage, Job, ModelInfo, Notice, Price, Result
from naive_nb.client._validation import (
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

__all__ = [
    "DEFAULT_MODEL",
    "DOCUMENTED_MODELS",
    "GUIDANCE",
    "IMAGE_SIZES",
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
    "documented_model",
    "image_dimensions",
    "resolve_backend",
    "steps_range",
    "validate_input",
    "validate_model",
    "validate_values",
]
