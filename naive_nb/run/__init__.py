"""The run layer: planning sweeps, validating inputs, and keeping results on disk.

Nothing here imports IPython or talks to the network; the magic drives it and the tests use it
directly on a temporary directory.
"""

from __future__ import annotations
