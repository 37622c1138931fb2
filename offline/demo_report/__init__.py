"""The demo's report page: one self-contained HTML file built from `demo-summary.json`.

- gather.py      the summary and the files it points at → ReportData (missing pieces become notes)
- drift.py       per-feature raw and Robust-corrected drift distances, by the data-quality check's code
- predictions.py each window's predicted probabilities, from the endpoint's data capture
- charts.py      matplotlib figures rendered as inline SVG
- page.py        the HTML, every value escaped
- report.py      write_demo_report(home, summary, output=None) -> Path
"""

from offline.demo_report.report import REPORT_FILE, write_demo_report

__all__ = ["REPORT_FILE", "write_demo_report"]
