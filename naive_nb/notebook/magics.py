"""``%naive`` and ``%%naive``: generate images from a notebook cell (see ``docs/magic.md``).

Load with ``%load_ext naive_nb`` or ``c.InteractiveShellApp.extensions = ["naive_nb"]``. Loading
registers the magics and nothing else: no network, no files, and no httpx, Pillow or Starlette
import (those wait for the first command that needs them).

A line goes parse -> request -> core -> result: :mod:`naive_nb.notebook.args` parses it,
:mod:`naive_nb.notebook.commands` hands it to the kernel's :class:`naive_nb.run.Session`, and the
result is shown. This module holds the settings (traitlets, read by the core as ``Settings``)
and turns errors into one short line that still fails the cell.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from traitlets import Bool, Enum, Float, Int, TraitError, Unicode, default, observe, validate

from naive_nb.notebook import current
from naive_nb.notebook.config import MODES

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.client import Client, Secret
    from naive_nb.display.grid import GridSizes
    from naive_nb.notebook.progress import ProgressView
    from naive_nb.run import Session, Settings


@magics_class
class NaiveMagics(Magics):
    """Generate images with the Naive API from a cell: ``%naive PROMPT [options]``."""

    model = Unicode(help="Model used when a cell gives no --model.").tag(config=True)
    size = Unicode("square_hd", help="image_size used when a cell gives no --size.").tag(
        config=True
    )
    num_images = Int(1, min=1, max=4, help="Images per job when a cell gives no --num.").tag(
        config=True
    )
    output_format = Enum(
        ("jpeg", "png"),
        default_value=None,
        allow_none=True,
        help="output_format when a cell gives no --format (None: the model's default).",
    ).tag(config=True)
    display_width = Int(
        820,
        min=320,
        max=4000,
        help="CSS pixels of width the output area offers a grid, row headers included (820 fits "
        "JupyterLab in a 1280 px window); tiles are sized to share it.",
    ).tag(config=True)
    thumbnail_size = Int(
        112,
        min=32,
        max=512,
        help="No tile is drawn narrower than this, in CSS pixels (a wider grid then scrolls).",
    ).tag(config=True)
    store = Unicode(
        "naive-results",
        help="Directory of full-size images, manifests, the request cache and the job journal "
        "(relative paths are relative to the kernel's working directory).",
    ).tag(config=True)
    timeout = Float(600.0, min=1.0, help="Seconds to wait for a job before giving up.").tag(
        config=True
    )
    cache = Bool(True, help="Serve a request made before from the store (0 requests).").tag(
        config=True
    )
    cache_only = Bool(
        False, help="Serve from the cache only: send nothing, fail clearly on a miss."
    ).tag(config=True)
    offline = Bool(False, help="The same as cache_only (its former name).").tag(config=True)
    confirm_images = Int(
        32,
        min=1,
        allow_none=True,
        help="A sweep that would send more images than this runs only with --yes "
        "(naive_nb.compare(..., confirm=True)); None: no cap.",
    ).tag(config=True)
    confirm_credits = Float(
        20.0,
        min=0.0,
        allow_none=True,
        help="A sweep that would cost more credits than this runs only with --yes "
        "(naive_nb.compare(..., confirm=True)); None: no cap.",
    ).tag(config=True)
    short_errors = Bool(
        True, help="Show errors as one short message; False shows the full traceback."
    ).tag(config=True)
    progress = Enum(
        MODES,
        default_value="auto",
        help="Progress display: auto (widget in Jupyter, a text line in a terminal), "
        "widget, html, text or none.",
    ).tag(config=True)

    @default("model")
    def _default_model(self) -> str:
        from naive_nb.client import DEFAULT_MODEL  # read when first needed: loading stays light

        return DEFAULT_MODEL

    @validate("store")
    def _check_store(self, proposal: Any) -> str:
        value: str = proposal["value"]
        if not value.strip():  # "" would scatter files, cache and journal into the cwd
            raise TraitError(f"NaiveMagics.store must be a directory path; got {value!r}.")
        return value

    @validate("model")
    def _check_model(self, proposal: Any) -> str:
        value: str = proposal["value"]
        if not value.strip():
            raise TraitError(f"NaiveMagics.model must be a model id; got {value!r}.")
        return value

    @validate("size")
    def _check_size(self, proposal: Any) -> str:
        from naive_nb.client import IMAGE_SIZES

        value: str = proposal["value"]
        if value not in IMAGE_SIZES:  # sent as image_size by every cell without --size
            raise TraitError(f"NaiveMagics.size must be one of {', '.join(IMAGE_SIZES)}.")
        return value

    @observe("offline", "cache_only")
    def _same_setting(self, change: Any) -> None:
        """``offline`` is ``cache_only``'s former name: setting either sets both."""
        other = "cache_only" if change["name"] == "offline" else "offline"
        setattr(self, other, change["new"])

    def update_config(self, config: Any) -> None:
        """``%config NaiveMagics.x = v``: an unknown name or a refused value fails the cell."""
        from naive_nb.notebook.config import apply_settings

        apply_settings(self, config, super().update_config)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)  # type: ignore[no-untyped-call]
        self._session: Session | None = None
        current.register(self)

    # ------------------------------------------------------------------ the core
    def settings(self) -> Settings:
        """The core's settings, as configured now."""
        from naive_nb.run import Settings

        return Settings(
            model=self.model,
            image_size=self.size,
            num_images=self.num_images,
            output_format=self.output_format,
            store=Path(self.store),
            timeout=self.timeout,
            cache=self.cache,
            cache_only=self.cache_only,
            confirm_images=self.confirm_images,
            confirm_credits=self.confirm_credits,
        )

    @property
    def session(self) -> Session:
        """The kernel's session, with the settings as configured now."""
        if self._session is None:
            from naive_nb.run import Session

            self._session = Session(self.settings(), announce=show_notice)
        else:
            self._session.settings = self.settings()
        return self._session

    @property
    def client(self) -> Client:
        """The client, created on first use (this is when the embedded server may start)."""
        return self.session.client

    @property
    def _client(self) -> Client | None:
        return self._session._client if self._session is not None else None

    @_client.setter
    def _client(self, client: Client | None) -> None:
        self.session.client = client

    @property
    def _api_key(self) -> Secret | None:
        return self._session._api_key if self._session is not None else None

    # what a command needs of the notebook (commands.Front)
    def view(self) -> ProgressView:
        from naive_nb.notebook.progress import ProgressView, detect_mode

        return ProgressView(detect_mode(self.shell) if self.progress == "auto" else self.progress)

    def sizes(self) -> GridSizes:
        from naive_nb.display.grid import GridSizes

        return GridSizes(
            width=self.display_width,
            thumb_side=self.thumbnail_size,
        )

    def notice(self, text: str) -> None:
        show_notice(text)

    def publish(self, name: str | None, value: Any) -> None:
        if name and self.shell is not None:
            self.shell.user_ns[name] = value

    # ------------------------------------------------------------------ entry point
    @no_var_expand  # type: ignore[untyped-decorator]  # "$" and "{}" reach the API verbatim
    @line_cell_magic  # type: ignore[untyped-decorator]
    def naive(self, line: str = "", cell: str | None = None) -> Any:
        """Generate images, or run a subcommand. ``%naive help`` lists everything."""
        try:
            from naive_nb.notebook.args import parse_line
            from naive_nb.notebook.commands import run

            return run(self, parse_line(line, cell))
        except Exception as error:
            self._fail(error)
            raise  # _fail always raises; this keeps type checkers informed

    def _fail(self, error: Exception) -> None:
        from naive_nb.errors import NaiveError
        from naive_nb.notebook.commands import Worded
        from naive_nb.notebook.messages import NaiveUsageError, scrub, short_message

        if isinstance(error, NaiveUsageError):
            raise error
        if isinstance(error, Worded):
            if not self.short_errors:  # the exception behind the words, never the wrapper
                behind = error.__cause__ or error.__context__
                if behind is not None:
                    raise behind
                failed = CellFailed(scrub(str(error), self._secrets()))
                raise failed.with_traceback(error.__traceback__) from None
            message = str(error)
        else:
            worded = short_message(error)
            if worded is None or not self.short_errors:
                if isinstance(error.__cause__, NaiveError):  # the client's error behind it
                    raise error.__cause__
                raise error
            message = worded
        raise NaiveUsageError(scrub(message, self._secrets())) from None

    def _secrets(self) -> list[str]:
        typed = self._api_key.reveal() if self._api_key else None
        return [s for s in (typed, os.environ.get("NAIVE_API_KEY")) if s]


class CellFailed(Exception):
    """A ``%naive`` cell whose work failed with no other exception behind it (jobs of a run that
    failed): what ``short_errors = False`` shows for those."""


def show_notice(notice: str) -> None:
    """A plain, grey output line (stderr would render it as an error block in Jupyter)."""
    import html

    from IPython.display import display

    bundle = {
        "text/plain": notice,
        "text/html": f'<div style="color:#57606a">{html.escape(notice)}</div>',
    }
    display(bundle, raw=True)  # type: ignore[no-untyped-call]


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%naive`` / ``%%naive`` (``%load_ext naive_nb``)."""
    ipython.register_magics(NaiveMagics(shell=ipython))


def unload_ipython_extension(ipython: Any) -> None:
    """Nothing to undo beyond IPython's own bookkeeping; kept for ``%reload_ext``."""
