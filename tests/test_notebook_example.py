"""``examples/walkthrough.ipynb`` runs headless, as CI runs it, so it cannot rot; and the
repository holds it with its outputs stripped.

The notebook is executed with nbclient on an ipykernel ``python3`` kernel of this interpreter
(not whatever ``python3`` kernelspec the machine has), from the repository root, on the
emulator; it is never written back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("cv2", reason="the notebook runs the emulator's face engine")
pytest.importorskip("jwt", reason="the notebook mints consent tokens")
pytest.importorskip("PIL", reason="the notebook draws the faces")
pytest.importorskip("tqdm", reason="the notebook shows progress bars")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "walkthrough.ipynb"


def _html(cell: Any) -> list[str]:
    return [
        output["data"]["text/html"]
        for output in cell.get("outputs", [])
        if "text/html" in output.get("data", {})
    ]


@pytest.fixture(scope="module")
def executed() -> Any:
    """The notebook after a headless run (a copy in memory)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # Only ipykernel's own python3 spec, which starts this interpreter.
    specs = KernelSpecManager(kernel_dirs=[], ensure_native_kernel=True)
    kernel = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=specs)
    client = nbclient.NotebookClient(
        notebook,
        km=kernel,
        kernel_name="python3",
        timeout=180,
        resources={"metadata": {"path": str(ROOT)}},
    )
    try:
        client.execute(cleanup_kc=True)  # stop the kernel and its channels: it is ours
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"a cell of {NOTEBOOK.name} raised:\n{error}")
    return notebook


def test_the_repository_copy_has_its_outputs_stripped() -> None:
    raw = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert raw["nbformat"] == 4
    nbformat.validate(nbformat.reads(json.dumps(raw), as_version=4))
    code = [cell for cell in raw["cells"] if cell["cell_type"] == "code"]
    assert code
    for cell in code:
        assert cell["outputs"] == [], cell["source"]
        assert cell["execution_count"] is None, cell["source"]
        assert "execution" not in cell["metadata"]
    assert "widgets" not in raw["metadata"]


def test_the_notebook_runs_headless_without_errors(executed: Any) -> None:
    errors = [
        output
        for cell in executed.cells
        for output in cell.get("outputs", [])
        if output["output_type"] == "error"
    ]
    assert errors == []
    code = [cell for cell in executed.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code)


def test_the_detection_display_draws_the_photo(executed: Any) -> None:
    shown = [html for cell in executed.cells for html in _html(cell)]
    detections = [html for html in shown if "faceguard-detection" in html]
    assert detections, "no detection display"
    assert "<img" in detections[0] and "data:image/png;base64," in detections[0]
    assert "2 faces detected" in detections[0]


def test_the_walkthrough_refuses_then_identifies(executed: Any) -> None:
    shown = "\n".join(html for cell in executed.cells for html in _html(cell))
    assert "ConsentRequiredError" in shown  # detect with a faceId, without consent
    for name in ("obama", "biden", "lennon"):
        assert f">{name}<" in shown  # each enrolled person identified, by name
    printed = "".join(
        output.get("text", "")
        for cell in executed.cells
        for output in cell.get("outputs", [])
        if output["output_type"] == "stream" and output["name"] == "stdout"
    )
    assert "3 people enrolled; training succeeded" in printed
