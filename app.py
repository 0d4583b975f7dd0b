"""Sirolimus lab changes: a dashboard for before/after lab values in small cohorts.

Run with ``make run`` (or ``streamlit run app.py``). This file only starts the
router; the pages live in ``pages/`` and all computation in ``analytics/``.
"""

from ui.shell import run_app

run_app()
