"""Plain-language explanations for patients (issue "Explained to people", item 1)."""

from remission.explain.summary import DISCLAIMER, GLOSSARY, PatientDates, format_date, patient_dates, patient_summary, status_since

__all__ = ["DISCLAIMER", "GLOSSARY", "PatientDates", "format_date", "patient_dates", "patient_summary", "status_since"]
