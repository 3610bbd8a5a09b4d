"""Cohort statistics, plots and the self-contained HTML report (issue "Explained to people").

* :mod:`remission.report.stats` -- response rates with exact CIs, Kaplan-Meier summaries;
* :mod:`remission.report.plots` -- waterfall, spider, swimmer, KM and per-patient timeline;
* :mod:`remission.report.html` -- ``write_report(result, path)``.
"""

from remission.extras import require as _require

_require("report", "remission.report")
