"""The one best-response engine: every criterion's best and confirmed best response, run from
its declared :class:`~remission.criteria.base.BestResponseRule` (criteria/README.md "Response
categories and their ordering"; recist11.md §5; remission_model.md §6.4).

:func:`best_responses` takes the time points of one criterion's subjects, their reference
start and the cutoff (start of a new line, recist11.md §5.1) and returns, per subject,
``best_response``, ``best_response_date``, ``best_response_rule``, ``confirmed_best_response``,
``confirmed_best_response_date`` and ``confirmed_best_response_rule``.  The pipeline and the
ADaM route both call it; nothing else derives a best response.

Confirmation styles (the rule's ``confirmation``):

* ``recist``: recist11.md §5.3–5.4 (Table 6) by :mod:`remission.timeline.bor`, parity with
  admiralonco tested on the oracle;
* ``next_assessment``: the confirmed-response table of imwg.md §4 (admiralonco's IMWG
  table): each time point confirmed by the next evaluable one (:func:`_next_assessment`);
* time points whose ``rule_ids`` hold one of the rule's ``ne_rule_ids`` count as NE, one of
  its ``confirmed_rule_ids`` need no confirmation (``as_good_later``; e.g. iwCLL's INTERIM
  and POST_THERAPY, iwcll2018.md §5);
* ``as_good_later`` and ``at_time_point``: the best category reached by the rule's order
  (codes outside the order ranked after it by canonical level); window: time points on or
  after the reference start, before the cutoff, up to and including the first progression;
  ties → the earliest date.  A time point is confirmed by a later one of the window at least
  ``confirm_days`` later that is at least as good; progression, NE and the rule's
  ``no_confirmation`` codes need none (``at_time_point``: none does).  With the rule's
  ``confirmed_only`` the best response is the confirmed one (rano.md §5.3).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping

import polars as pl

from remission import schema as S
from remission.criteria.base import BestResponseRule
from remission.timeline import bor as recist_bor

#: rank for codes outside a criterion's order: lower is better (criteria/README.md)
RANK_BY_LEVEL = {
    S.COMPLETE: 1,
    S.PARTIAL: 2,
    S.MINOR: 3,
    S.STABLE: 4,
    S.PROGRESSION_PENDING: 5,
    S.PROGRESSION: 6,
    S.NOT_EVALUABLE: 7,
}

#: RECIST-style codes understood by the Table 6 engine (recist11.md §5), and their spellings
RECIST_CODES = {
    "CR": "CR",
    "NED": "CR",
    "PR": "PR",
    "SD": "SD",
    "NC": "SD",
    "NON-CR/NON-PD": "NON-CR/NON-PD",
    "PD": "PD",
    "NE": "NE",
}

OUTPUT_SCHEMA = {
    "subject_id": pl.String,
    "best_response": pl.String,
    "best_response_date": pl.Date,
    "best_response_rule": pl.String,
    "confirmed_best_response": pl.String,
    "confirmed_best_response_date": pl.Date,
    "confirmed_best_response_rule": pl.String,
}


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=OUTPUT_SCHEMA)


def _pair(unconf: pl.DataFrame, conf: pl.DataFrame) -> pl.DataFrame:
    """Two ``subject_id, bor, bor_date, bor_rule`` frames as the output's columns."""
    return unconf.select(
        "subject_id",
        pl.col("bor").alias("best_response"),
        pl.col("bor_date").alias("best_response_date"),
        pl.col("bor_rule").alias("best_response_rule"),
    ).join(
        conf.select(
            "subject_id",
            pl.col("bor").alias("confirmed_best_response"),
            pl.col("bor_date").alias("confirmed_best_response_date"),
            pl.col("bor_rule").alias("confirmed_best_response_rule"),
        ),
        on="subject_id",
        how="full",
        coalesce=True,
    )


def _responses(timepoints: pl.DataFrame) -> pl.DataFrame:
    """``subject_id, date, response`` of time points given as TIMEPOINTS or already so."""
    tp = timepoints
    if "response" not in tp.columns:
        tp = tp.filter(pl.col("overall_response").is_not_null()).rename({"overall_response": "response"})
    return tp.select("subject_id", "date", "response")


def best_responses(
    timepoints: pl.DataFrame,
    reference: pl.DataFrame,
    rule: BestResponseRule,
    *,
    levels: Mapping[str, str] | None = None,
    cutoff: pl.DataFrame | None = None,
    rules: bool = True,
) -> pl.DataFrame:
    """Best and confirmed best response of every subject of ``reference`` (module docstring).

    ``timepoints``: the criterion's time points (TIMEPOINTS columns, or ``subject_id, date,
    response``); ``reference``: ``subject_id, reference_start``; ``levels``: code (upper
    case) -> canonical level, to rank codes outside the rule's order; ``cutoff``:
    ``subject_id, cutoff_date``; ``rules=False`` leaves the ``*_rule`` texts null where the
    engine can skip them (ADaM)."""
    if rule.prepare is not None:
        timepoints = rule.prepare(timepoints)
    if rule.derive is not None:
        unconf, conf = rule.derive(_responses(timepoints), reference, cutoff)
        return _pair(unconf, conf)
    tp = _responses(timepoints)
    if rule.ne_rule_ids or rule.confirmed_rule_ids:
        tp = _rule_flags(timepoints, rule)
    if rule.confirmation == "recist":
        return _recist(tp, reference, rule, cutoff, rules)
    if rule.confirmation == "next_assessment":
        return _next_assessment(timepoints, tp, reference, rule, levels or {}, cutoff)
    return _by_order(tp, reference, rule, levels or {}, cutoff)


def _rule_flags(timepoints: pl.DataFrame, rule: BestResponseRule) -> pl.DataFrame:
    """``subject_id, date, response`` plus ``_ne_rule`` / ``_conf_rule`` (a rule id of the
    time point's ``rule_ids`` is one of the rule's ``ne_rule_ids`` / ``confirmed_rule_ids``)
    and ``_ne_why`` (which one); all false without a ``rule_ids`` column."""
    tp = timepoints
    if "response" not in tp.columns:
        tp = tp.filter(pl.col("overall_response").is_not_null()).rename({"overall_response": "response"})
    if "rule_ids" not in tp.columns:
        return tp.select(
            "subject_id", "date", "response",
            _ne_rule=pl.lit(False), _conf_rule=pl.lit(False), _ne_why=pl.lit(None, pl.String), _conf_why=pl.lit(None, pl.String),
        )  # fmt: skip
    ids = pl.col("rule_ids").fill_null("").str.split(",")
    ne = ids.list.eval(pl.element().filter(pl.element().is_in(list(rule.ne_rule_ids))))
    return tp.select(
        "subject_id", "date", "response",
        _ne_rule=ne.list.len() > 0,
        _conf_rule=ids.list.eval(pl.element().is_in(list(rule.confirmed_rule_ids))).list.any(),
        _ne_why=ne.list.join(","),
        _conf_why=ids.list.eval(pl.element().filter(pl.element().is_in(list(rule.confirmed_rule_ids)))).list.join(","),
    )  # fmt: skip


def _recist(tp: pl.DataFrame, reference: pl.DataFrame, rule: BestResponseRule, cutoff, rules: bool) -> pl.DataFrame:
    codes = dict(rule.recist_codes or RECIST_CODES)
    tp = tp.with_columns(
        response=pl.col("response").str.to_uppercase().replace_strict(codes, default=None, return_dtype=pl.String)
    ).filter(pl.col("response").is_not_null())
    # both from one preparation of the time points (equal to two best_overall_response calls)
    unconf, conf = recist_bor.best_overall_responses(
        tp,
        reference,
        confirms=(False, True),
        confirm_days=rule.confirm_days,
        max_ne_between=rule.max_ne_between,
        accept_sd_between=rule.accept_sd_between,
        sd_min_days=rule.sd_min_days,
        missing_as_ne=rule.missing_as_ne,
        cutoff=cutoff,
        failed_cr_as_pr=rule.failed_cr_as_pr,
        sd_label=rule.sd_label,
        rules=rules,
    )
    return _pair(unconf, conf)


def _by_order(
    timepoints: pl.DataFrame, reference: pl.DataFrame, rule: BestResponseRule, levels: Mapping[str, str], cutoff
) -> pl.DataFrame:
    """``as_good_later`` / ``at_time_point`` (module docstring)."""
    levels = {k.upper(): v for k, v in levels.items()}
    present = timepoints.get_column("response").drop_nulls().unique().to_list()
    extra = sorted(
        {c for c in present if c not in rule.order},
        key=lambda k: (RANK_BY_LEVEL.get(levels.get(k.upper(), ""), 99), k),
    )
    order = tuple(rule.order) + tuple(extra)
    progression = tuple(k for k, v in levels.items() if v == S.PROGRESSION) or tuple(rule.progression)
    confirm_days = 0 if rule.confirmation == "at_time_point" else rule.confirm_days

    if "NE" not in {c.upper() for c in order}:
        order = order + ("NE",)
    rank = {code.upper(): i for i, code in enumerate(order)}
    canon = {code.upper(): code for code in order}
    prog = [p.upper() for p in progression]
    sd_codes = [c.upper() for c in rule.sd_codes]
    never = [c.upper() for c in rule.never_best]
    tp = (
        timepoints.join(reference, on="subject_id", how="inner")
        .with_columns(_code=pl.col("response").str.to_uppercase())
        .with_columns(_rank=pl.col("_code").replace_strict(rank, default=None, return_dtype=pl.Int64))
        .filter(pl.col("_rank").is_not_null() & (pl.col("date") >= pl.col("reference_start")))
        .with_columns(_days=(pl.col("date") - pl.col("reference_start")).dt.total_days())
    )
    if cutoff is not None:
        tp = tp.join(cutoff, on="subject_id", how="left").filter(
            pl.col("cutoff_date").is_null() | (pl.col("date") < pl.col("cutoff_date"))
        ).drop("cutoff_date")
    first_pd = tp.filter(pl.col("_code").is_in(prog)).group_by("subject_id").agg(_pd=pl.col("date").min())
    tp = (
        tp.join(first_pd, on="subject_id", how="left")
        .filter(pl.col("_pd").is_null() | (pl.col("date") <= pl.col("_pd")))
        .sort("subject_id", "date", "_rank")
    )
    # what a time point counts as: a provisional code (never_best) or an SD-type code before
    # the minimum interval counts as NE (recist11.md §5.2 reading shared by the criteria)
    too_early = pl.col("_code").is_in(sd_codes) & (pl.col("_days") < rule.sd_min_days)
    counts_as_ne = pl.col("_code").is_in(never) | too_early
    flagged = "_ne_rule" in tp.columns  # the rule's ne_rule_ids / confirmed_rule_ids (_rule_flags)
    if flagged:
        counts_as_ne = counts_as_ne | pl.col("_ne_rule")
    why_ne = (
        pl.when(pl.col("_code").is_in(never))
        .then(pl.format("{} on {} is provisional and counts as NE", pl.col("response"), pl.col("date")))
        .when(pl.col("_ne_rule") if flagged else pl.lit(False))
        .then(pl.format("{} on {} counts as NE (rule {})", pl.col("response"), pl.col("date"), pl.col("_ne_why")) if flagged else None)
        .when(too_early)
        .then(
            pl.format(
                "{} on {} counts as NE: {} days after reference start (< {})",
                pl.col("response"), pl.col("date"), pl.col("_days"), pl.lit(rule.sd_min_days),
            )  # fmt: skip
        )
    )
    tp = tp.with_columns(
        _rank=pl.when(counts_as_ne).then(pl.lit(rank["NE"], pl.Int64)).otherwise(pl.col("_rank")),
        _shown=pl.when(counts_as_ne).then(pl.lit(canon["NE"])).otherwise(pl.col("response")),
        _why_ne=why_ne,
    ).with_columns(_code=pl.when(counts_as_ne).then(pl.lit("NE")).otherwise(pl.col("_code")))
    # confirmation: a later time point >= confirm_days later with rank <= this rank
    later = tp.select("subject_id", pl.col("date").alias("_d2"), pl.col("_rank").alias("_r2"))
    needs = ~pl.col("_code").is_in(prog + ["NE"] + [c.upper() for c in rule.no_confirmation])
    if flagged:
        needs = needs & ~pl.col("_conf_rule")
    if confirm_days == 0:
        conf = tp.with_columns(_confirmed=pl.lit(True), _by=pl.col("date"))
    else:
        pairs = (
            tp.select("subject_id", "date", "_rank")
            .join(later, on="subject_id")
            .filter(((pl.col("_d2") - pl.col("date")).dt.total_days() >= confirm_days) & (pl.col("_r2") <= pl.col("_rank")))
            .group_by("subject_id", "date", "_rank")
            .agg(_by=pl.col("_d2").min())
        )
        conf = tp.join(pairs, on=["subject_id", "date", "_rank"], how="left").with_columns(
            _confirmed=pl.col("_by").is_not_null() | ~needs
        )
    best = (
        conf.sort("subject_id", "_rank", "date")
        .group_by("subject_id", maintain_order=True)
        .first()
        .select(
            "subject_id",
            best_response=pl.col("_shown"),
            best_response_date=pl.col("date"),
            best_response_rule=pl.coalesce(
                "_why_ne", pl.format("best category reached: {} on {}", pl.col("response"), pl.col("date"))
            ),
        )
    )
    candidates = conf.filter(pl.col("_confirmed")).with_columns(_fallback=pl.lit(None, pl.String))
    if rule.unconfirmed_as is not None:
        # an unconfirmed response counts as ``unconfirmed_as`` (itself subject to sd_codes)
        as_code = rule.unconfirmed_as.upper()
        as_rank = rank.get(as_code)
        if as_rank is None:
            raise ValueError(f"unconfirmed_as {rule.unconfirmed_as!r} is not in the order {order}")
        early = (as_code in sd_codes) & (pl.col("_days") < rule.sd_min_days) if as_code in sd_codes else pl.lit(False)
        fallback = (
            conf.filter(~pl.col("_confirmed") & (pl.col("_rank") < as_rank))
            .with_columns(
                _rank=pl.when(early).then(pl.lit(rank["NE"], pl.Int64)).otherwise(pl.lit(as_rank, pl.Int64)),
                _fallback=pl.when(early)
                .then(
                    pl.format(
                        "{} on {} not confirmed; counts as NE: {} days after reference start (< {})",
                        pl.col("response"), pl.col("date"), pl.col("_days"), pl.lit(rule.sd_min_days),
                    )  # fmt: skip
                )
                .otherwise(
                    pl.format("{} on {} not confirmed; counts as {}", pl.col("response"), pl.col("date"), pl.lit(canon[as_code]))
                ),
                _shown=pl.when(early).then(pl.lit(canon["NE"])).otherwise(pl.lit(canon[as_code])),
            )
        )
        candidates = pl.concat([candidates, fallback.select(candidates.columns)], how="vertical_relaxed")
    cbest = (
        candidates.sort("subject_id", "_rank", "date")
        .group_by("subject_id", maintain_order=True)
        .first()
        .select(
            "subject_id",
            confirmed_best_response=pl.col("_shown"),
            confirmed_best_response_date=pl.col("date"),
            confirmed_best_response_rule=pl.when(pl.col("_fallback").is_not_null())
            .then(pl.col("_fallback"))
            .when(pl.col("_why_ne").is_not_null())
            .then(pl.col("_why_ne"))
            .when(needs & (pl.col("_by") != pl.col("date")))
            .then(
                pl.format(
                    "{} on {} confirmed by an as-good result on {} (>= {} days)",
                    pl.col("response"), pl.col("date"), pl.col("_by"), pl.lit(confirm_days),
                )  # fmt: skip
            )
            .when(pl.col("_conf_rule") if flagged else pl.lit(False))
            .then(pl.format("{} on {} (rule {}: needs no confirmation)", pl.col("response"), pl.col("date"), pl.col("_conf_why")) if flagged else None)
            .otherwise(pl.format("{} on {} (needs no confirmation)", pl.col("response"), pl.col("date"))),
        )
    )
    if rule.confirmed_only:
        best = cbest.select(
            "subject_id",
            best_response=pl.col("confirmed_best_response"),
            best_response_date=pl.col("confirmed_best_response_date"),
            best_response_rule=pl.col("confirmed_best_response_rule"),
        )
    out = reference.select("subject_id").join(best, on="subject_id", how="left").join(cbest, on="subject_id", how="left")
    return out.with_columns(
        pl.col("best_response").fill_null("MISSING"),
        pl.col("confirmed_best_response").fill_null("MISSING"),
    )


def _next_assessment(
    timepoints: pl.DataFrame, tp: pl.DataFrame, reference: pl.DataFrame, rule: BestResponseRule,
    levels: Mapping[str, str], cutoff,
) -> pl.DataFrame:
    """``next_assessment``: imwg.md §4 "Confirmed status per assessment" (admiralonco's table).

    The best response is that of ``at_time_point`` (the best category reached).  The
    confirmed best response is the best *confirmed value* of a time point, ranked by the
    rule's order (a response category; progression ranks last, as in the order), dated at
    the time point (the first of the two assessments, §4).  Window: on or after the
    reference start, before the cutoff (new therapy: a later assessment never confirms a
    response, §4), up to and including the first confirmed progression.  With ``L(next)``
    the next evaluable (not NE) time point at least ``confirm_days`` (>= 1) later:

    * a response (ranked before ``unconfirmed_as``): itself when ``L(next)`` is a response at
      least as good; ``L(next)`` when that is a lower response; else (``unconfirmed_as``,
      SD: next is SD, PD, missing or after new therapy) ``unconfirmed_as``;
    * SD and other non-response, non-progression codes: themselves (no confirmation);
    * progression: confirmed when the criterion says so at the time point
      (``canonical_level`` PROGRESSION: a confirming sample, imaging PD) or, without that
      column, when ``L(next)`` is progression; otherwise it counts as NE (pending);
    * NE (and ``never_best``, ``sd_codes`` before ``sd_min_days``): no confirmed value.

    None confirmed but time points in the window: NE; no time point: MISSING.
    """
    if rule.unconfirmed_as is None:
        raise ValueError("the next_assessment style needs unconfirmed_as (what an unconfirmed response counts as)")
    best = _by_order(tp, reference, replace(rule, confirmation="at_time_point"), levels, cutoff).select(
        "subject_id", "best_response", "best_response_date", "best_response_rule"
    )
    levels = {k.upper(): v for k, v in levels.items()}
    present = tp.get_column("response").drop_nulls().unique().to_list()
    extra = sorted(
        {c for c in present if c not in rule.order},
        key=lambda k: (RANK_BY_LEVEL.get(levels.get(k.upper(), ""), 99), k),
    )
    order = tuple(rule.order) + tuple(extra)
    if "NE" not in {c.upper() for c in order}:
        order = order + ("NE",)
    rank = {code.upper(): i for i, code in enumerate(order)}
    canon = {code.upper(): code for code in order}
    prog = [p.upper() for p in (tuple(k for k, v in levels.items() if v == S.PROGRESSION) or tuple(rule.progression))]
    floor = rule.unconfirmed_as.upper()
    if floor not in rank:
        raise ValueError(f"unconfirmed_as {rule.unconfirmed_as!r} is not in the order {order}")
    c = pl.col
    cols = ["subject_id", "date", "response"] + (["canonical_level"] if "canonical_level" in timepoints.columns else [])
    src = timepoints if "canonical_level" in cols else tp
    if "overall_response" in src.columns and "response" not in src.columns:
        src = src.filter(c("overall_response").is_not_null()).rename({"overall_response": "response"})
    w = (
        src.select(cols)
        .join(reference, on="subject_id", how="inner")
        .with_columns(_code=c("response").str.to_uppercase())
        .with_columns(_rank=c("_code").replace_strict(rank, default=None, return_dtype=pl.Int64))
        .filter(c("_rank").is_not_null() & (c("date") >= c("reference_start")))
        .with_columns(_days=(c("date") - c("reference_start")).dt.total_days())
    )
    if cutoff is not None:
        w = w.join(cutoff, on="subject_id", how="left").filter(
            c("cutoff_date").is_null() | (c("date") < c("cutoff_date"))
        ).drop("cutoff_date")
    too_early = c("_code").is_in([x.upper() for x in rule.sd_codes]) & (c("_days") < rule.sd_min_days)
    is_ne = (c("_code") == "NE") | c("_code").is_in([x.upper() for x in rule.never_best]) | too_early
    w = w.with_columns(_ne=is_ne).sort("subject_id", "date")
    # L(next): the first evaluable time point at least confirm_days (>= 1) later
    nxt = (
        w.filter(~c("_ne"))
        .select("subject_id", c("date").alias("_d2"), c("_code").alias("_c2"), c("_rank").alias("_r2"), c("response").alias("_s2"))
        .sort("_d2")
    )
    w = (
        w.with_columns(_look=c("date") + pl.duration(days=max(rule.confirm_days, 1)))
        .sort("_look")
        .join_asof(nxt, left_on="_look", right_on="_d2", by="subject_id", strategy="forward", check_sortedness=False)
        .sort("subject_id", "date")
    )
    is_resp = ~c("_ne") & (c("_rank") < rank[floor])
    is_prog = ~c("_ne") & c("_code").is_in(prog)
    next_resp = c("_r2").is_not_null() & (c("_r2") < rank[floor])
    if "canonical_level" in cols:
        pd_confirmed = c("canonical_level") == S.PROGRESSION
    else:
        pd_confirmed = c("_c2").is_in(prog)
    w = w.with_columns(_pdc=(is_prog & pd_confirmed).fill_null(False))
    # up to and including the first confirmed progression
    first = w.filter(c("_pdc")).group_by("subject_id").agg(_pd=c("date").min())
    w = w.join(first, on="subject_id", how="left").filter(c("_pd").is_null() | (c("date") <= c("_pd")))
    d, d2 = c("date").cast(pl.String), c("_d2").cast(pl.String)
    w = w.with_columns(
        _crank=pl.when(is_resp & next_resp & (c("_r2") <= c("_rank"))).then(c("_rank"))
        .when(is_resp & next_resp).then(c("_r2"))
        .when(is_resp).then(pl.lit(rank[floor], pl.Int64))
        .when(is_prog & c("_pdc")).then(c("_rank"))
        .when(~c("_ne") & ~is_prog).then(c("_rank")),
        _why=pl.when(is_resp & next_resp & (c("_r2") <= c("_rank")))
        .then(pl.format("{} on {} confirmed by the next assessment ({} on {})", c("response"), d, c("_s2"), d2))
        .when(is_resp & next_resp)
        .then(pl.format("{} on {} confirmed as {}: the next assessment ({}) is lower", c("response"), d, c("_s2"), d2))
        .when(is_resp & c("_d2").is_not_null())
        .then(pl.format("{} on {} not confirmed (next assessment {} on {}); counts as {}", c("response"), d, c("_s2"), d2, pl.lit(canon[floor])))
        .when(is_resp)
        .then(pl.format("{} on {} not confirmed (no later assessment before new therapy or the data cut); counts as {}",
                        c("response"), d, pl.lit(canon[floor])))  # fmt: skip
        .when(is_prog & c("_pdc"))
        .then(pl.format("{} on {} confirmed progression", c("response"), d))
        .otherwise(pl.format("{} on {} (needs no confirmation)", c("response"), d)),
    )
    name = {i: canon[k] for k, i in rank.items()}
    conf = (
        w.filter(c("_crank").is_not_null())
        .sort("subject_id", "_crank", "date")
        .group_by("subject_id", maintain_order=True)
        .first()
        .select(
            "subject_id",
            confirmed_best_response=c("_crank").replace_strict(name, return_dtype=pl.String),
            confirmed_best_response_date=c("date"),
            confirmed_best_response_rule=c("_why"),
        )
    )
    seen = w.select("subject_id").unique().with_columns(_seen=pl.lit(True))
    out = best.join(conf, on="subject_id", how="left").join(seen, on="subject_id", how="left")
    return out.with_columns(
        confirmed_best_response=pl.coalesce(
            "confirmed_best_response", pl.when(c("_seen")).then(pl.lit(canon["NE"])), pl.lit("MISSING")
        ),
        confirmed_best_response_rule=pl.coalesce(
            "confirmed_best_response_rule",
            pl.when(c("_seen")).then(pl.lit("no time point with a confirmed value (NE, or progression awaiting confirmation)")),
        ),
    ).drop("_seen")


__all__ = ["OUTPUT_SCHEMA", "RANK_BY_LEVEL", "RECIST_CODES", "best_responses", "empty"]
