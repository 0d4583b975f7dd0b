"""Figures at a printed width: journal presets, TIFF, no text under 6 pt, one size per ZIP."""

from __future__ import annotations

import io
import re
import struct
import zipfile
from pathlib import Path

import altair as alt
import pandas as pd
import pytest
import vl_convert as vlc
from PIL import Image

import analytics
from analytics.cli import main
from analytics.filters import CohortFilter
from analytics.output.figure_files import (
    JOURNAL_WIDTHS_MM,
    MIN_FONT_PT,
    chart_bytes,
    chart_files,
    font_sizes,
    png_size,
    print_spec,
    width_px_for,
)
from analytics.output.figure_layout import svg_size, vl_version
from analytics.output.view import view_outputs
from analytics.viz.figures import CHARTS
from analytics.viz.thesis import thesis_figures

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "sirolimus_demo.csv"
LAB = ["--analyte", "mcv", "--baseline", "0", "--follow-up", "2"]


@pytest.fixture(scope="module")
def demo_figures() -> dict[str, object]:
    cohort = analytics.load_cohort(DEMO.read_bytes(), DEMO.name, is_demo=True)
    view = view_outputs(cohort, CohortFilter(), analyte="mcv", baseline=0, follow_up=2)
    charts = {figure.name: figure.chart for figure in view.figures}
    charts |= {f"thesis {f.filename_stem}": f.chart for f, _ in thesis_figures(cohort)}
    return charts


def _smallest_printed_pt(spec: dict, width_mm: float) -> float:
    """Smallest font size × (print width in pt / chart width in px)."""
    drawn_px = svg_size(vlc.vegalite_to_svg(spec, vl_version=vl_version()))[0]
    print_pt = width_mm / 25.4 * 72
    return min(font_sizes(spec)) * print_pt / drawn_px


def test_journal_widths_in_pixels():
    # 89 mm = 3.504 in: × 300 = 1051.2, × 600 = 2102.4; 183 mm = 7.205 in: 2161.4, 4322.8
    assert [width_px_for(JOURNAL_WIDTHS_MM["single"], dpi) for dpi in (300, 600)] == [1051, 2102]
    assert [width_px_for(JOURNAL_WIDTHS_MM["double"], dpi) for dpi in (300, 600)] == [2161, 4323]


@pytest.mark.parametrize("preset", ["single", "double"])
def test_no_text_under_6_pt_in_any_figure_at_a_journal_width(demo_figures, preset):
    width_mm = JOURNAL_WIDTHS_MM[preset]
    assert len(demo_figures) == len(CHARTS) + 6
    for name, chart in demo_figures.items():
        spec = print_spec(chart, width_px_for(width_mm, 300), 300)
        assert _smallest_printed_pt(spec, width_mm) >= MIN_FONT_PT - 0.01, name


def test_tiny_fonts_are_enlarged_until_they_print_at_6_pt():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [2.0, 1.0, 3.0]})
    tiny = (
        alt.Chart(frame)
        .mark_point()
        .encode(x=alt.X("x:Q", axis=alt.Axis(labelFontSize=3)), y="y:Q")
        .properties(width=400, height=200)
    )
    # drawn as is, 3 px labels in a ~450 px chart printed 89 mm (252 pt) wide: 1.7 pt
    assert _smallest_printed_pt(tiny.to_dict(), 89) < 2
    spec = print_spec(tiny, width_px_for(89, 300), 300)
    assert _smallest_printed_pt(spec, 89) >= MIN_FONT_PT - 0.01


def test_a_wide_chart_is_laid_out_at_the_column_width_with_its_fonts_kept(demo_figures):
    spec = print_spec(demo_figures["change"], width_px_for(89, 300), 300)
    drawn_px = svg_size(vlc.vegalite_to_svg(spec, vl_version=vl_version()))[0]
    assert abs(drawn_px - 89 / 25.4 * 72) <= 2  # reflowed, not shrunk: 1 px prints as 1 pt
    assert min(font_sizes(spec)) == 10  # Vega-Lite's axis label size, kept


@pytest.mark.parametrize(("preset", "dpi"), [("single", 300), ("single", 600), ("double", 300)])
def test_png_and_tiff_at_a_preset_have_its_pixels_and_dpi(demo_figures, preset, dpi):
    width_mm = JOURNAL_WIDTHS_MM[preset]
    made = chart_files(demo_figures["qq"], ("png", "tiff"), width_px=width_px_for(width_mm, dpi),
                       ppi=dpi)  # fmt: skip
    assert png_size(made["png"])[0] == width_px_for(width_mm, dpi)
    at = made["png"].index(b"pHYs")
    x, y, unit = struct.unpack(">IIB", made["png"][at + 4 : at + 13])
    assert (x, y, unit) == (round(dpi / 0.0254), round(dpi / 0.0254), 1)
    assert made["tiff"][:4] == b"II*\x00"  # little-endian TIFF
    with Image.open(io.BytesIO(made["tiff"])) as image:
        assert image.size == png_size(made["png"])
        assert image.mode == "RGB"  # no alpha channel: journals refuse transparency
        assert image.info["dpi"] == (dpi, dpi)
        assert image.info["compression"] == "tiff_lzw"


def test_svg_and_pdf_at_a_preset_are_that_wide_on_paper(demo_figures):
    width_px = width_px_for(183, 300)
    made = chart_files(demo_figures["forest"], ("svg", "pdf"), width_px=width_px, ppi=300)
    width_mm = re.search(rb'<svg[^>]*\bwidth="([\d.]+)mm"', made["svg"])
    assert width_mm and float(width_mm.group(1)) == pytest.approx(width_px / 300 * 25.4, abs=0.01)
    box = re.search(rb"MediaBox\s*\[0 0 ([\d.]+) ([\d.]+)\]", made["pdf"])
    assert box and float(box.group(1)) == pytest.approx(width_px / 300 * 72, abs=0.05)


def test_chart_bytes_takes_a_width_in_millimetres(demo_figures):
    png = chart_bytes(demo_figures["power"], "png", width_mm=89, ppi=600)
    assert png_size(png)[0] == 2102


def test_zip_figures_all_have_the_chosen_width():
    cohort = analytics.load_cohort(DEMO.read_bytes(), DEMO.name, is_demo=True)
    view = view_outputs(cohort, CohortFilter(), analyte="mcv", baseline=0, follow_up=2)
    archive = zipfile.ZipFile(io.BytesIO(view.bundle(width_px=1051, ppi=300)))
    pngs = [name for name in archive.namelist() if name.endswith(".png")]
    assert len(pngs) == len(CHARTS)
    assert {png_size(archive.read(name))[0] for name in pngs} == {1051}
    readme = archive.read("README.txt").decode()
    assert "1051 px at 300 dpi (89.0 mm, 3.5 in wide)" in readme


def test_cli_figure_journal_preset_as_tiff(tmp_path, capsys):
    out = tmp_path / "change.tiff"
    assert main(["figure", str(DEMO), *LAB, "--chart", "change", "--preset", "single",
                 "--dpi", "600", "--format", "tiff", "-o", str(out)]) == 0  # fmt: skip
    with Image.open(out) as image:
        assert image.size[0] == 2102 and image.info["dpi"] == (600, 600)


def test_cli_export_zip_at_the_double_column_preset(tmp_path, capsys):
    out = tmp_path / "bundle.zip"
    assert main(["export", str(DEMO), *LAB, "--preset", "double", "-o", str(out)]) == 0
    archive = zipfile.ZipFile(out)
    widths = {png_size(archive.read(n))[0] for n in archive.namelist() if n.endswith(".png")}
    assert widths == {2161}


def test_cli_export_zip_figures_default_to_4_inches(tmp_path, capsys):
    out = tmp_path / "bundle.zip"
    assert main(["export", str(DEMO), *LAB, "--sex", "M", "-o", str(out)]) == 0
    archive = zipfile.ZipFile(out)
    widths = {png_size(archive.read(n))[0] for n in archive.namelist() if n.endswith(".png")}
    assert widths == {1200}  # 4 in at 300 dpi, whichever chart


def test_cli_refuses_a_preset_with_a_width(tmp_path, capsys):
    out = tmp_path / "x.png"
    code = main(["figure", str(DEMO), *LAB, "--chart", "qq", "--preset", "single",
                 "--width", "900", "-o", str(out)])  # fmt: skip
    assert code == 2
    assert "Give --preset or --width, not both." in capsys.readouterr().err
    assert not out.exists()
