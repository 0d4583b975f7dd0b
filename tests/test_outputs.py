"""Figures, reports and exports through the command line, and the pages' reproduce commands."""

from __future__ import annotations

import io
import json
import shlex
import zipfile
from pathlib import Path

import pytest
from app_session import show_every_chart
from streamlit.testing.v1 import AppTest

from analytics.cli import main
from analytics.output.figure_files import png_size
from analytics.viz.figures import CHARTS

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "sirolimus_demo.csv"
LAB = ["--analyte", "mcv", "--baseline", "0", "--follow-up", "2"]
MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "svg": b"<svg", "pdf": b"%PDF"}


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_cli_figure_formats(tmp_path, capsys, fmt):
    out = tmp_path / f"change.{fmt}"
    assert main(["figure", str(DEMO), *LAB, "--chart", "change", "--format", fmt,
                 "-o", str(out)]) == 0  # fmt: skip
    assert MAGIC[fmt] in out.read_bytes()[:300]


def test_cli_figure_png_width(tmp_path, capsys):
    out = tmp_path / "qq.png"
    assert main(["figure", str(DEMO), *LAB, "--chart", "qq", "--width", "1800",
                 "-o", str(out)]) == 0  # fmt: skip
    assert png_size(out.read_bytes())[0] == 1800


@pytest.mark.parametrize("number", range(1, 7))
def test_cli_thesis_figures(tmp_path, capsys, number):
    out = tmp_path / f"fig{number}.svg"
    assert main(["figure", str(DEMO), "--thesis", str(number), "--format", "svg",
                 "-o", str(out)]) == 0  # fmt: skip
    assert b"<svg" in out.read_bytes()[:300]


def test_cli_report_is_self_contained(tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", str(DEMO), *LAB, "--cohort", "retrospective", "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html
    assert html.count("<svg") == len(CHARTS)
    assert "20 of 25 patients: retrospective cohort" in html


def test_cli_export_zip_has_every_figure_and_table(tmp_path, capsys):
    out = tmp_path / "bundle.zip"
    assert main(["export", str(DEMO), *LAB, "--age-group", "pediatric", "-o", str(out)]) == 0
    names = zipfile.ZipFile(out).namelist()
    assert names[:2] == ["README.txt", "settings.json"]
    figures = [n for n in names if n.startswith("figures/")]
    assert len(figures) == 2 * len(CHARTS)
    assert all("_pediatric" in n for n in figures)
    assert "tables/mcv_paired_test.csv" in names
    settings = json.loads(zipfile.ZipFile(out).read("settings.json"))
    assert settings["filters"]["settings"]["age_group"] == "pediatric"


def test_bundle_readme_says_which_figure_could_not_be_drawn(tmp_path, capsys):
    out = tmp_path / "bundle.zip"
    # only women: the forest plot split by sex has a single subgroup
    assert main(["export", str(DEMO), *LAB, "--sex", "F", "-o", str(out)]) == 0
    archive = zipfile.ZipFile(out)
    assert not any("forest" in n for n in archive.namelist())
    assert "Not drawn: forest" in archive.read("README.txt").decode()


def test_cli_export_csv_without_lab_lists_every_lab_and_time(tmp_path, capsys):
    out = tmp_path / "all.csv"
    assert main(["export", str(DEMO), "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8-sig")
    header, *rows = text.strip().splitlines()
    assert header.startswith("lab,unit,baseline,follow-up,pairs,baseline mean")
    # demo: Hgb and MCV at 2w, 1, 2, 6; TSAT, ferritin, hepcidin at 2w, 1, 2 -> 17 rows
    assert len(rows) == 17


def test_cli_export_zip_without_lab_has_every_labs_figures(tmp_path, capsys):
    out = tmp_path / "all.zip"
    # only the prospective cohort (5 patients): every lab has month 0 and month 2
    assert main(["export", str(DEMO), "--cohort", "prospective", "-o", str(out)]) == 0
    archive = zipfile.ZipFile(out)
    names = archive.namelist()
    for lab in ("hgb", "mcv", "tsat", "ferritin", "hepcidin"):
        for chart in ("change", "before-after", "trajectory"):
            found = [n for n in names if n.startswith(f"figures/{lab}_{chart}_")]
            assert len(found) == 2, (lab, chart, found)  # PNG and SVG
    assert "tables/paired_all_labs.csv" in names
    readme = archive.read("README.txt").decode()
    assert "The primary follow-up is the later time with the most patients" in readme
    assert "figures/mcv_change_0-2mo_prospective.png" in readme


def test_cli_export_refuses_unknown_extension(tmp_path, capsys):
    assert main(["export", str(DEMO), "-o", str(tmp_path / "x.txt")]) == 2
    assert "must end in" in capsys.readouterr().err


def _run_shown_command(line: str, monkeypatch, capsys) -> dict:
    words = shlex.split(line)
    assert words[:3] == [".venv/bin/python", "-m", "analytics"]
    monkeypatch.chdir(ROOT)  # the command is run in the dashboard's folder
    assert main(words[3:]) == 0
    return json.loads(capsys.readouterr().out)


def test_paired_page_command_reproduces_the_page(monkeypatch, capsys):
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    at.selectbox(key="flt_sex").set_value("Female").run()
    at.switch_page("pages/paired_tests.py").run()
    at.selectbox(key="sel_lab").set_value("hgb").run()
    assert not at.exception, at.exception
    paired_line = next(line for line in at.code[-1].value.splitlines() if " paired " in line)
    out = _run_shown_command(paired_line, monkeypatch, capsys)
    assert str(out["n_pairs"]) == at.metric[0].value
    assert out["filters"].startswith("12 of 25 patients: female")
    shown_p = at.metric[3].value
    assert f"{out['p_two_sided']:.3g}" == shown_p


def test_charts_page_draws_every_chart_with_downloads():
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    at.switch_page("pages/charts.py").run()
    assert not at.exception, at.exception
    assert len(at.get("vega_lite_chart")) == 1  # the change chart, until another is chosen
    show_every_chart(at)
    specs = [json.loads(el.proto.spec) for el in at.get("vega_lite_chart")]
    assert len(specs) == len(CHARTS)
    titles = [spec["title"]["text"] for spec in specs]
    assert all("MCV" in title for title in titles)
    keys = {button.key for button in at.get("download_button")}
    assert {f"dl_{chart}_{fmt}" for chart in CHARTS for fmt in ("png", "svg", "pdf")} <= keys
    assert {"dl_bundle", "dl_report"} <= keys


def test_thesis_figures_page_shows_six_figures():
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    at.switch_page("pages/thesis_figures.py").run()
    assert not at.exception, at.exception
    assert len(at.get("vega_lite_chart")) == 6
    captions = [h.value for h in at.subheader]
    assert captions[0] == "Figure 1: Change in MCV 0 to 2 months."
    assert captions[5] == "Figure 6. Change in hepcidin levels while on sirolimus."


def test_reproduce_commands_carry_every_setting(tmp_path, monkeypatch, capsys):
    """The commands shown on a page regenerate the page's view: same settings, same tables."""
    from analytics import load_cohort
    from analytics.filters import CohortFilter
    from analytics.output.commands import commands
    from analytics.output.files import table_csv
    from analytics.output.view import view_outputs
    from analytics.settings import AnalysisSettings, ChartOptions
    from analytics.stats.prevalence import Thresholds

    cohort = load_cohort(DEMO.read_bytes(), DEMO.name, is_demo=True)
    chosen = CohortFilter(cohort="retrospective")
    analysis = AnalysisSettings(
        censored="half", alpha=0.1, confidence=0.9, thresholds=Thresholds(anemia_women=12.5)
    )
    options = ChartOptions(color_by="iron", sort=True, flip=True, band=2.0, split="iron")
    chosen_view = {"analysis": analysis, "options": options}
    page = view_outputs(cohort, chosen, analyte="mcv", baseline=0, follow_up=6, **chosen_view)
    lines = commands(cohort, chosen, selection=page.selection, chart="change", **chosen_view)
    export = next(line for line in lines if " export " in line)
    words = shlex.split(export)
    words[words.index("-o") + 1] = str(tmp_path / "bundle.zip")
    monkeypatch.chdir(ROOT)
    assert main(words[3:]) == 0
    archive = zipfile.ZipFile(tmp_path / "bundle.zip")
    settings = json.loads(archive.read("settings.json"))
    assert settings["other"]["figure_options"] == page.settings()["other"]["figure_options"]
    assert settings["thresholds"]["anemia_women"] == 12.5
    assert (settings["alpha"], settings["confidence"]) == (0.1, 0.9)
    assert settings["censored_values"]["rule"] == "half"
    for stem in ("mcv_subgroups_iron", "mcv_paired_test", "prevalence_anemia"):
        assert archive.read(f"tables/{stem}.csv") == table_csv(page.tables[stem]), stem


def test_validate_json_says_not_ok_for_an_unusable_file(tmp_path, capsys):
    path = tmp_path / "noid.csv"
    path.write_bytes(b"sex,MCV 0\nF,80\n")
    assert main(["validate", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["ok"] is False
    assert "No patient ID column" in out["errors"][0]["message"]
    assert "No patient ID column" in captured.err


def test_thresholds_follow_the_lab_unit(tmp_path, capsys):
    """Hemoglobin in g/L: WHO cut-offs (g/dL) are converted, not compared raw."""
    from analytics import load_cohort
    from analytics.analysis import prevalence_for
    from analytics.labs import default_change

    # adult women, Hgb 100-110 g/L = 10.0-11.0 g/dL: all anemic (< 12.0 g/dL, WHO 2011)
    data = b"id,sex,age,Hb (g/L) 0,Hb (g/L) 2\nA,F,40,100,104\nB,F,41,110,108\nC,F,42,105,101\n"
    cohort = load_cohort(data, "gl.csv")
    table = prevalence_for(cohort, "anemia")
    assert table["n_affected"].tolist() == [3, 3]
    assert default_change("hgb", "g/L") == pytest.approx(10.0)  # 1 g/dL
    assert default_change("hepcidin", "nmol/L") == pytest.approx(10 / 2.789)


def test_thresholds_refused_for_an_unknown_unit():
    from analytics import AnalysisError, load_cohort
    from analytics.analysis import prevalence_for

    data = b"id,sex,age,Hb (mg/mL) 0\nA,F,40,10\nB,F,41,11\n"
    with pytest.raises(AnalysisError, match="cannot be converted"):
        prevalence_for(load_cohort(data, "x.csv"), "anemia")


def test_a_stray_far_cell_is_refused_before_parsing():
    """A 5 KB workbook with one cell at XFD1048576 must not reach calamine, which would
    allocate the whole sheet (hundreds of GB) and abort the process."""
    import io

    import xlsxwriter

    from analytics import InputError, load_cohort

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("cohort")
    sheet.write_row(0, 0, ["id", "MCV 0"])
    sheet.write_row(1, 0, ["A", 80])
    sheet.write(1_048_575, 16_383, "x")
    workbook.close()
    assert len(buffer.getvalue()) < 10_000
    with pytest.raises(InputError, match="row 1,048,576, column 16,384"):
        load_cohort(buffer.getvalue(), "far.xlsx")


def test_censored_values_left_out_are_named_as_such(tmp_path, capsys):
    path = tmp_path / "c.csv"
    path.write_bytes(b"id,MCV 0,MCV 2\nA,80,<70\nB,82,79\nC,85,80\nD,84,81\n")
    assert main(["paired", str(path), *LAB, "--censored", "exclude", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_pairs"] == 3
    assert out["excluded"] == [
        {"patient_id": "A", "reason": "censored value <70 at month 2 left out"}
    ]
    # at the limit (the default) the pair counts
    assert main(["paired", str(path), *LAB, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_pairs"] == 4


# An unconvertible unit is not a missing lab: the report and the ZIP say what they left out.
UNCONVERTIBLE = (
    b"id,sex,age,Hb (mg/mL) 0,Hb (mg/mL) 2,MCV (fL) 0,MCV (fL) 2\n"
    b"A,F,40,10,11,80,82\nB,F,41,11,12,78,79\nC,M,42,12,12,81,84\n"
)


def test_missing_lab_and_unconvertible_unit_are_told_apart():
    from analytics import AnalysisError, load_cohort
    from analytics.analysis import prevalence_for
    from analytics.errors import LabNotFoundError, UnitError

    with pytest.raises(UnitError, match="cannot be converted") as unit:
        prevalence_for(load_cohort(UNCONVERTIBLE, "x.csv"), "anemia")
    assert (unit.value.lab, unit.value.unit) == ("hgb", "mg/mL")
    only_mcv = b"id,sex,age,MCV (fL) 0\nA,F,40,80\nB,F,41,81\n"
    with pytest.raises(LabNotFoundError, match="this file has none") as missing:
        prevalence_for(load_cohort(only_mcv, "y.csv"), "anemia")
    assert missing.value.lab == "hgb"
    assert issubclass(UnitError, AnalysisError) and issubclass(LabNotFoundError, AnalysisError)
    assert not issubclass(UnitError, LabNotFoundError)


def test_report_and_bundle_list_a_prevalence_they_could_not_compute():
    import html as html_module

    from analytics import load_cohort
    from analytics.filters import CohortFilter
    from analytics.output.view import view_outputs

    cohort = load_cohort(UNCONVERTIBLE, "x.csv")
    for analyte in (None, "mcv"):
        times = {} if analyte is None else {"baseline": 0, "follow_up": 2}
        outputs = view_outputs(cohort, CohortFilter(), analyte=analyte, charts=(), **times)
        assert "prevalence_anemia" not in outputs.tables
        assert "prevalence_microcytosis" in outputs.tables  # MCV in fL: computed
        assert len(outputs.left_out) == 1
        item = outputs.left_out[0]
        assert item.startswith("Prevalence of anemia: not computed — ")
        assert "'mg/mL', which cannot be converted" in item
        readme = zipfile.ZipFile(io.BytesIO(outputs.bundle())).read("README.txt").decode()
        assert f"Not included: {item}\n" in readme
        report = outputs.report_html().decode("utf-8")
        assert '<section id="not-included"><h2>Not included</h2>' in report
        assert html_module.escape(item) in report


def test_a_file_without_hemoglobin_leaves_nothing_out():
    from analytics import load_cohort
    from analytics.filters import CohortFilter
    from analytics.output.view import view_outputs

    cohort = load_cohort(b"id,sex,age,MCV (fL) 0,MCV (fL) 2\nA,F,40,80,82\nB,F,41,81,79\n", "m.csv")
    outputs = view_outputs(cohort, CohortFilter())
    assert outputs.left_out == ()
    assert "Not included" not in outputs.report_html().decode("utf-8")
