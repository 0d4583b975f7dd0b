"""Figures as files: PNG and TIFF at an exact width and resolution, SVG and PDF, offline.

Altair specs go through vl-convert (no browser, no system fonts, no network); TIFF is
the PNG rewritten by Pillow. A figure asked for at a width is laid out at that
physical width, with no text under :data:`MIN_FONT_PT` when printed at it: PNG and
TIFF are then exactly that many pixels wide with the resolution written in the file,
SVG and PDF exactly that many millimetres or points wide. The journal presets
(:data:`JOURNAL_WIDTHS_MM`: single column 89 mm, double column 183 mm; 300 or 600 dpi)
are such widths. Every function returns bytes.
"""

from __future__ import annotations

import copy
import io
import re
import struct
from collections.abc import Mapping
from typing import Any

import altair as alt
import vl_convert as vlc
from PIL import Image

from analytics.errors import AnalysisError
from analytics.output.figure_layout import (
    MIN_FONT_PT,
    POINTS_PER_INCH,
    font_sizes,
    print_spec,
    svg_size,
    vl_version,
)

__all__ = [
    "CHART_FORMATS",
    "DEFAULT_PPI",
    "JOURNAL_DPI",
    "JOURNAL_WIDTHS_MM",
    "MIN_FONT_PT",
    "PNG_WIDTHS_PX",
    "chart_bytes",
    "chart_files",
    "chart_title",
    "figure_size_text",
    "font_sizes",
    "png_size",
    "print_spec",
    "width_px_for",
]

#: Figure formats offered for download.
CHART_FORMATS = ("png", "tiff", "svg", "pdf")
#: Resolution of PNG figures (dots per inch); vl-convert's 1x is 72 ppi.
DEFAULT_PPI = 300
#: Widths offered for PNG figures: 4, 6 and 8 inches at 300 dpi.
PNG_WIDTHS_PX = (1200, 1800, 2400)
#: Journal figure widths in millimetres: one column and the full page width (two
#: columns), as Nature, Cell, Elsevier and most clinical journals ask for them.
JOURNAL_WIDTHS_MM = {"single": 89.0, "double": 183.0}
#: Resolutions journals ask for: 300 dpi (halftones), 600 dpi (combination art).
JOURNAL_DPI = (300, 600)
_MM_PER_INCH = 25.4

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _spec(chart: alt.TopLevelMixin | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(chart, Mapping):
        return copy.deepcopy(dict(chart))
    if not hasattr(chart, "to_dict"):
        raise AnalysisError(f"Not a chart: {type(chart).__name__}.")
    return chart.to_dict()


def width_px_for(width_mm: float, dpi: float) -> int:
    """Pixels across ``width_mm`` millimetres at ``dpi``: 89 mm at 300 dpi is 1051 px."""
    return round(width_mm / _MM_PER_INCH * dpi)


def figure_size_text(width_px: int, ppi: float) -> str:
    """The printed size in words: "1200 px at 300 dpi (101.6 mm, 4 in wide)"."""
    inches = width_px / ppi
    return f"{width_px} px at {ppi:g} dpi ({inches * _MM_PER_INCH:.1f} mm, {inches:.3g} in wide)"


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


def _png_exact_width(spec: dict[str, Any], width_px: int, ppi: float) -> bytes:
    """PNG exactly ``width_px`` wide (vl-convert floors the scaled size)."""
    natural, _ = svg_size(vlc.vegalite_to_svg(spec, vl_version=vl_version()))
    per_point = ppi / POINTS_PER_INCH
    scale = (width_px + 0.5) / (natural * per_point)
    png = b""
    for _ in range(3):
        png = vlc.vegalite_to_png(spec, vl_version=vl_version(), scale=scale, ppi=ppi)
        got, _ = png_size(png)
        if got == width_px:
            return png
        scale *= (width_px + 0.5) / (got + 0.5)
    return png


def _tiff(png: bytes, ppi: float) -> bytes:
    """The PNG as an RGB TIFF (LZW, on white), its resolution written in the file."""
    with Image.open(io.BytesIO(png)) as image:
        rgba = image.convert("RGBA")
    flat = Image.new("RGB", rgba.size, "white")
    flat.paste(rgba, mask=rgba.getchannel("A"))
    buffer = io.BytesIO()
    flat.save(buffer, format="TIFF", compression="tiff_lzw", dpi=(ppi, ppi))
    return buffer.getvalue()


def _sized_svg(svg: str, width_px: int, ppi: float) -> str:
    """The SVG with its printed size in millimetres (the drawing is unchanged)."""
    width, height = svg_size(svg)
    width_mm = width_px / ppi * _MM_PER_INCH
    height_mm = width_mm * height / width
    return re.sub(
        r'(<svg[^>]*?\b)width="[\d.]+"([^>]*?\b)height="[\d.]+"',
        lambda m: f'{m.group(1)}width="{width_mm:.2f}mm"{m.group(2)}height="{height_mm:.2f}mm"',
        svg,
        count=1,
    )


def _checked(fmt: str, width_px: int | None, ppi: float) -> str:
    fmt = fmt.lower().lstrip(".")
    if fmt == "tif":
        fmt = "tiff"
    if fmt not in CHART_FORMATS:
        raise AnalysisError(f"Figures can be saved as {', '.join(CHART_FORMATS)}, not '{fmt}'.")
    if not ppi > 0:
        raise AnalysisError(f"The resolution must be above 0 ppi, not {ppi}.")
    if width_px is not None and (isinstance(width_px, bool) or int(width_px) < 50):
        raise AnalysisError(f"The figure width must be at least 50 pixels, not {width_px}.")
    return fmt


def chart_bytes(
    chart: alt.TopLevelMixin | Mapping[str, Any],
    fmt: str,
    *,
    width_px: int | None = None,
    ppi: float = DEFAULT_PPI,
    width_mm: float | None = None,
) -> bytes:
    """Render a chart to PNG, TIFF, SVG or PDF, offline.

    Parameters
    ----------
    chart : altair chart or Vega-Lite spec (dict)
        Built from in-memory data (never a URL).
    fmt : {"png", "tiff", "svg", "pdf"}
        Output format.
    width_px : int, optional
        Width of the figure in pixels at ``ppi`` (e.g. 1200, 1800, 2400 at 300 dpi:
        4, 6, 8 inches). The chart is laid out at that physical width (see
        :func:`~analytics.output.figure_layout.print_spec`: titles wrapped, plots
        resized, fonts at their size; no text prints under 6 pt). PNG and TIFF are then exactly
        ``width_px`` wide, SVG exactly ``width_px / ppi`` inches (its size in mm),
        PDF exactly that many points. Default: the chart's own size.
    ppi : float
        Pixels per inch of the PNG or TIFF (written into the file: PNG ``pHYs``,
        TIFF resolution tags). A chart ``W`` points wide without ``width_px`` becomes
        ``floor(W × ppi / 72)`` pixels.
    width_mm : float, optional
        The width in millimetres instead of pixels (e.g. a journal column,
        :data:`JOURNAL_WIDTHS_MM`); ``width_px`` is then ``width_mm / 25.4 × ppi``.

    Returns
    -------
    bytes
        PNG, TIFF (RGB, LZW), SVG (UTF-8 text) or PDF.

    Notes
    -----
    The first conversion in a process starts vl-convert's engine (about 0.5 s);
    later ones take 0.05–0.2 s. No network access and no system fonts are needed.
    """
    if width_mm is not None:
        if not width_mm > 0:
            raise AnalysisError(f"The figure width must be above 0 mm, not {width_mm}.")
        width_px = width_px_for(width_mm, ppi)
    fmt = _checked(fmt, width_px, ppi)
    version = vl_version()
    if width_px is None:
        spec = _spec(chart)
        if fmt in ("png", "tiff"):
            png = vlc.vegalite_to_png(spec, vl_version=version, ppi=ppi)
            return png if fmt == "png" else _tiff(png, ppi)
        if fmt == "svg":
            return vlc.vegalite_to_svg(spec, vl_version=version).encode("utf-8")
        return vlc.vegalite_to_pdf(spec, vl_version=version)
    return chart_files(chart, (fmt,), width_px=int(width_px), ppi=ppi)[fmt]


def _render(spec: dict[str, Any], fmt: str, width_px: int, ppi: float) -> bytes:
    """A spec laid out by :func:`print_spec`, rendered at exactly its printed width."""
    if fmt in ("png", "tiff"):
        png = _png_exact_width(spec, width_px, ppi)
        return png if fmt == "png" else _tiff(png, ppi)
    svg = vlc.vegalite_to_svg(spec, vl_version=vl_version())
    if fmt == "svg":
        return _sized_svg(svg, width_px, ppi).encode("utf-8")
    target_points = width_px * POINTS_PER_INCH / ppi
    scale = target_points / svg_size(svg)[0]
    return vlc.vegalite_to_pdf(spec, vl_version=vl_version(), scale=scale)


def chart_files(
    chart: alt.TopLevelMixin | Mapping[str, Any],
    formats: tuple[str, ...],
    *,
    width_px: int,
    ppi: float = DEFAULT_PPI,
) -> dict[str, bytes]:
    """One chart in several formats at one printed width, laid out once.

    The same as :func:`chart_bytes` for each format with ``width_px`` and ``ppi``
    (a bundle's PNG and SVG share their layout, and the layout is computed once).
    """
    checked = [_checked(fmt, width_px, ppi) for fmt in formats]
    spec = print_spec(_spec(chart), int(width_px), ppi)
    return {fmt: _render(spec, fmt, int(width_px), ppi) for fmt in checked}
