"""Statistics shared by the analyses: input checks and t summaries (:mod:`.common`),
robust and resampling methods (:mod:`.robust`) and the ratio (log) paired t-test
(:mod:`.ratio`)."""
