"""naive-nb: notebook magics, widgets and a client for the Naive images API.

The public names are re-exported here and imported lazily, so that ``%load_ext naive_nb``
stays cheap (no httpx, Pillow or Starlette import until something is used).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from naive_nb._lazy import lazy_attributes
from naive_nb._version import __version__

if TYPE_CHECKING:  # pragma: no cover - type checkers and editors see the real names
    from naive_nb.client import (
        AsyncClient,
        Client,
        GeneratedImage,
        Job,
        ModelInfo,
        Notice,
        PollSchedule,
        Price,
        Result,
        RetryPolicy,
    )
    from naive_nb.errors import (
        APIConnectionError,
        APIError,
        APITimeoutError,
        AuthenticationError,
        BillingBlockedError,
        ConflictError,
        InsufficientCreditsError,
        Interrupted,
        InvalidModelError,
        JobCancelled,
        JobError,
        JobFailed,
        JobResultMissing,
        NaiveError,
        NotFoundError,
        PaymentRequiredError,
        PermissionDeniedError,
        ProviderError,
        RateLimitError,
        ServerError,
        SubmissionOutcomeUnknown,
        ValidationError,
        WaitTimeout,
    )
    from naive_nb.local import LocalServer, serve_local
    from naive_nb.notebook.compare import compare
    from naive_nb.notebook.panel import Panel
    from naive_nb.notebook.study import load_run, report
    from naive_nb.notebook.viewer import view

# public name -> module that defines it (imported on first attribute access)
_LAZY: dict[str, str] = {
    "compare": "naive_nb.notebook.compare",
    "serve_local": "naive_nb.local",
    "Panel": "naive_nb.notebook.panel",
    "view": "naive_nb.notebook.viewer",
    "load_run": "naive_nb.notebook.study",
    "report": "naive_nb.notebook.study",
    "LocalServer": "naive_nb.local",
    "Client": "naive_nb.client",
    "AsyncClient": "naive_nb.client",
    "Job": "naive_nb.client",
    "Result": "naive_nb.client",
    "GeneratedImage": "naive_nb.client",
    "ModelInfo": "naive_nb.client",
    "Notice": "naive_nb.client",
    "Price": "naive_nb.client",
    "RetryPolicy": "naive_nb.client",
    "PollSchedule": "naive_nb.client",
    "NaiveError": "naive_nb.errors",
    "APIError": "naive_nb.errors",
    "ValidationError": "naive_nb.errors",
    "InvalidModelError": "naive_nb.errors",
    "AuthenticationError": "naive_nb.errors",
    "PaymentRequiredError": "naive_nb.errors",
    "InsufficientCreditsError": "naive_nb.errors",
    "BillingBlockedError": "naive_nb.errors",
    "PermissionDeniedError": "naive_nb.errors",
    "NotFoundError": "naive_nb.errors",
    "ConflictError": "naive_nb.errors",
    "RateLimitError": "naive_nb.errors",
    "ServerError": "naive_nb.errors",
    "ProviderError": "naive_nb.errors",
    "APIConnectionError": "naive_nb.errors",
    "APITimeoutError": "naive_nb.errors",
    "JobError": "naive_nb.errors",
    "JobFailed": "naive_nb.errors",
    "JobResultMissing": "naive_nb.errors",
    "Interrupted": "naive_nb.errors",
    "JobCancelled": "naive_nb.errors",
    "WaitTimeout": "naive_nb.errors",
    "SubmissionOutcomeUnknown": "naive_nb.errors",
}

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncClient",
    "AuthenticationError",
    "BillingBlockedError",
    "Client",
    "ConflictError",
    "GeneratedImage",
    "InsufficientCreditsError",
    "Interrupted",
    "InvalidModelError",
    "Job",
    "JobCancelled",
    "JobError",
    "JobFailed",
    "JobResultMissing",
    "LocalServer",
    "ModelInfo",
    "NaiveError",
    "NotFoundError",
    "Notice",
    "Panel",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "PollSchedule",
    "Price",
    "ProviderError",
    "RateLimitError",
    "Result",
    "RetryPolicy",
    "ServerError",
    "SubmissionOutcomeUnknown",
    "ValidationError",
    "WaitTimeout",
    "__version__",
    "compare",
    "load_ipython_extension",
    "load_run",
    "report",
    "serve_local",
    "view",
]


__getattr__, __dir__ = lazy_attributes("naive_nb", _LAZY, globals(), __all__)


def load_ipython_extension(ipython: Any) -> None:
    """Entry point of ``%load_ext naive_nb``: registers ``%naive`` / ``%%naive``."""
    from naive_nb.notebook.magics import load_ipython_extension as _load

    _load(ipython)
