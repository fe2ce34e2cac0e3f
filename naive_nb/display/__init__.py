"""The display layer: plain data in, mime bundles out.

Nothing here imports IPython; the magic passes bundles to ``display``. Every bundle renders the
same facts in ``image/jpeg`` (labels drawn into the pixels), ``text/html`` (inline attributes
only, so GitHub and nbconvert keep it) and ``text/plain``, so a saved notebook reads the same in
any frontend.
"""

from __future__ import annotations
