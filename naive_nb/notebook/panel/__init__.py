"""The widget panel: ``naive_nb.Panel()`` and ``%naive panel`` (see ``docs/panel.md``).

Its parts, one concern each: the controls a model's ``key_params`` make (:mod:`.controls`), the
seeds field (:mod:`.seeds`), the results grid (:mod:`.tiles`), the runs and their history
(:mod:`.runs`), the record that survives saving (:mod:`.record`), where background work runs
(:mod:`.background`), where errors go (:mod:`.errors`), the words (:mod:`.words`); the controls
read as a request and a cell (:mod:`.form`), the cost preview and its caps (:mod:`.pricing`),
each run followed from its start to its end (:mod:`.following`), what these parts share
(:mod:`.shared`); and the panel that wires them to the core (:mod:`.panel`).
"""

from __future__ import annotations

from naive_nb.notebook.panel.panel import Panel

__all__ = ["Panel"]
