"""Interactive controls for the notebooks (ipywidgets).

Each control's callback is a plain function of this module that returns what it shows (a figure or an
array), so tests call it directly: an exception inside an ipywidgets callback would not fail a cell.
"""

from __future__ import annotations
