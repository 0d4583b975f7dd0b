"""Data and statistics for the sirolimus lab-value dashboard.

Plain Python (pandas, SciPy, statsmodels, Altair specs); never imports Streamlit.
"""

from __future__ import annotations

from analytics.cohort import Cohort
from analytics.errors import AnalysisError, InputError
from analytics.reading.loader import load_cohort, parse_mapping

__all__ = ["AnalysisError", "Cohort", "InputError", "load_cohort", "parse_mapping"]

__version__ = "0.1.0"
