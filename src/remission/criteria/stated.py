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

#: remission_model.md §3, CDISC submission values of §10.2 (upper case keys).
LEVEL_BY_CODE: dict[str, str] = {
    # RECIST 1.1 / mRECIST / WHO / RANO / GCIG / PCWG3 radiographic
    "CR": S.COMPLETE,
    "NED": S.COMPLETE,
    "PR": S.PARTIAL,
    "SD": S.STABLE,
    "NC": S.STABLE,
    "NON-CR/NON-PD": S.STABLE,
    "PD": S.PROGRESSION,
    "NE": S.NOT_EVALUABLE,
    # RANO
    "MR": S.MINOR,
    # iRECIST
    "ICR": S.COMPLETE,
    "IPR": S.PARTIAL,
    "ISD": S.STABLE,
    "NON-ICR/NON-IUPD": S.STABLE,
    "IUPD": S.PROGRESSION_PENDING,
    "ICPD": S.PROGRESSION,
    # Lugano
    "CMR": S.COMPLETE,
    "PMR": S.PARTIAL,
    "NMR": S.STABLE,
    "SMD": S.STABLE,
    "PMD": S.PROGRESSION,
    # IMWG
    "SCR": S.COMPLETE,
    "VGPR": S.PARTIAL,
    # iwCLL / ELN
    "CRI": S.COMPLETE,
    "CRH": S.COMPLETE,
    "NPR": S.PARTIAL,
    "PR-L": S.PARTIAL,
    "PR WITH LYMPHOCYTOSIS": S.PARTIAL,
    "MLFS": S.PARTIAL,
    "MORPHOLOGIC LEUKEMIA-FREE STATE": S.PARTIAL,
    # ELN 2022 (eln2022_aml.md §3-4; remission_model.md §3, §6.6: MRD relapse = loss of
    # complete remission without progression by default)
    "CR WITH INCOMPLETE HEMATOLOGIC RECOVERY": S.COMPLETE,
    "CR WITH PARTIAL HEMATOLOGIC RECOVERY": S.COMPLETE,
    "MRD RELAPSE": S.PARTIAL,
    # iwCLL 2018 (iwcll2018.md §4.2-4.3)
    "NODULAR PARTIAL RESPONSE": S.PARTIAL,
    "TREATMENT FAILURE": S.STABLE,
    "NO RESPONSE": S.STABLE,
    "RELAPSED DISEASE": S.PROGRESSION,
    "RELAPSED DISEASE FROM CR": S.PROGRESSION,
    "DISEASE TRANSFORMATION": S.PROGRESSION,
    # PCWG3
    "NON-PD": S.STABLE,
    "PDU": S.PROGRESSION_PENDING,
    "PSA PROGRESSION": S.PROGRESSION,
    # PCWG3 PSA categories of remission.criteria.pcwg3 (biochemical only: not a remission,
    # remission_model.md §3 psa_response_counts_as_partial = False)
    "PSA RESPONSE": S.STABLE,
    "PSA NON-PD": S.STABLE,
}

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
