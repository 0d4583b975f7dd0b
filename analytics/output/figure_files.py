"""Figures as files: PNG at an exact width and resolution, SVG and PDF, made offline.

Altair specs go through vl-convert (no browser, no system fonts, no network). A
PNG is rendered at exactly the width asked for; SVG and PDF are reflowed to about
that width. Every function returns bytes.
"""

from __future__ import annotations

import copy
import re
import struct
from collections.abc import Mapping
from typing import Any

import altair as alt
import vl_convert as vlc

from analytics.errors import AnalysisError

__all__ = [
    "CHART_FORMATS",
    "DEFAULT_PPI",
    "PNG_WIDTHS_PX",
    "chart_bytes",
    "chart_title",
    "png_size",
]

#: Figure formats offered for download.
CHART_FORMATS = ("png", "svg", "pdf")
#: Resolution of PNG figures (dots per inch); vl-convert's 1x is 72 ppi.
DEFAULT_PPI = 300
#: Widths offered for PNG figures: 4, 6 and 8 inches at 300 dpi.
PNG_WIDTHS_PX = (1200, 1800, 2400)

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_POINTS_PER_INCH = 72.0  # vl-convert renders 1 Vega pixel as 1 point at scale 1


def _vl_version() -> str:
    """The Vega-Lite version Altair writes, in vl-convert's spelling (``v6_4``)."""
    return "v" + "_".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])


def _spec(chart: alt.TopLevelMixin | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(chart, Mapping):
        return copy.deepcopy(dict(chart))
    if not hasattr(chart, "to_dict"):
        raise AnalysisError(f"Not a chart: {type(chart).__name__}.")
    return chart.to_dict()


def _svg_size(svg: str) -> tuple[float, float]:
    match = re.search(r'<svg[^>]*\bwidth="([\d.]+)"[^>]*\bheight="([\d.]+)"', svg)
    if match is None:
        raise AnalysisError("The chart could not be measured (no SVG size).")
    return float(match.group(1)), float(match.group(2))


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels of a PNG, read from its IHDR chunk."""
    if not png.startswith(_PNG_SIGNATURE) or png[12:16] != b"IHDR":
        raise AnalysisError("Not a PNG file.")
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def chart_title(chart: alt.TopLevelMixin | Mapping[str, Any]) -> str:
    """The title text of a chart ("" when it has none)."""
    title = _spec(chart).get("title", "")
    if isinstance(title, Mapping):
        title = title.get("text", "")
    if isinstance(title, list | tuple):
        title = " ".join(str(part) for part in title)
    return str(title)


def _natural_width(spec: dict[str, Any]) -> float:
    return _svg_size(vlc.vegalite_to_svg(spec, vl_version=_vl_version()))[0]


def _with_width(spec: dict[str, Any], width: float) -> dict[str, Any]:
    out = dict(spec)
    old_width, height = spec["width"], spec.get("height")
    out["width"] = round(width, 2)
    if isinstance(height, int | float) and not isinstance(height, bool) and height > 0:
        out["height"] = round(height * width / old_width, 2)
    return out


def _reflowed(spec: dict[str, Any], target_points: float) -> dict[str, Any]:
    """The spec with its plot width set so the whole figure is ``target_points`` wide.

    Fonts keep their size: a 4-inch figure is laid out at 4 inches, not shrunk from
    8. The plot's aspect ratio is kept. Only specs with a numeric top-level width
    (single and layered charts) are reflowed, and only when the figure's width
    follows the plot's (a mark placed at a fixed pixel position does not); otherwise
    the spec is returned unchanged and the figure is only scaled.
    """
    width = spec.get("width")
    if not isinstance(width, int | float) or isinstance(width, bool) or width <= 0:
        return spec
    natural = _natural_width(spec)
    margins = natural - width
    out = spec
    for _ in range(2):  # axis labels change a little with the width: correct once
        new_width = max(80.0, out["width"] + target_points - natural)
        out = _with_width(spec, new_width)
        natural = _natural_width(out)
        if natural - new_width > margins + 20:  # the figure did not shrink with the plot
            return spec
        if abs(natural - target_points) <= 1:
            break
    return out


def _png_exact_width(spec: dict[str, Any], width_px: int, ppi: float) -> bytes:
    """PNG exactly ``width_px`` wide (vl-convert floors the scaled size)."""
    natural, _ = _svg_size(vlc.vegalite_to_svg(spec, vl_version=_vl_version()))
    per_point = ppi / _POINTS_PER_INCH
    scale = (width_px + 0.5) / (natural * per_point)
    png = b""
    for _ in range(3):
        png = vlc.vegalite_to_png(spec, vl_version=_vl_version(), scale=scale, ppi=ppi)
        got, _ = png_size(png)
        if got == width_px:
            return png
        scale *= (width_px + 0.5) / (got + 0.5)
    return png


def chart_bytes(
    chart: alt.TopLevelMixin | Mapping[str, Any],
    fmt: str,
    *,
    width_px: int | None = None,
    ppi: float = DEFAULT_PPI,
) -> bytes:
    """Render a chart to PNG, SVG or PDF, offline.

    Parameters
    ----------
    chart : altair chart or Vega-Lite spec (dict)
        Built from in-memory data (never a URL).
    fmt : {"png", "svg", "pdf"}
        Output format.
    width_px : int, optional
        Width of the figure in pixels at ``ppi`` (e.g. 1200, 1800, 2400 at 300 dpi:
        4, 6, 8 inches). The chart is laid out at that physical width with its
        fonts at their normal size (when its layout allows; else it is scaled); the
        PNG is then exactly ``width_px`` wide. SVG and PDF get the same layout, so
        their width is close to ``width_px / ppi`` inches but not exact.
        Default: the chart's own size.
    ppi : float
        Pixels per inch of the PNG (written into its ``pHYs`` chunk). A chart
        ``W`` points wide becomes ``floor(W × ppi / 72)`` pixels.

    Returns
    -------
    bytes
        PNG, SVG (UTF-8 text) or PDF.

    Notes
    -----
    The first conversion in a process starts vl-convert's engine (about 0.5 s);
    later ones take 0.05–0.2 s. No network access and no system fonts are needed.
    """
    fmt = fmt.lower().lstrip(".")
    if fmt not in CHART_FORMATS:
        raise AnalysisError(f"Figures can be saved as {', '.join(CHART_FORMATS)}, not '{fmt}'.")
    if not ppi > 0:
        raise AnalysisError(f"The resolution must be above 0 ppi, not {ppi}.")
    if width_px is not None and (isinstance(width_px, bool) or int(width_px) < 50):
        raise AnalysisError(f"The figure width must be at least 50 pixels, not {width_px}.")
    spec = _spec(chart)
    version = _vl_version()
    if width_px is not None:
        target_points = int(width_px) * _POINTS_PER_INCH / ppi
        spec = _reflowed(spec, target_points)
        if fmt == "png":
            return _png_exact_width(spec, int(width_px), ppi)
    if fmt == "png":
        return vlc.vegalite_to_png(spec, vl_version=version, ppi=ppi)
    if fmt == "svg":
        return vlc.vegalite_to_svg(spec, vl_version=version).encode("utf-8")
    return vlc.vegalite_to_pdf(spec, vl_version=version)
