"""Splink's charts with no network: shown in Jupyter and saved as HTML with Vega inline.

Splink 5 draws its charts with Vega-Lite and ships the Vega, Vega-Lite and vega-embed
scripts inside its package; by default a chart shown in a notebook loads them from a CDN.
``use_offline_charts()`` makes every Splink chart render from the bundled copies instead,
and ``save_chart`` writes a standalone page that needs nothing beyond itself.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

# Links the comparison viewer's template adds for a web font: the page works without them.
_EXTERNAL_LINK = re.compile(r"<link[^>]+href=[\"']https?://[^>]*>\s*", re.IGNORECASE)
EXTERNAL_SCRIPT = re.compile(r"<script[^>]+src\s*=\s*[\"']?\s*(https?:)?//", re.IGNORECASE)


def chart_html(chart: Any, *, full: bool = True) -> str:
    """A Splink chart as HTML carrying the bundled Vega scripts (a page, or a fragment)."""
    from splink.internals.html_utils import chart_html as splink_chart_html

    return splink_chart_html(chart.chart_dict, inline=True, fullhtml=full)


def _offline_mimebundle(self: Any, include: Any = None, exclude: Any = None) -> dict[str, str]:
    return {"text/html": chart_html(self, full=False), "text/plain": f"<{type(self).__name__}>"}


def use_offline_charts() -> None:
    """Render every Splink chart in Jupyter from the scripts bundled with Splink, not a CDN."""
    from splink.internals.charts import SplinkChart

    SplinkChart._repr_mimebundle_ = _offline_mimebundle  # type: ignore[method-assign]


def offline_html(html: str) -> str:
    """A page with its external stylesheet links (web fonts) removed; refuses external scripts."""
    html = _EXTERNAL_LINK.sub("", html)
    if EXTERNAL_SCRIPT.search(html):
        raise ValueError("the page loads a script from the network; it would not work offline")
    return html


def _write(path: Path, html: str) -> Path:
    from matching.workspace import replaced_atomically

    with replaced_atomically(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return path


def save_chart(chart: Any, path: str | os.PathLike[str]) -> Path:
    """Save a Splink chart (or a page of HTML, such as the comparison viewer's) that works offline."""
    html = chart if isinstance(chart, str) else chart_html(chart)
    return _write(Path(path), offline_html(html))


def charts_folder(workspace: Any, *, run: str | os.PathLike[str] | None = None, job: str | None = None) -> Path:
    """Where a notebook saves charts: inside the run's bundle (``runs/<run-id>/charts``), else
    ``charts/<job>`` in the workspace."""
    from matching.workspace import Workspace

    ws = workspace if isinstance(workspace, Workspace) else Workspace.at(workspace)
    if run is not None:
        run_dir = Path(run) if Path(run).is_absolute() else ws.runs / str(run)
        return run_dir / "charts"
    return ws.root / "charts" / (job or "workspace")


def framed(html: str, height: int = 800) -> Any:
    """A whole page (the comparison viewer) shown inside a notebook, in a sandboxed frame."""
    import html as html_lib

    from IPython.display import HTML

    page = offline_html(html)
    return HTML(f'<iframe srcdoc="{html_lib.escape(page, quote=True)}" style="width:100%;height:{int(height)}px;'
                'border:0" sandbox="allow-scripts"></iframe>')
