"""Golden outputs: freeze every output of every bundled dataset, then compare after a change.

    python scripts/golden.py freeze            # (re)write tests/golden/ from the current code
    python scripts/golden.py compare           # compare; prints the first differing subject
    python scripts/golden.py compare --only synthetic-rano2 example
    python scripts/golden.py freeze --only imwg2016        # cases whose name contains it

A *case* is one run (a dataset, a criterion, a set of options); each writes one CSV per
output table under ``tests/golden/<case>/``.  The cases (:func:`cases`):

* every bundled example dataset (``src/remission/data/...``), with default options;
* ``benchmarks/synthetic.py`` at a fixed seed, forced to each of the eleven criteria;
* a grid of non-default options on the example dataset and the synthetic one;
* malformed inputs (``--skip-invalid``: the valid subjects and ``errors``; without it: the
  located errors);
* the ADaM routes on the pharmaverse oracle SDTM (``adam``, ``adam-irecist``, Lugano and the
  IMWG / PCWG3 / GCIG vignette derivations).

Refactors leave every golden identical; a commit that changes a rule re-freezes the cases it
changes and names them.  ``tests/test_golden.py`` runs the comparison case by case.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
DATA = ROOT / "src" / "remission" / "data"
ORACLE = ROOT / "tests" / "data" / "oracle" / "pharmaverse"
SDTM = ORACLE / "pharmaversesdtm"
ADSL = ORACLE / "pharmaverseadam" / "adsl.csv"

sys.path.insert(0, str(ROOT / "benchmarks"))

ALL_CRITERIA = (
    "recist1.1", "irecist", "who", "mrecist", "rano2", "lugano2014",
    "imwg2016", "iwcll2018", "eln2022", "pcwg3", "gcig",
)  # fmt: skip
SYNTHETIC_N = 80
SYNTHETIC_SEED = 20261207


@dataclass(frozen=True)
class Case:
    name: str
    run: Callable[[], dict[str, pl.DataFrame]]


# --------------------------------------------------------------------------- assess cases


def _assess_tables(result) -> dict[str, pl.DataFrame]:
    from remission.errors import errors_frame

    out = {
        "assessments": result.assessments,
        "episodes": result.episodes,
        "summary": result.summary,
        "timepoints": result.timepoints,
        "statuses": result.statuses,
    }
    if result.errors:
        out["errors"] = errors_frame(result.errors)
    return out


def _assess(data, **opts) -> Callable[[], dict[str, pl.DataFrame]]:
    def run():
        from remission import AssessOptions, assess
        from remission.errors import InputErrors, errors_frame

        options = AssessOptions(**opts)
        try:
            if callable(data):
                return _assess_tables(assess(options=options, **data()))
            return _assess_tables(assess(data, options))
        except InputErrors as exc:
            return {"input_errors": errors_frame(exc.errors)}

    return run


def _synthetic() -> dict[str, pl.DataFrame]:
    import synthetic

    return synthetic.generate(SYNTHETIC_N, seed=SYNTHETIC_SEED)


def _synthetic_frames():
    return {k: v for k, v in _synthetic().items() if k in ("subjects", "lesions", "treatments", "responses")}


def _malformed():
    """The example dataset with a few broken rows: one per kind of input error."""
    from remission.io.tables import read_dataset

    base = DATA / "example"
    frames = {p.stem: pl.read_csv(p, infer_schema=False) for p in sorted(base.glob("*.csv")) if p.stem != "expected"}
    s = frames["subjects"]
    first = s.get_column("subject_id")[0]
    second = s.get_column("subject_id")[1]
    les = frames["lesions"]
    les = pl.concat(
        [
            les,
            les.head(1).with_columns(subject_id=pl.lit("NOBODY")),
            les.filter(pl.col("subject_id") == first).head(1).with_columns(diameter_mm=pl.lit("-3")),
            les.filter(pl.col("subject_id") == second).head(1).with_columns(date=pl.lit("2021-13-40")),
            les.filter(pl.col("subject_id") == second).head(1).with_columns(role=pl.lit("target_lesion")),
        ]
    )
    frames["lesions"] = les
    del read_dataset
    return frames


def cases() -> list[Case]:
    out: list[Case] = [Case("example", _assess(DATA / "example"))]
    for group in ("examples_imaging", "examples_blood"):
        for folder in sorted((DATA / group).iterdir()):
            if folder.is_dir():
                out.append(Case(f"{group}-{folder.name}", _assess(folder)))
    out.append(Case("synthetic-default", _assess(_synthetic_frames)))
    for code in ALL_CRITERIA:
        out.append(Case(f"synthetic-{code}", _assess(_synthetic_frames, criteria=code)))
    # options grid
    grid = {
        "confirmation-required": dict(recist=dict(confirmation_required=True)),
        "recist-short": dict(recist=dict(confirm_days=21, sd_min_days=56, max_ne_between=0, accept_sd_between=True)),
        "missing-as-ne": dict(
            recist=dict(missing_as_ne=True, include_post_treatment=False, exclude_after_new_therapy=False),
            who=dict(missing_as_ne=True),
        ),
        "reappearance": dict(recist=dict(reappearance_after_cr="reclassify_prior_as_pr", continued_pr_after_confirmation=True)),
        "who-sum": dict(criteria="who", who=dict(who_pd_basis="sum", who_pd_reference="baseline", nc_min_days=56, confirm_days=35)),
        "partial-area": dict(remission=dict(partial_remission_rule="who_area_50")),
        "partial-diameter": dict(remission=dict(partial_remission_rule="diameter_50", min_sustain_days=56, post_treatment_days=0)),
        "lifecycle": dict(
            remission=dict(loss_of_response_policy="end", censor_at_new_therapy=True, add_one_day=True, horizon_years=3,
                           cure_clock_start="complete_start", cure_requires_assessment_after_milestone=False)
        ),
        "as-of": dict(as_of="2021-06-30"),
    }
    for name, opts in grid.items():
        out.append(Case(f"options-{name}-example", _assess(DATA / "example", **opts)))
        out.append(Case(f"options-{name}-synthetic", _assess(_synthetic_frames, **opts)))
    per_criterion = {
        "examples_imaging/rano": ("rano2", dict(confirm_response_days=35, sd_min_days=84, physiologic_steroid_mg=0.75)),
        "examples_imaging/lugano": ("lugano2014", dict(primary_modality="CT", deauville3_is_complete=False)),
        "examples_imaging/mrecist": ("mrecist", dict(pd_min_abs_mm=5.0)),
        "examples_imaging/irecist": ("irecist", dict(failed_cr_as_pr=False, confirm_min_days=35)),
        "examples_blood/imwg2016": ("imwg2016", dict(include_mr_as_response=False)),
        "examples_blood/pcwg3": ("pcwg3", dict(psa_confirm_days=28, psa_response_counts_as_partial=True)),
        "examples_blood/gcig": ("gcig", dict(response_confirm_days=35, use_ca125_progression=False)),
        "examples_blood/iwcll2018": ("iwcll2018", dict(persistence_days=90, pr_l_counts_as_pr=False)),
        "examples_blood/eln2022": ("eln2022", dict(report_crh=False)),
    }
    for folder, (code, opts) in per_criterion.items():
        out.append(Case(f"options-{code}", _assess(DATA / folder, **{code: opts})))
    out.append(Case("malformed-skip-invalid", _assess(_malformed, skip_invalid=True)))
    out.append(Case("malformed-errors", _assess(_malformed)))
    # ADaM routes
    out += [
        Case("adam-recist", _adam_recist(rs="rs_onco_recist.csv")),
        Case("adam-recist-conf21", _adam_recist(rs="rs_onco_recist.csv", confirm_days=21, accept_sd_between=True)),
        # rs_onco's code CHECK is an input error (spec/tables.md "Bad input"): skip_invalid
        Case("adam-rs-onco", _adam_recist(rs="rs_onco.csv", skip_invalid=True)),
        Case("adam-irecist", _adam_irecist),
        Case("adam-lugano", _adam_lugano),
        Case("adam-vignettes", _adam_vignettes),
    ]
    return out


# --------------------------------------------------------------------------- adam cases


def _adam_recist(rs: str, **kw):
    def run():
        from remission.adam import adam
        from remission.errors import errors_frame

        files = {"rs": rs, "tu": "tu_onco_recist.csv", "tr": "tr_onco_recist.csv"}
        res = adam(SDTM, None, adsl=ADSL, files=files, **kw)
        out = {"adrs": res.adrs, "adtte": res.adtte, "adtr": res.adtr}
        if res.warnings:
            out["warnings"] = errors_frame(res.warnings)
        if res.errors:
            out["errors"] = errors_frame(res.errors)
        return out

    return run


def _adam_irecist():
    from remission.adam.irecist import adam_irecist

    res = adam_irecist(SDTM, None, adsl=ADSL, files={"rs": "rs_onco_irecist.csv"})
    return {"adrs": res.adrs}


def _adam_lugano():
    from remission.adam.lymphoma import derive_adrs_lugano
    from remission.errors import errors_frame

    adrs, notes = derive_adrs_lugano(SDTM, ADSL, files={"rs": "rs_onco_lymphoma.csv"})
    out = {"adrs": adrs}
    if notes:
        out["notes"] = errors_frame(notes)
    return out


def _adam_vignettes():
    from remission.adam import vignettes as V
    from remission.io.sdtm import as_sdtm

    adsl = pl.read_csv(ADSL, infer_schema=False)

    def sdtm(**files):
        return as_sdtm({k: pl.read_csv(SDTM / v, infer_schema=False) for k, v in files.items()})

    imwg = sdtm(rs="rs_onco_imwg.csv", supprs="supprs_onco_imwg.csv")
    pcwg3 = sdtm(rs="rs_onco_pcwg3.csv", lb="lb_onco_pcwg3.csv")
    gcig = sdtm(rs="rs_onco_ca125.csv", supprs="supprs_onco_ca125.csv")
    return {
        "imwg": V.imwg_adrs(imwg, adsl),
        "pcwg3": V.pcwg3_adrs(pcwg3, adsl),
        "pcwg3_adpsa": V.pcwg3_adpsa(pcwg3, adsl),
        "gcig": V.gcig_adrs(gcig, adsl),
    }


# --------------------------------------------------------------------------- freeze / compare


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text (lists joined with ' | '), as the CSV holds it."""
    cols = []
    for name, dtype in frame.schema.items():
        c = pl.col(name)
        if isinstance(dtype, pl.List):
            c = c.cast(pl.List(pl.String)).list.join(" | ")
        elif isinstance(dtype, pl.Struct):
            c = c.struct.json_encode()
        elif dtype == pl.Float64 or dtype == pl.Float32:
            c = c.round(6).cast(pl.String)
        else:
            c = c.cast(pl.String)
        cols.append(c.alias(name))
    return frame.select(cols)


def produce(case: Case) -> dict[str, pl.DataFrame]:
    return {name: _as_text(frame) for name, frame in case.run().items() if frame is not None}


def freeze(case: Case) -> None:
    folder = GOLDEN / case.name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, frame in produce(case).items():
        frame.write_csv(folder / f"{name}.csv")


def _subject_col(frame: pl.DataFrame) -> str | None:
    for c in ("subject_id", "USUBJID"):
        if c in frame.columns:
            return c
    return None


def compare(case: Case) -> list[str]:
    """Differences of ``case`` against its golden, first differing subject first; [] if none."""
    folder = GOLDEN / case.name
    if not folder.exists():
        return [f"{case.name}: no golden (run freeze)"]
    now = produce(case)
    stored = {p.stem: pl.read_csv(p, infer_schema=False) for p in sorted(folder.glob("*.csv"))}
    diffs: list[str] = []
    for name in sorted(set(now) | set(stored)):
        if name not in now:
            diffs.append(f"{case.name}/{name}: table no longer produced")
            continue
        if name not in stored:
            diffs.append(f"{case.name}/{name}: new table ({now[name].height} rows)")
            continue
        a, b = stored[name], now[name]
        if a.columns != b.columns:
            gone = [c for c in a.columns if c not in b.columns]
            new = [c for c in b.columns if c not in a.columns]
            diffs.append(f"{case.name}/{name}: columns differ (gone {gone}, new {new}, order {a.columns != b.columns})")
            continue
        if a.height != b.height:
            diffs.append(f"{case.name}/{name}: {a.height} rows in the golden, {b.height} now")
        sid = _subject_col(a)
        n = min(a.height, b.height)
        for i in range(n):
            ra, rb = a.row(i), b.row(i)
            if ra != rb:
                cols = [c for c, x, y in zip(a.columns, ra, rb) if x != y]
                who = f" subject {ra[a.columns.index(sid)]}" if sid else ""
                detail = "; ".join(f"{c}: {a[c][i]!r} -> {b[c][i]!r}" for c in cols[:4])
                diffs.append(f"{case.name}/{name}: first difference at row {i + 1}{who}: {detail}")
                break
        else:
            if a.height != b.height:
                extra = (a if a.height > b.height else b).slice(n, 1)
                who = f" subject {extra[sid][0]}" if sid else ""
                diffs.append(f"{case.name}/{name}: first extra row {n + 1}{who}")
    return diffs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=("freeze", "compare", "list"))
    ap.add_argument("--only", nargs="*", default=None, help="cases whose name contains one of these")
    args = ap.parse_args(argv)
    selected = [c for c in cases() if not args.only or any(s in c.name for s in args.only)]
    if args.action == "list":
        for c in selected:
            print(c.name)
        return 0
    bad = 0
    for c in selected:
        if args.action == "freeze":
            freeze(c)
            print(f"froze {c.name}")
        else:
            diffs = compare(c)
            if diffs:
                bad += 1
                for d in diffs:
                    print(d)
    if args.action == "compare":
        print(f"{len(selected) - bad} of {len(selected)} cases identical")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
