"""remission: standards-based, explainable cancer remission status from test results over time.

Main entry points::

    from remission import assess, AssessOptions
    result = assess("dataset_folder")            # or assess(subjects=df, lesions=df, ...)
    result.summary; result.episodes; result.assessments

It reports what the response criteria say the data show; it never gives treatment advice.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["assess", "AssessOptions", "RecistOptions", "WhoOptions", "RemissionOptions", "InputErrors"]


def __getattr__(name: str):
    if name == "assess":
        from remission.pipeline import assess

        return assess
    if name in ("AssessOptions", "RecistOptions", "WhoOptions", "RemissionOptions", "FollowupSchedule"):
        from remission import options

        return getattr(options, name)
    if name == "InputErrors":
        from remission.errors import InputErrors

        return InputErrors
    raise AttributeError(name)
