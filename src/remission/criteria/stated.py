"""Responses stated by a clinician or reader (the ``responses`` table, SDTM RS).

When lesion-level data are absent, a stated time-point response is taken as the
criterion's category for that date.  This module maps the CDISC response codes of every
criterion to the canonical levels of ``remission_model.md`` §3 and gives each code its rank
for best response (``criteria/README.md`` "Response categories and their ordering").

Choices (spec silent): a code listed for several criteria maps to the same level in all of
them; ``RELAPSED DISEASE`` / ``RELAPSED DISEASE FROM CR`` are progression; ``NED`` (no
evidence of disease, C40413) is a complete remission level and ranks with ``CR``.
"""

from __future__ import annotations

import polars as pl

from remission import schema as S

#: the generic CDISC codes of remission_model.md §3 / §10.2 (upper case keys), which mean the
#: same for every criterion; each criterion's own codes come from its declaration.
GENERIC_LEVELS: dict[str, str] = {
    "CR": S.COMPLETE,
    "NED": S.COMPLETE,
    "PR": S.PARTIAL,
    "SD": S.STABLE,
    "NC": S.STABLE,
    "NON-CR/NON-PD": S.STABLE,
    "PD": S.PROGRESSION,
    "NE": S.NOT_EVALUABLE,
    "RELAPSED DISEASE": S.PROGRESSION,
    "RELAPSED DISEASE FROM CR": S.PROGRESSION,
}


def _level_by_code() -> dict[str, str]:
    """Code -> canonical level: the generic codes, then every criterion's categories and
    stated codes (``Criterion.levels()``) in registry order (a code keeps its first level)."""
    from remission.criteria import registry

    out = dict(GENERIC_LEVELS)
    for c in registry.all_criteria():
        for code, level in c.levels().items():
            out.setdefault(code, level)
    return out


#: every known response code (upper case) -> canonical level (remission_model.md §3)
LEVEL_BY_CODE: dict[str, str] = _level_by_code()

#: rank for best response: lower is better (criteria/README.md ordering tables).
RANK_BY_LEVEL = {
    S.COMPLETE: 1,
    S.PARTIAL: 2,
    S.MINOR: 3,
    S.STABLE: 4,
    S.PROGRESSION_PENDING: 5,
    S.PROGRESSION: 6,
    S.NOT_EVALUABLE: 7,
}

#: codes understood by the RECIST-style best-response derivation (timeline.bor)
BOR_CODE = {
    "CR": "CR",
    "NED": "CR",
    "PR": "PR",
    "SD": "SD",
    "NC": "SD",
    "NON-CR/NON-PD": "NON-CR/NON-PD",
    "PD": "PD",
    "NE": "NE",
}


def canonical_code(code: str | None) -> str | None:
    """The canonical spelling of a stated code (upper case, single spaces)."""
    if code is None:
        return None
    return " ".join(code.strip().upper().split())


def stated_timepoints(responses: pl.DataFrame, subjects: pl.DataFrame) -> pl.DataFrame:
    """Stated responses as time points: ``subject_id, date, criteria, overall_response,
    canonical_level, evidence, is_progression_event, progression_event_date``.

    Several stated responses on one date are kept (the status layer combines them
    worst-of, remission_model.md §5 rule 1).
    """
    levels = pl.DataFrame(
        {"_code": list(LEVEL_BY_CODE), "canonical_level": list(LEVEL_BY_CODE.values())}
    )
    out = (
        responses.with_columns(
            _code=pl.col("response").str.strip_chars().str.to_uppercase().str.replace_all(r"\s+", " ")
        )
        .join(levels, on="_code", how="left")
        .join(subjects.select("subject_id", "criteria"), on="subject_id", how="left")
        .with_columns(
            overall_response=pl.col("response").str.strip_chars(),
            canonical_level=pl.col("canonical_level").fill_null(S.NOT_EVALUABLE),
        )
        .with_columns(
            is_progression_event=pl.col("canonical_level") == S.PROGRESSION,
        )
        .with_columns(
            progression_event_date=pl.when(pl.col("is_progression_event")).then(pl.col("date")),
            evidence=pl.col("evidence").fill_null("imaging"),
        )
        .select(
            "subject_id",
            "date",
            "criteria",
            "overall_response",
            "canonical_level",
            "evidence",
            "is_progression_event",
            "progression_event_date",
        )
        .sort("subject_id", "date")
    )
    return out
