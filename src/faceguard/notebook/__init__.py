"""Jupyter helpers: rich displays of results and refusals, and progress bars.

Install with ``pip install "faceguard[notebook]"`` (Pillow and tqdm). Nothing happens at
import: Pillow and tqdm load when first needed, and IPython formatters are registered only
by an explicit ``enable()``.

```python
from faceguard import notebook

faces = client.detection.detect("group.jpg", return_face_landmarks=True)
notebook.show(faces, "group.jpg")        # boxes and landmarks drawn, a table per face
notebook.enable()                        # results and GuardErrors display as HTML from now on
notebook.progress(client.person_groups.train("staff"))   # a bar while training runs
for path in notebook.track(paths, desc="enrolling"):
    ...
```

Renderings show only the face attributes faceguard allows (never a retired or
limited-access one, even from a dict that carries them), shorten faceIds to their first
eight characters, and HTML-escape every value.
"""

from __future__ import annotations

from ._html import HTML
from ._ipython import disable, enable
from ._progress import progress, track
from ._refusals import render_refusal
from ._render import (
    render_detection,
    render_find_similar,
    render_grouping,
    render_identification,
    render_verification,
    show,
    to_html,
)

__all__ = [
    "HTML",
    "disable",
    "enable",
    "progress",
    "render_detection",
    "render_find_similar",
    "render_grouping",
    "render_identification",
    "render_refusal",
    "render_verification",
    "show",
    "to_html",
    "track",
]
