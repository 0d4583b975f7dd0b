"""From the bytes of an upload to a :class:`~analytics.cohort.Cohort`.

The flow: :mod:`.isolation` runs the read in a child process with memory and time
limits; :mod:`.upload` turns bytes into a :mod:`.grid` of cells, through :mod:`.csv_text`
(encodings, delimiters, physical rows) or :mod:`.xlsx_package` and :mod:`.xlsx`
(the zip and its XML checked before the spreadsheet reader sees them);
:mod:`.loader` finds the header row (:mod:`.header_row`), recognises each column
(:mod:`.headers`), reads the cells (:mod:`.cells`, :mod:`.attributes`) in the wide
(:mod:`.wide`) or long (:mod:`.long`) layout, merges other sheets
(:mod:`.attribute_sheets`), leaves out summary rows (:mod:`.summary_rows`) and
accounts for every row (:mod:`.state`). Dated results — a long table with collection
dates — are read by :mod:`.dated`, their dates by :mod:`.dates` and :mod:`.result_days`,
and windowed into time points by the rules of :mod:`.window_rules` (:mod:`.windows`).
"""
