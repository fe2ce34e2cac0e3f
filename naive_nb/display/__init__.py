"""The display layer: plain data in, mime bundles out.

Nothing here imports IPython; the magic passes bundles to ``display``. A result renders as
``text/html`` (inline attributes only, so GitHub and nbconvert keep it; it is what every front end
shows) and ``text/plain``, so a saved notebook reads the same in any frontend. ``result.grid()``
lays the same tiles out again (:mod:`naive_nb.display.figure`): it shows the same way, and saves
the labelled composite picture with the sweep's spec (:mod:`naive_nb.display.composite`).
"""

from __future__ import annotations
