"""The app's frame: navigation, the data in use, and the sidebar drawn on every page.

``app.py`` calls :func:`run_app`. Every page script starts with
``view = page_view()``. When a page script runs on its own — the first visit
deep-linked to a page on a freshly started server runs the file in ``pages/``
directly (Streamlit's legacy multipage mode) — :func:`page_view` starts the router
instead, so that visit gets the same navigation, sidebar and data as ``/``.
"""

from __future__ import annotations

import contextvars
import functools
import gc
import threading
from dataclasses import dataclass, fields, replace
from pathlib import Path

import streamlit as st

from analytics import InputError
from analytics.analysis import Selection
from analytics.cohort import CENSORED_RULES, Cohort
from analytics.filters import FILTERS, CohortFilter, CutoffField, FilteredCohort
from analytics.limits import LIMITS
from analytics.pseudonyms import pseudonymise
from analytics.reading.isolation import load_cohort_isolated
from analytics.reading.window_rules import VisitWindows
from analytics.settings import AnalysisSettings, ChartOptions
from ui.widgets import kept, persistent_number, persistent_selectbox

ROOT = Path(__file__).resolve().parent.parent
DEMO_FILE = ROOT / "data" / "sirolimus_demo.csv"
APP_TITLE = "Sirolimus lab changes"


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    url_path: str
    default: bool = False


PAGES = (
    PageSpec("pages/overview.py", "Overview", "overview", default=True),
    PageSpec("pages/data.py", "Data", "data"),
    PageSpec("pages/cohort.py", "Cohort", "cohort"),
    PageSpec("pages/paired_tests.py", "Paired tests", "paired_tests"),
    PageSpec("pages/power.py", "Power", "power"),
    PageSpec("pages/charts.py", "Charts", "charts"),
    PageSpec("pages/thesis_figures.py", "Thesis figures", "thesis_figures"),
)

_IN_ROUTER: contextvars.ContextVar[View | None] = contextvars.ContextVar("view", default=None)


@dataclass(frozen=True)
class Dataset:
    """The file in use in this browser session (bytes stay in memory).

    ``pseudonymise`` is the choice of the Data page (``auto``, ``yes``, ``no``; see
    :mod:`analytics.pseudonyms`); ``""`` keeps the choice made for the same file
    (a sheet or a column correction of it), else ``auto``. For dated results,
    ``windows`` holds the visit windows chosen on the Data page (None: the defaults)
    and ``anchor_file`` the ``(name, bytes)`` of a second file of start dates.
    """

    data: bytes
    filename: str
    sheet: str | None = None
    mapping: tuple[tuple[str, str], ...] = ()
    is_demo: bool = False
    pseudonymise: str = ""
    windows: VisitWindows | None = None
    anchor_file: tuple[str, bytes] | None = None

    @property
    def pseudonymise_mode(self) -> str:
        return self.pseudonymise or "auto"


@dataclass(frozen=True)
class View:
    """What a page needs: the whole cohort, the filter, and the filtered cohort."""

    cohort: Cohort
    filter: CohortFilter
    filtered: FilteredCohort
    dataset: Dataset
    censored_rule: str


# --------------------------------------------------------------------------- data


@st.cache_data(
    scope="session",
    max_entries=int(LIMITS["parse_cache_entries"].value),
    show_spinner="Reading the file…",
)
def parse_dataset(
    data: bytes,
    filename: str,
    sheet: str | None,
    mapping: tuple[tuple[str, str], ...],
    is_demo: bool,
    pseudonymise_mode: str = "auto",
    windows: VisitWindows | None = None,
    anchor_file: tuple[str, bytes] | None = None,
) -> Cohort:
    """Parse once per file content and settings, per browser session (bounded).

    The file is read in a child process with memory and time limits, so a file that
    crashes a reader or exhausts memory is refused without harming other sessions.
    The cohort comes back pseudonymised as ``pseudonymise_mode`` says: every page,
    figure and download is made from it. The demo cohort, the dashboard's own small
    file, is read in this process: the home page then does not wait for the reading
    child's interpreter to start.
    """
    if is_demo and data == _demo_bytes() and windows is None and anchor_file is None:
        from analytics.reading.loader import load_cohort

        cohort = load_cohort(data, filename, sheet=sheet, mapping=dict(mapping), is_demo=True)
    else:
        cohort = load_cohort_isolated(
            data,
            filename,
            sheet=sheet,
            mapping=dict(mapping),
            is_demo=is_demo,
            windows=windows,
            anchor_file=anchor_file,
        )
    return pseudonymise(cohort, pseudonymise_mode)


def dataset_key(dataset: Dataset) -> tuple[object, ...]:
    """``dataset``'s identity for cache keys. Python's hash of the file's bytes is
    computed once per bytes object (and kept in it); Streamlit's own hashing would read
    the whole file again for every cached call of every rerun."""
    rest = (getattr(dataset, f.name) for f in fields(dataset) if f.name != "data")
    return (len(dataset.data), hash(dataset.data), *rest)


#: ``hash_funcs`` of the caches keyed by a :class:`Dataset` (and the small frozen
#: settings that go with it, keyed by their repr: every field, in order, without
#: Streamlit's recursive hashing of each field on every cached call).
DATASET_HASH = {
    Dataset: dataset_key,
    CohortFilter: repr,
    Selection: repr,
    AnalysisSettings: repr,
    ChartOptions: repr,
}


def dataset_cohort(dataset: Dataset) -> Cohort:
    """The (cached) cohort of ``dataset``, as every page shows it.

    The same object on every rerun of this session (no copy is unpickled each time);
    nothing changes it.
    """
    return _session_cohort(dataset)


@st.cache_resource(scope="session", max_entries=2, hash_funcs=DATASET_HASH, show_spinner=False)
def _session_cohort(dataset: Dataset) -> Cohort:
    return parse_dataset(
        dataset.data,
        dataset.filename,
        dataset.sheet,
        dataset.mapping,
        dataset.is_demo,
        dataset.pseudonymise_mode,
        dataset.windows,
        dataset.anchor_file,
    )


def filtered_cohort(dataset: Dataset, cohort_filter: CohortFilter) -> FilteredCohort:
    """The patients of ``dataset`` that ``cohort_filter`` keeps, computed once per filter."""
    return _filtered(dataset, cohort_filter)


@st.cache_resource(scope="session", max_entries=16, hash_funcs=DATASET_HASH, show_spinner=False)
def _filtered(dataset: Dataset, cohort_filter: CohortFilter) -> FilteredCohort:
    return cohort_filter.apply(dataset_cohort(dataset))


@functools.cache
def _demo_bytes() -> bytes:
    return DEMO_FILE.read_bytes()


def demo_dataset() -> Dataset:
    return Dataset(_demo_bytes(), DEMO_FILE.name, is_demo=True)


def current_dataset() -> Dataset:
    if "dataset" not in st.session_state:
        st.session_state["dataset"] = demo_dataset()
    return st.session_state["dataset"]


def _with_choice(dataset: Dataset) -> Dataset:
    """``dataset`` with its pseudonymisation choice: kept from the same file, else auto."""
    if dataset.pseudonymise:
        return dataset
    current = st.session_state.get("dataset")
    same_file = (
        current is not None
        and current.filename == dataset.filename
        and current.data == dataset.data
    )
    return replace(dataset, pseudonymise=current.pseudonymise_mode if same_file else "auto")


def use_dataset(dataset: Dataset) -> Cohort:
    """Parse ``dataset`` and make it current; raises InputError and keeps the old one."""
    dataset = _with_choice(dataset)
    cohort = dataset_cohort(dataset)
    st.session_state["dataset"] = dataset
    return cohort


def load_current() -> tuple[Dataset, Cohort]:
    dataset = current_dataset()
    try:
        cohort = dataset_cohort(dataset)
    except InputError as error:  # e.g. a correction that no longer applies
        st.session_state["load_error"] = str(error)
        dataset = demo_dataset()
        st.session_state["dataset"] = dataset
        cohort = dataset_cohort(dataset)
    return dataset, cohort


# --------------------------------------------------------------------------- text


_MD_SPECIAL = "\\`*_{}[]()#+-.!|<>~$:"


def escape_md(text: object) -> str:
    """Escape Markdown so text from a user's file is shown, never interpreted."""
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in str(text))


# --------------------------------------------------------------------------- sidebar


def _filter_menus(bar, cohort: Cohort) -> dict[str, object]:
    """One selectbox per filter of :data:`FILTERS` (and the age cut-off): the chosen values."""
    chosen: dict[str, object] = {}
    for field in FILTERS:
        options = field.options(cohort.patients)
        if options:
            values = {choice.menu: choice.value for choice in options}
            picked = persistent_selectbox(
                field.label, ["All", *values], f"flt_{field.key}", help=field.help, container=bar
            )
            chosen[field.key] = None if picked == "All" else values[picked]
        if field.cutoff is not None:
            chosen[field.cutoff.key] = float(_cutoff_input(bar, field.cutoff, cohort))
    return chosen


def _cutoff_input(bar, cutoff: CutoffField, cohort: Cohort) -> float:
    has_file_groups = bool(cohort.patients["age_group"].notna().all())
    return persistent_number(
        cutoff.label,
        f"flt_{cutoff.key}",
        default=cutoff.default,
        container=bar,
        min_value=1.0,
        max_value=100.0,
        step=1.0,
        format="%.0f",
        disabled=has_file_groups,
        help=cutoff.help + (" Every patient here has one." if has_file_groups else ""),
    )


def render_sidebar(dataset: Dataset, cohort: Cohort) -> View:
    """Data source, filters and the patient count, on every page."""
    bar = st.sidebar
    bar.markdown("**Data in use**")
    if dataset.is_demo:
        bar.caption("Demo cohort — synthetic lab values reproducing the 2013 study's tables")
    else:
        bar.text(dataset.filename + (f" · sheet {dataset.sheet}" if dataset.sheet else ""))
    bar.markdown("**Filters**")
    chosen = CohortFilter(**_filter_menus(bar, cohort))
    censored_rule = kept("censored_choice", "limit")
    filtered = filtered_cohort(dataset, chosen)
    bar.markdown(f"**{filtered.n} of {filtered.n_total} patients**")
    if chosen.is_active:
        bar.text(filtered.sentence.split(": ", 1)[-1])
    if cohort.n_censored():
        bar.caption(CENSORED_RULES[censored_rule].capitalize())
    return View(cohort, chosen, filtered, dataset, censored_rule)


# --------------------------------------------------------------------------- router

_prepare_lock = threading.Lock()
_prepared = False


def _prepare_process() -> None:
    """Once per server process: import the analyses, then freeze what is in memory.

    Every object alive now (modules, classes, Altair's schema, SciPy's tables) lives as
    long as the server. ``gc.freeze`` moves them out of the garbage collector's sight,
    so a collection scans only what sessions create since. statsmodels' Holm
    correction runs ``gc.collect()`` on every call (several per view): without this,
    each scanned the whole server and cost 0.1 to 0.4 s.
    """
    global _prepared
    with _prepare_lock:
        if _prepared:
            return
        import analytics.output.view
        import analytics.overview  # noqa: F401  (the pages import both in any case)

        gc.freeze()
        _prepared = True


def run_app() -> None:
    """Entry point: page config, navigation, sidebar, then the chosen page."""
    st.set_page_config(page_title=APP_TITLE, layout="wide")
    _prepare_process()
    pages = [
        st.Page(
            str(ROOT / spec.path),
            title=spec.title,
            url_path=spec.url_path,
            default=spec.default,
        )
        for spec in PAGES
    ]
    navigation = st.navigation(pages)
    dataset, cohort = load_current()
    view = render_sidebar(dataset, cohort)
    token = _IN_ROUTER.set(view)
    try:
        navigation.run()
    finally:
        _IN_ROUTER.reset(token)


def page_view() -> View:
    """The current view for a page script; runs the router when the page runs alone."""
    view = _IN_ROUTER.get()
    if view is None:
        run_app()
        st.stop()
    return view
