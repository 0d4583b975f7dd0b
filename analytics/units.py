"""Unit conversions for the clinical thresholds and default meaningful changes.

Thresholds (WHO hemoglobin cut-offs, MCV limits) and the default "change worth
detecting" are stated in conventional units (g/dL, fL, ng/mL, %, µg/dL). A lab given
in another unit is compared after conversion, never silently in the wrong unit.
Factors from the clinical reference: g/L = g/dL × 10; mmol/L = g/dL × 0.6206;
ferritin pmol/L = ng/mL × 2.247; hepcidin nmol/L = ng/mL ÷ 2.789; iron and TIBC
µmol/L = µg/dL × 0.179.
"""

from __future__ import annotations

from .attributes import normalise_unit
from .columns import LABS

__all__ = ["CONVERSIONS", "conventional_unit", "unit_factor"]

#: lab -> {normalised unit: value in that unit per 1 conventional unit}
CONVERSIONS: dict[str, dict[str, float]] = {
    "hgb": {"g/dl": 1.0, "g/l": 10.0, "mmol/l": 0.6206},
    "mcv": {"fl": 1.0},
    "hepcidin": {"ng/ml": 1.0, "µg/l": 1.0, "nmol/l": 1 / 2.789},
    "ferritin": {"ng/ml": 1.0, "µg/l": 1.0, "pmol/l": 2.247},
    "tsat": {"%": 1.0},
    "iron": {"µg/dl": 1.0, "µmol/l": 0.179},
    "tibc": {"µg/dl": 1.0, "µmol/l": 0.179},
    "retic": {"%": 1.0},
}


def conventional_unit(analyte: str) -> str:
    """The unit thresholds and defaults are stated in (``g/dL`` for hemoglobin)."""
    spec = LABS.get(analyte)
    return spec.unit if spec else ""


def unit_factor(analyte: str, unit: str) -> float | None:
    """How many of ``unit`` make one conventional unit of the lab; None if unknown.

    An empty unit is taken as the conventional one (the loader fills in the
    conventional unit for a known lab whose header gives none).
    """
    table = CONVERSIONS.get(analyte)
    if table is None:
        return None
    if not unit.strip():
        return 1.0
    return table.get(normalise_unit(unit))
