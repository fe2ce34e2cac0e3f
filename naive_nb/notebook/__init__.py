"""The notebook layer: ``%naive`` / ``%%naive``, progress views and the words users read.

The only layer that imports IPython (and, for the panel, ipywidgets). Importing it stays cheap:
``%load_ext naive_nb`` must not import httpx, Pillow or Starlette.
"""
