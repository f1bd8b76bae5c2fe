"""The analysts' notebooks: each runs from top to bottom against the sample exercise with no
error and no network, charts saved from them work offline, and they are committed clean."""

from __future__ import annotations

import math

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from matching.evaluate.charts import EXTERNAL_SCRIPT, save_chart

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 180  # seconds; the slowest cell (a run, or ingesting two files) takes a few


@pytest.fixture(scope="session")
def sample_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample exercise ingested once, for every notebook."""
    from matching import ingest_dir

    ws = tmp_path_factory.mktemp("notebooks") / "workspace"
    ingest_dir(ROOT / "sample_data", workspace=ws)
    return ws


@pytest.fixture
def kernel_env(sample_workspace: Path) -> Iterator[None]:
    """The kernel inherits this process's environment: point it at the sample workspace, save
    charts, and never at a PostgreSQL case store."""
    saved = dict(os.environ)
    os.environ.update({"MATCHING_WORKSPACE": str(sample_workspace), "MATCHING_SAVE_CHARTS": "1",
                       "MATCHING_TRUTH": str(ROOT / "sample_data")})
    os.environ.pop("DATABASE_URL", None)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# What a notebook may change in the workspace it analyses: 02 trains and saves the job's model,
# as it says. 03 and 04 run, train and ingest in a scratch workspace, so nothing they do can be
# published to investigators or used by the workspace's later runs. (Charts are saved on request.)
MAY_CHANGE = {"02_train_and_inspect": {"models/hb-to-deceased.json"}}


def workspace_files(ws: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(ws)): (p.stat().st_size, p.stat().st_mtime_ns) for p in ws.rglob("*")
            if p.is_file() and p.relative_to(ws).parts[0] not in ("charts", "tmp")}


def test_there_are_four_notebooks() -> None:
    assert [p.stem[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04"]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, kernel_env: None, sample_workspace: Path) -> None:
    book = nbformat.read(path, as_version=4)
    before = workspace_files(sample_workspace)
    started = time.perf_counter()
    NotebookClient(book, timeout=CELL_TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for cell in book.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    # Every chart rendered inline carries its scripts: none is fetched from a CDN.
    for cell in book.cells:
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html", "")
            assert not EXTERNAL_SCRIPT.search(html), f"{path.name}: a chart loads a script from the network"
    for saved in (sample_workspace / "charts").rglob("*.html"):
        assert not EXTERNAL_SCRIPT.search(saved.read_text(encoding="utf-8")), saved
    assert time.perf_counter() - started < 120, f"{path.name} took too long"
    after = workspace_files(sample_workspace)
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    assert changed <= MAY_CHANGE.get(path.stem, set()), f"{path.name} changed the workspace it analyses"


def printed(book: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for cell in book.cells if cell.cell_type == "code"
                   for o in cell.get("outputs", []) if o.get("output_type") == "stream")


@pytest.mark.slow
def test_notebook_03_prints_the_best_f1_and_the_chosen_thresholds_own(kernel_env: None) -> None:
    """The best F1 may lie below 0.5, where a job cannot link: the chosen threshold is then 0.5,
    and its F1 is its own, not the best's."""
    path = ROOT / "notebooks" / "03_thresholds_and_accuracy.ipynb"
    book = nbformat.read(path, as_version=4)
    book.cells = book.cells[:book.cells.index(next(c for c in book.cells if "figures_at" in c.source)) + 1]
    NotebookClient(book, timeout=CELL_TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    found = re.search(r"Best F1: ([\d.]+), at match probability ([\d.e+-]+)\nChosen threshold: ([\d.]+), F1 ([\d.]+) "
                      r"\(precision ([\d.]+), recall ([\d.]+)\)", printed(book))
    assert found, printed(book)
    best_f1, best_at, chosen, chosen_f1, precision, recall = (float(x) for x in found.groups())
    # Rounded down, so the best's own pairs stay linked; within the thresholds a job may use.
    assert chosen == min(max(math.floor(round(best_at * 1000, 6)) / 1000, 0.5), 0.999)
    assert chosen_f1 == pytest.approx(2 * precision * recall / (precision + recall), abs=1e-3)
    if best_at < 0.5:
        assert chosen_f1 < best_f1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    book = nbformat.read(path, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None, (
                f"{path.name}: clear its outputs before committing (Jupyter: Edit > Clear Outputs of All Cells)")


def test_a_saved_chart_has_no_external_script(tmp_path: Path) -> None:
    import duckdb
    from splink import DuckDBAPI
    from splink.exploratory import completeness_chart

    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range AS unique_id, CASE WHEN range % 3 = 0 THEN NULL ELSE 'x' END AS a FROM range(10)")
    chart = completeness_chart(DuckDBAPI(connection=con).register("t"))
    html = save_chart(chart, tmp_path / "chart.html").read_text(encoding="utf-8")
    assert "<script" in html and "vegaEmbed" in html
    assert not EXTERNAL_SCRIPT.search(html)
    assert "cdn.jsdelivr.net" not in html


def test_a_page_that_loads_a_script_from_the_network_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="network"):
        save_chart('<html><script src="https://cdn.example/vega.js"></script></html>', tmp_path / "x.html")
    page = '<html><link href="https://fonts.googleapis.com/css2" rel="stylesheet"><script>1</script></html>'
    assert "googleapis" not in save_chart(page, tmp_path / "y.html").read_text(encoding="utf-8")
