"""Plain-language explanations for patients (issue "Explained to people", item 1)."""

from remission.explain.summary import DISCLAIMER, format_date, patient_summary

__all__ = ["DISCLAIMER", "format_date", "patient_summary"]
