"""examples/notebooks/movielens.ipynb executed headless with nbclient in a
fresh kernel of this Python: any cell error fails the test.  The notebook
asserts itself that clearn's and scikit-learn's logistic regressions give
the same ROC AUC; this checks what the cells printed and drew."""
import base64
import os
import sys

import pytest

for mod in ("nbclient", "nbformat", "ipykernel", "matplotlib", "pandas"):
    pytest.importorskip(mod, reason="python3-%s is not installed" % mod)

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

NOTEBOOK = os.path.join(os.path.dirname(__file__), "..", "..", "examples",
                        "notebooks", "movielens.ipynb")


def test_movielens_notebook_runs(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    # The kernel inherits CLEARN_LIBRARY and PYTHONPATH from this process.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in [os.environ.get("PYTHONPATH", "")] + sys.path[:1] if p)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": os.path.dirname(
                                NOTEBOOK)}})
    client.execute()  # raises CellExecutionError on any failing cell
    text, pngs = "", []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                text += out["text"]
            data = out.get("data", {})
            text += data.get("text/plain", "")
            if "image/png" in data:
                pngs.append(base64.b64decode(data["image/png"]))
    assert "als iter  15" in text
    assert "ROC AUC on held-out ratings: clearn" in text
    assert len(pngs) == 1 and pngs[0][:4] == b"\x89PNG"
    (tmp_path / "rmse.png").write_bytes(pngs[0])
    if os.path.isdir("/work/shared/data/movielens/ml-100k") or \
            os.environ.get("MOVIELENS_DIR"):
        # real data: the top 10 shows titles with their years
        assert "MovieLens 100K" in text and text.count(" (19") >= 5
