"""Laying a chart out for print at a physical width, with no text too small to read.

A chart drawn for the screen is about 600 px wide with 10–14 px text. Printed 89 mm
wide (a journal column, 252 pt) by scaling alone, its 10 px labels would print at
4 pt. Instead the spec is laid out at the printed width: long title and subtitle lines
are wrapped, the plots are narrowed (the heights less, so a narrow figure stays
readable), and the fonts keep their size, 1 px printing as 1 pt. Where the layout still
cannot reach the width (a wide legend, many labels), the figure is scaled when printed
and its fonts are enlarged until the smallest prints at :data:`MIN_FONT_PT` or more:
smallest font (px) × printed width (pt) / chart width (px) ≥ 6.
"""

from __future__ import annotations

import copy
import re
import textwrap
from collections.abc import Mapping
from typing import Any

import altair as alt
import vl_convert as vlc

from analytics.errors import AnalysisError

__all__ = ["MIN_FONT_PT", "POINTS_PER_INCH", "font_sizes", "print_spec", "svg_size", "vl_version"]

#: No text in a figure made at a physical width is smaller than this when printed at it.
MIN_FONT_PT = 6.0
#: vl-convert renders one Vega pixel as one point (1/72 in) at scale 1.
POINTS_PER_INCH = 72.0
#: Narrowest plot a panel is given: px, and share of its width on screen; the least
#: share of its height it keeps.
_MIN_PLOT_WIDTH = 60.0
_MIN_WIDTH_SHARE = 0.3
_MIN_HEIGHT_SHARE = 0.6
#: Average width of a character relative to the font size, for a first wrap of titles.
_CHAR_WIDTH = 0.55

#: Vega-Lite's default font sizes (px), written into a spec before its fonts are scaled,
#: so that no text keeps a default size (checked: the SVG is the same with and without).
_DEFAULT_FONTS = {
    "axis": {"labelFontSize": 10, "titleFontSize": 11},
    "legend": {"labelFontSize": 10, "titleFontSize": 11},
    "header": {"labelFontSize": 10, "titleFontSize": 11},
    "title": {"fontSize": 13, "subtitleFontSize": 12},
    "text": {"fontSize": 11},
}
_SKIPPED = frozenset({"data", "datasets", "values"})  # records and tick values, not styles


def vl_version() -> str:
    """The Vega-Lite version Altair writes, in vl-convert's spelling (``v6_4``)."""
    return "v" + "_".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])


def svg_size(svg: str) -> tuple[float, float]:
    """Width and height of an SVG drawing as vl-convert writes them (px)."""
    match = re.search(r'<svg[^>]*\bwidth="([\d.]+)"[^>]*\bheight="([\d.]+)"', svg)
    if match is None:
        raise AnalysisError("The chart could not be measured (no SVG size).")
    return float(match.group(1)), float(match.group(2))


def _svg(spec: dict[str, Any]) -> str:
    return vlc.vegalite_to_svg(spec, vl_version=vl_version())


def _is_size(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


# --------------------------------------------------------------------------- fonts


def _is_font_key(key: str) -> bool:
    return key == "fontSize" or key.endswith("FontSize")


def _with_default_fonts(spec: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(spec)
    config = out.setdefault("config", {})
    for section, sizes in _DEFAULT_FONTS.items():
        part = config.setdefault(section, {})
        for key, size in sizes.items():
            part.setdefault(key, size)
    return out


def font_sizes(spec: Mapping[str, Any]) -> list[float]:
    """Every font size set in a spec (px); a spec from :func:`print_spec` sets them all."""
    found: list[float] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key in _SKIPPED:
                    continue
                if _is_font_key(str(key)) and _is_size(value):
                    found.append(float(value))
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(spec)
    return found


def _scaled_fonts(spec: dict[str, Any], factor: float) -> dict[str, Any]:
    """The spec with every font size multiplied by ``factor`` (to 0.01 px)."""

    def scaled(key: str, value: Any) -> Any:
        if key in _SKIPPED:
            return value
        if _is_font_key(key) and _is_size(value):
            return round(value * factor, 2)
        return walk(value)

    def walk(node: Any) -> Any:
        if isinstance(node, Mapping):
            return {key: scaled(str(key), value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return walk(spec)


def _svg_fonts(svg: str) -> list[float]:
    return [float(size) for size in re.findall(r'font-size="([\d.]+)px"', svg)]


# --------------------------------------------------------------------------- titles


def _wrap(lines: Any, max_px: float, font_px: float) -> Any:
    if isinstance(lines, str):
        lines = [lines]
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        return lines
    chars = max(12, int(max_px / (_CHAR_WIDTH * font_px)))
    wrapped: list[str] = []
    for line in lines:
        wrapped += textwrap.wrap(line, chars, break_long_words=False, break_on_hyphens=False)
    return wrapped or lines


def _wrapped_titles(spec: dict[str, Any], max_px: float) -> dict[str, Any]:
    """The spec with its title and subtitle lines wrapped to about ``max_px``."""
    title = spec.get("title")
    if isinstance(title, str):
        title = {"text": title}
    if not isinstance(title, Mapping):
        return spec
    config = spec.get("config", {}).get("title", {})
    title = dict(title)
    size = title.get("fontSize", config.get("fontSize", 13))
    sub_size = title.get("subtitleFontSize", config.get("subtitleFontSize", 12))
    title["text"] = _wrap(title.get("text", ""), max_px, size)
    if "subtitle" in title:
        title["subtitle"] = _wrap(title["subtitle"], max_px, sub_size)
    return {**spec, "title": title}


# --------------------------------------------------------------------------- plots


def _panels(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The views whose numeric width sets the layout: the chart, or its side-by-side parts."""
    if _is_size(spec.get("width")):
        return [spec]
    return [part for part in spec.get("hconcat", []) if _is_size(part.get("width"))]


def _with_plot_scale(
    spec: dict[str, Any], originals: list[tuple[float, Any]], k: float
) -> dict[str, Any]:
    """A copy with each panel ``k`` times its original width (heights less so)."""
    out = copy.deepcopy(spec)
    height_k = max(k, _MIN_HEIGHT_SHARE) if k < 1 else k
    for panel, (width, height) in zip(_panels(out), originals, strict=True):
        panel["width"] = round(max(_MIN_PLOT_WIDTH, _MIN_WIDTH_SHARE * width, width * k), 2)
        if _is_size(height):
            panel["height"] = round(height * height_k, 2)
    return out


def _plots_fitted(spec: dict[str, Any], target: float) -> dict[str, Any]:
    """The spec with its plot widths set so that the figure is ``target`` px wide."""
    panels = _panels(spec)
    if not panels:
        return spec
    originals = [(float(p["width"]), p.get("height")) for p in panels]
    total = sum(width for width, _ in originals)
    natural, k, out = svg_size(_svg(spec))[0], 1.0, spec
    for _ in range(2):  # axis labels change a little with the width: correct once
        k = max(k + (target - natural) / total, 0.01)
        out = _with_plot_scale(spec, originals, k)
        natural = svg_size(_svg(out))[0]
        if abs(natural - target) <= 1:
            break
    return out


def _fitted(spec: dict[str, Any], target: float) -> tuple[dict[str, Any], str]:
    """Titles wrapped and plots narrowed or widened to ``target`` px; the spec and its SVG."""
    room = target
    out, svg = spec, _svg(spec)
    for _ in range(3):
        out = _plots_fitted(_wrapped_titles(spec, room), target)
        svg = _svg(out)
        natural = svg_size(svg)[0]
        if natural <= target + 1 or not _title_is_widest(out, target):
            break
        room *= target / natural * 0.95  # a title line is still wider than the figure
    return out, svg


def _title_is_widest(spec: dict[str, Any], target: float) -> bool:
    """Whether the figure would fit ``target`` px but for its title."""
    if "title" not in spec:
        return False
    untitled = {key: value for key, value in spec.items() if key != "title"}
    return svg_size(_svg(untitled))[0] <= target + 1


def print_spec(
    chart: alt.TopLevelMixin | Mapping[str, Any],
    width_px: int,
    ppi: float,
    min_font_pt: float = MIN_FONT_PT,
) -> dict[str, Any]:
    """The spec laid out to print ``width_px / ppi`` inches wide, no text under ``min_font_pt``.

    Returns the Vega-Lite spec (a dict) to render: every font size is written out,
    titles are wrapped, the plots resized. Rendered and printed at the width, its
    smallest font (px) × printed width (pt) / drawn width (px) ≥ ``min_font_pt``.
    """
    spec = chart if isinstance(chart, Mapping) else chart.to_dict()
    target = int(width_px) * POINTS_PER_INCH / ppi
    base = _with_default_fonts(dict(spec))
    factor, out = 1.0, base
    for _ in range(6):
        out, svg = _fitted(_scaled_fonts(base, factor), target)
        smallest = min(_svg_fonts(svg) or font_sizes(out))
        printed = smallest * target / svg_size(svg)[0]
        if printed >= min_font_pt - 0.005:
            break
        factor *= min_font_pt / printed * 1.01
    return out
