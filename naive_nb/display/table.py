"""Small tables (models, jobs, status, price) as ``text/plain`` + ``text/html`` bundles."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Table:
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[object]]
    notes: Sequence[str] = field(default_factory=tuple)

    def text(self) -> str:
        cells = [[str(h) for h in self.headers]] + [
            ["" if v is None else str(v) for v in row] for row in self.rows
        ]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.headers))]
        lines = [self.title] if self.title else []
        for row in cells:
            lines.append("  ".join(value.ljust(widths[i]) for i, value in enumerate(row)).rstrip())
        lines.extend(self.notes)
        return "\n".join(lines)

    def html(self) -> str:
        esc = html.escape
        parts = [f"<p><b>{esc(self.title)}</b></p>"] if self.title else []
        parts.append('<table border="0" cellpadding="3">')
        parts.append(
            "<tr>"
            + "".join(
                f'<th align="left" style="text-align:left">{esc(str(h))}</th>' for h in self.headers
            )
            + "</tr>"
        )
        for row in self.rows:
            values = ("" if v is None else str(v) for v in row)
            parts.append(
                "<tr>"
                + "".join(f'<td align="left" style="text-align:left">{esc(v)}</td>' for v in values)
                + "</tr>"
            )
        parts.append("</table>")
        parts.extend(f"<p>{esc(note)}</p>" for note in self.notes)
        return "".join(parts)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": self.text(), "text/html": self.html()}

    def __repr__(self) -> str:
        return self.text()
