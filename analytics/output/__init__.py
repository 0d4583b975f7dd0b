"""What a view produces and what a clinician takes away.

:mod:`.view` computes a view's results, tables and figures once for the pages, the
downloads and the command line; :mod:`.files` writes tables (formula-safe CSV and
XLSX), settings and the ZIP bundle; :mod:`.figure_files` writes figures as PNG, SVG
and PDF; :mod:`.report` (with :mod:`.report_html`) writes the self-contained HTML
report; :mod:`.commands` spells out the shell commands that regenerate a page.
"""
