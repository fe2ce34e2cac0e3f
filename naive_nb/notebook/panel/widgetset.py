"""A set of widgets made together and closed together.

ipywidgets keeps every widget alive (and its state in the front end) until ``close()`` is
called on it (ipywidgets#1345), and a widget's layout and style are widgets too, which its own
``close()`` leaves open. Each part of the panel makes its widgets through a :class:`WidgetSet`,
so replacing a part, or closing the panel, frees all of them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["WidgetSet"]


class WidgetSet:
    def __init__(self) -> None:
        self.widgets: list[Any] = []

    def __call__(self, cls: Any, *args: Any, **kwargs: Any) -> Any:
        """``cls(*args, **kwargs)``, kept to be closed with the rest."""
        widget = cls(*args, **kwargs)
        self.widgets.append(widget)
        return widget

    def close(self) -> None:
        """Close every widget, with its ``layout`` and ``style``: those are widgets of their
        own, which closing the widget leaves open."""
        widgets, self.widgets = self.widgets, []
        for widget in widgets:
            for part in (getattr(widget, "layout", None), getattr(widget, "style", None)):
                if part is not None and hasattr(part, "close"):
                    part.close()
            widget.close()
