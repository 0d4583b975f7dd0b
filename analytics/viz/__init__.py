"""Figures: Altair chart specs, the figure registry, and the study's own figures.

:mod:`.style` holds the palette, titles and shared layers; the chart families are
:mod:`.change_charts` (per-patient change bars, waterfall, histogram),
:mod:`.paired_charts` (before-after, estimation, mean-difference, Q-Q),
:mod:`.time_charts` (trajectories) and :mod:`.summary_charts` (forest, power
curve). :mod:`.figures` registers every chart a page or the command line can draw,
on the data prepared by :mod:`.figure_data` and the context and shared tail of
:mod:`.figure_base`; :mod:`.thesis` redraws the 2013 study's Figures 1-6.
"""
