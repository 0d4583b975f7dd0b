"""AppTest: the "did anything change?" panel on the Overview and the Paired tests page,
its settings kept per lab, and the paragraphs to copy."""

from __future__ import annotations

from app_session import HOME, started_app
from streamlit.testing.v1 import AppTest

PAIRED = "pages/paired_tests.py"


def _text(at: AppTest) -> str:
    parts = [
        str(element.value)
        for kind in ("markdown", "caption", "info", "warning", "subheader")
        for element in at.main.get(kind)
    ]
    return " ".join(parts).replace("\\", "")


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label.replace("\\", ""): str(m.value).replace("\\", "") for m in at.metric}


def _paired(at: AppTest, lab: str = "mcv") -> AppTest:
    at.switch_page(PAIRED).run()
    if at.selectbox(key="sel_lab").value != lab:
        at.selectbox(key="sel_lab").set_value(lab).run()
    assert not at.exception, at.exception
    return at


def test_overview_shows_the_panel_for_mcv_and_hepcidin():
    at = started_app(page=HOME)
    text = _text(at)
    assert text.count("Did anything change?") == 2
    # the demo: MCV fell (p = 0.00115, BF10 30.8); hepcidin in 5 patients (p = 0.0215)
    assert "Significant fall (p = 0.00115), and the Bayes factor is very strong evidence" in text
    assert "Significant fall (p = 0.0215), and the Bayes factor is moderate evidence" in text
    assert "| Equivalence within ±3 fL | **unproven** |" in text
    assert "| Equivalence within ±10 ng/mL | **unproven** |" in text
    assert "0 of 5 patients changed beyond biological variation (RCV +203 % / −67.0 %)" in text


def test_paired_page_shows_the_panel_and_the_robustness_line():
    at = _paired(started_app(page=HOME))
    metrics = _metrics(at)
    assert metrics["Equivalence within ±3 fL"] == "unproven"
    assert metrics["Bayes factor"] == "BF10 = 30.8"
    assert metrics["Beyond biological variation"] == "10 of 25"
    text = _text(at)
    assert "BF10 at other prior scales: r = 0.5:" in text
    assert "Source of the CVs: CVi: 39 healthy adults" in text


def test_editing_the_margin_changes_the_verdict_on_both_pages_and_resets_with_the_lab():
    at = _paired(started_app(page=HOME))
    assert at.number_input(key="ev_margin").value == 3.0  # MCV's meaningful change
    before = _text(at)
    assert "Significant fall (p = 0.00115)" in before
    at.number_input(key="ev_margin").set_value(5.0).run()
    assert not at.exception, at.exception
    # MCV's 90 % CI (−3.61 to −1.32 fL) lies inside ±5 fL
    assert _metrics(at)["Equivalence within ±5 fL"] == "equivalent"
    after = _text(at)
    assert "A significant fall (p = 0.00115) but within ±5 fL: too small to matter" in after
    assert "against a margin of ±5 fL (set by the user)" in " ".join(c.value for c in at.code)
    at.switch_page("pages/overview.py").run()
    overview = _text(at)
    assert "| Equivalence within ±5 fL | **equivalent** |" in overview
    assert "| Equivalence within ±10 ng/mL |" in overview  # hepcidin keeps its own
    commands = "\n".join(c.value for c in at.code).splitlines()
    mcv = [line for line in commands if "--analyte mcv" in line]
    assert mcv and all("--margin 5" in line for line in mcv)
    assert not any("--margin" in line for line in commands if "--analyte hepcidin" in line)
    at = _paired(at, "hgb")
    assert at.number_input(key="ev_margin").value == 1.0  # Hgb's own default
    at = _paired(at, "mcv")
    assert at.number_input(key="ev_margin").value == 3.0  # back to MCV's default


def test_editing_the_cvs_changes_the_count_and_says_who_set_them():
    at = _paired(started_app(page=HOME))
    at.number_input(key="ev_cvi").set_value(5.0).run()
    assert not at.exception, at.exception
    text = _text(at)
    assert "Source of the CVs: CVi set by you" in text
    # CVi 5 %, CVa 0.55 %: RCV +15.0 % / −13.0 % (exp(±1.96·√2·√ln(1 + 0.0055² + 0.05²)))
    assert "0 of 25 patients changed beyond biological variation (RCV +15.0 % / −13.0 %)" in text


def test_paired_page_offers_the_results_and_methods_paragraphs():
    at = _paired(started_app(page=HOME), "hepcidin")
    code = [c.value for c in at.code]
    results = next(text for text in code if text.startswith("Of 25 patients, 5 had Hepcidin"))
    assert "paired t(4) = −3.66" in results
    assert any("Holm-adjusted within the lab" in text for text in code)


def test_a_margin_or_cv_of_0_is_said_not_to_be_used_and_the_default_is_named():
    at = _paired(started_app(page=HOME))
    assert not at.warning
    at.number_input(key="ev_margin").set_value(0.0).run()
    at.number_input(key="ev_cvi").set_value(0.0).run()
    assert not at.exception, at.exception
    warnings = [w.value for w in at.warning]
    assert (
        "An equivalence margin of 0 cannot be used: the lab's default ±3 fL is used. "
        "Enter a figure above 0." in warnings
    )
    assert any(
        w.startswith("A within-subject CV of 0 cannot be used: the catalogue's 1.1 %")
        for w in warnings
    )
    assert _metrics(at)["Equivalence within ±3 fL"]  # the default margin is what was tested
