"""The statistics, on plain arrays and cohorts: nothing here draws or reads files.

:mod:`.paired` (paired t-test and what JMP's Matched Pairs prints, Cohen's d_z),
:mod:`.robust` (Wilcoxon, sign-flip permutation, BCa bootstrap, leave-one-out),
:mod:`.ratio` (the ratio, log, paired t-test), :mod:`.timecourse` (every time
point: Friedman, repeated-measures ANOVA, contrasts against baseline),
:mod:`.mixed` (the mixed model on every value, Satterthwaite df; its numerical
core in :mod:`.mixed_fit`),
:mod:`.subgroups` (the difference in change between subgroups),
:mod:`.prevalence` (anemia and microcytosis with exact intervals), :mod:`.power`
(what the patients can detect), :mod:`.characteristics` (the study's Tables 1
and 4); shared checks and summaries in :mod:`.common`.
"""
