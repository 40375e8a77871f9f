"""The example notebook: committed without outputs, and runs top to bottom in a real kernel."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "explore_run.ipynb"

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


def _read_notebook():  # -> nbformat.NotebookNode
    return nbformat.read(NOTEBOOK, as_version=4)


def test_notebook_outputs_cleared() -> None:
    notebook = _read_notebook()
    nbformat.validate(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {index} has outputs; clear them before committing"
            assert cell.execution_count is None, f"cell {index} has an execution count"


def test_notebook_executes(tmp_path: Path) -> None:
    """Run every cell in a fresh python3 kernel, with runs/ written under tmp_path."""
    from jupyter_client.kernelspec import NoSuchKernel

    notebook = _read_notebook()
    client = nbclient.NotebookClient(notebook, kernel_name="python3", timeout=300)
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(client.setup_kernel(cwd=str(tmp_path)))
        except (NoSuchKernel, RuntimeError, TimeoutError, OSError) as exc:
            pytest.skip(f"the python3 Jupyter kernel cannot start: {exc}")
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)

    errors = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
              if output.output_type == "error"]
    assert errors == []

    run_dirs = list((tmp_path / "runs").glob("*-explore"))
    assert len(run_dirs) == 1
    assert (run_dirs[0] / "scores.parquet").is_file()
    assert (tmp_path / "runs" / "reports" / f"{run_dirs[0].name}.html").is_file()

    text = "\n".join(_plain_text(cell) for cell in notebook.cells if cell.cell_type == "code")
    assert "completed: 160 executions {'ok': 160}" in text
    assert "accuracy_low" in text
    assert "root_cause_category" in text
    assert "incident-triage-v2 answer (repeat 1)" in text
    assert "SEV3" in text


def _plain_text(cell) -> str:  # cell: nbformat.NotebookNode
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output:
            parts.append(output.data.get("text/plain", ""))
    return "\n".join(parts)
