"""A larger, live view of a result's images: ``naive_nb.view(r)``, ``%naive view r``, and a panel
tile's view button.

One image at a time, picked from the result's images: the full-size file from the store (sent
as it is, or scaled down in the kernel to :data:`MAX_SIDE` pixels as a JPEG when larger), its
seed, its full input, the job id, the file's path, and a button that saves a copy of the file.

It lives on the notebook side, not as a method of :class:`naive_nb.display.result.NaiveResult`:
the display layer makes mime bundles and knows nothing of widgets (nor may it import the notebook
layer), and the viewer is a widget. It is opt-in and never shown by itself: a widget in a
reopened notebook is only "model not found", while the result's own grid is a plain output that
stays. Its ``text/plain`` says what it showed, for a reader without the live widget.
"""

from __future__ import annotations

import html
import io
import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from naive_nb.display.paths import shown_path
from naive_nb.notebook.panel.errors import ErrorSink, PanelError, PanelInputError
from naive_nb.notebook.panel.widgetset import WidgetSet

if TYPE_CHECKING:  # pragma: no cover
    from naive_nb.display.result import NaiveResult
    from naive_nb.run import Outcome
    from naive_nb.run.records import JobRecord, StoredImage

__all__ = ["MAX_SIDE", "Viewer", "large_view", "view", "view_named"]

MAX_SIDE = 1536  # a larger file is scaled down to this many pixels across before it is sent
GREY = "#57606a"
RED = "#b21818"
_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/webp": "webp", "image/gif": "gif"}


def large_view(image: StoredImage, side: int = MAX_SIDE) -> tuple[bytes, str]:
    """``(bytes, format)`` of ``image`` as the viewer sends it: the file itself when it is no
    larger than ``side`` and in a format browsers show, else a JPEG scaled down to ``side``."""
    fmt = _FORMATS.get(image.content_type)
    if fmt is not None and max(image.width, image.height) <= side:
        return image.read_bytes(), fmt
    from PIL import Image

    with Image.open(image.path) as picture:
        picture.thumbnail((side, side))
        out = io.BytesIO()
        picture.convert("RGB").save(out, format="JPEG", quality=88)
    return out.getvalue(), "jpeg"


def _images(
    source: NaiveResult | Outcome | Sequence[JobRecord],
) -> list[tuple[JobRecord, StoredImage]]:
    """Every image of ``source``, in the order its plan asked for them."""
    from naive_nb.run import Outcome
    from naive_nb.run.records import JobRecord

    outcome = getattr(source, "outcome", source)
    if isinstance(outcome, Outcome):
        cells = [outcome.by_index[i] for i in sorted(outcome.by_index)]
        records = [cell for cell in cells if isinstance(cell, JobRecord)] or outcome.records
    else:
        records = list(source)  # type: ignore[arg-type]  # records alone
    return [(record, image) for record in records for image in record.files]


class Viewer:
    """A live view of one image of a result at a time (see the module docstring)."""

    def __init__(
        self,
        source: NaiveResult | Outcome | Sequence[JobRecord],
        index: int = 0,
        *,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        import ipywidgets as widgets

        self.images = _images(source)
        if not self.images:
            raise ValueError("This result has no images to view (every job of it failed).")
        self._widgets = make = WidgetSet()
        self.sink = ErrorSink(self._show_error)
        options = [(self._option(i), i) for i in range(len(self.images))]
        self.picker = make(
            widgets.Dropdown,
            options=options,
            description="Image",
            style={"description_width": "60px"},
            layout=widgets.Layout(width="420px"),
        )
        self.image = make(
            widgets.Image, format="jpeg", layout=widgets.Layout(width="560px", max_width="100%")
        )
        self.info = make(
            widgets.HTML, value="", layout=widgets.Layout(flex="1 1 260px", margin="0 0 0 8px")
        )
        self.target = make(
            widgets.Text,
            description="Save as",
            tooltip="Where to save a copy of the full-size "
            "file (relative paths are relative to the notebook's folder)",
            style={"description_width": "60px"},
            layout=widgets.Layout(width="420px"),
        )
        self.save_button = make(widgets.Button, description="Save a copy", icon="save")
        self.status = make(widgets.HTML, value="")
        top: list[Any] = [self.picker]
        if on_close is not None:
            close = make(
                widgets.Button,
                description="close",
                icon="times",
                layout=widgets.Layout(width="90px"),
            )
            close.on_click(self.sink.guard("close", lambda _: on_close(), _words))
            top.append(close)
        self.widget = make(
            widgets.VBox,
            [
                make(widgets.HBox, top),
                # side by side where there is room, the details under the image where not
                make(
                    widgets.Box,
                    [self.image, self.info],
                    layout=widgets.Layout(flex_flow="row wrap"),
                ),
                make(widgets.HBox, [self.target, self.save_button]),
                self.status,
            ],
        )
        self.picker.observe(
            self.sink.guard("picker", lambda change: self.show(change["new"]), _words),
            names="value",
        )
        self.save_button.on_click(self.sink.guard("save", lambda _: self.save(), _words))
        self.show(min(max(0, index), len(self.images) - 1))

    @property
    def errors(self) -> list[PanelError]:
        return self.sink.errors

    def _option(self, index: int) -> str:
        record, image = self.images[index]
        several = len(record.files) > 1
        seed = "no seed" if record.seed is None else f"seed {record.seed}"
        number = f" #{image.index + 1}" if several else ""
        return f"{index + 1}. {seed}{number} · job {record.job_id[:8]}"

    @property
    def index(self) -> int:
        return int(self.picker.value)

    def show(self, index: int) -> None:
        """Show image ``index`` (of :attr:`images`)."""
        record, image = self.images[index]
        data, fmt = large_view(image)
        with self.image.hold_sync():
            self.image.format = fmt
            self.image.value = data
        self.info.value = _info_html(record, image)
        suffix = Path(image.path).suffix or ".png"
        seed = "" if record.seed is None else f"-seed{record.seed}"
        self.target.value = f"naive-{record.job_id[:8]}{seed}-{image.index + 1}{suffix}"
        self.status.value = ""
        if self.picker.value != index:
            self.picker.value = index

    def save(self) -> Path:
        """Copy the full-size file of the image shown to the path in the "Save as" field."""
        image = self.images[self.index][1]
        target = Path(self.target.value.strip()).expanduser()
        if not self.target.value.strip():
            raise PanelInputError("target", "Type a file name to save the copy as.")
        if target.exists():
            raise PanelInputError("target", f"{target} already exists; choose another name.")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(image.path, target)
        self.status.value = (
            f'<span style="color:#1a7f37">Saved a copy of the {image.width}x{image.height} file '
            f"as {html.escape(str(target))}.</span>"
        )
        return target

    def _show_error(self, error: PanelError) -> None:
        self.status.value = f'<span style="color:{RED}">{html.escape(error.message)}</span>'

    def close(self) -> None:
        """Close every widget of the viewer (they are not freed until closed)."""
        self._widgets.close()

    # -- how a notebook shows it ----------------------------------------------------------------
    def __repr__(self) -> str:
        record, image = self.images[self.index] if self._widgets.widgets else self.images[0]
        seed = "no seed" if record.seed is None else f"seed {record.seed}"
        return (
            f"naive-nb viewer (a live widget: it needs its kernel running) of "
            f"{len(self.images)} image{'s' if len(self.images) != 1 else ''}; showing {seed}, "
            f"job {record.job_id}, file {shown_path(image.path)}"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.widget._repr_mimebundle_())
        data["text/plain"] = repr(self)
        return data


def _words(error: BaseException) -> tuple[str | None, str] | None:
    if isinstance(error, PanelInputError):
        return error.field, str(error)
    if isinstance(error, OSError):
        return "target", f"Could not save the copy: {error.strerror or error}."
    return None


def _info_html(record: JobRecord, image: StoredImage) -> str:
    rows = [
        ("seed", "-" if record.seed is None else str(record.seed)),
        ("model", record.model),
        ("job id", record.job_id),
        ("file", f"{shown_path(image.path)} ({image.width}x{image.height}, {image.content_type})"),
        ("sha256", image.sha256),
        ("made", record.completed or record.created or "-"),
        ("credits", "-" if record.credits_used is None else f"{record.credits_used:g}"),
        ("backend", record.backend + (" (local preview engine)" if record.local_preview else "")),
    ]
    cells = "".join(
        f'<tr><td style="color:{GREY};padding:1px 8px 1px 0;text-align:left">{name}</td>'
        f'<td style="text-align:left;padding:1px 0">{html.escape(value)}</td></tr>'
        for name, value in rows
    )
    full = html.escape(json.dumps(record.input, indent=1, sort_keys=True))
    return (
        f'<table style="border-collapse:collapse">{cells}</table>'
        f'<div style="color:{GREY}">input</div>'
        f'<pre style="margin:0;white-space:pre-wrap;font-size:12px">{full}</pre>'
    )


def view(result: NaiveResult | Outcome | Sequence[JobRecord], index: int = 0) -> Viewer:
    """A live, larger view of ``result``'s images (a ``%naive`` result, a panel run's outcome),
    starting at image ``index``: ``naive_nb.view(r)``."""
    return Viewer(result, index)


def view_named(name: str | None) -> Viewer:
    """``%naive view NAME``: the viewer of the result bound to ``NAME`` in the notebook (without
    a name, of ``_``, the last cell's result)."""
    from IPython import get_ipython

    from naive_nb.notebook.args import MagicUsageError

    shell = get_ipython()  # type: ignore[no-untyped-call]
    namespace: dict[str, Any] = shell.user_ns if shell is not None else {}
    key = name or "_"
    result = namespace.get(key)
    if result is None or not hasattr(result, "outcome"):
        what = f"{name!r} is not a %naive result" if name else "the last cell's result is not one"
        raise MagicUsageError(
            f"%naive view: {what}. Bind one first (r = %naive ..., or -o r), then %naive view r."
        )
    try:
        return Viewer(result)
    except ValueError as error:
        raise MagicUsageError(f"%naive view: {error}") from None
