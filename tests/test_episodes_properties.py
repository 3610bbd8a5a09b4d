"""Property tests: vectorised episodes == per-subject reference (remission_model.md §6.3),
and invariance to row order and subject names."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference.episodes import derive_episodes_reference
from reference.followup import next_followup_due
from remission import schema
from remission.options import FollowupSchedule, RemissionOptions
from remission.timeline.episodes import derive_episodes, lifecycle
from remission.timeline.followup import next_followup_due_expr

BASE = dt.date(2020, 1, 1)
LEVELS = [
    schema.COMPLETE,
    schema.PARTIAL,
    schema.PARTIAL,
    schema.COMPLETE,
    schema.STABLE,
    schema.MINOR,
    schema.PROGRESSION_PENDING,
    schema.PROGRESSION,
    schema.NOT_EVALUABLE,
]
SITES = [None, "liver", "DISTANT", "TUMOUR_BED;REGIONAL", "lymph_node", "MARROW", "BLOOD;MOLECULAR", "colon"]


@st.composite
def subject_data(draw, sid: str):
    n = draw(st.integers(0, 12))
    gaps = draw(st.lists(st.integers(1, 120), min_size=n, max_size=n))
    rows, day = [], 0
    for g in gaps:
        day += g
        level = draw(st.sampled_from(LEVELS))
        ped = None
        if level == schema.PROGRESSION:
            ped = BASE + dt.timedelta(days=day - draw(st.sampled_from([0, 0, 10, 60, 150])))
        rows.append(
            {
                "subject_id": sid,
                "date": BASE + dt.timedelta(days=day),
                "level": level,
                "progression_event_date": ped,
                "clinical_only": draw(st.booleans()),
                "source": "recist1.1",
                "recurrence_sites": draw(st.sampled_from(SITES)) if level == schema.PROGRESSION else None,
            }
        )
    trs = []
    for _ in range(draw(st.integers(0, 3))):
        start = draw(st.integers(-60, 700))
        length = draw(st.one_of(st.none(), st.integers(0, 300)))
        modality, intent = draw(
            st.sampled_from(
                [
                    ("chemotherapy", None),
                    ("chemotherapy", "induction"),
                    ("maintenance", None),
                    ("targeted", "continuous"),
                    ("supportive", None),
                    ("surgery", None),
                ]
            )
        )
        trs.append(
            {
                "subject_id": sid,
                "start_date": BASE + dt.timedelta(days=start),
                "end_date": None if length is None else BASE + dt.timedelta(days=start + length),
                "modality": modality,
                "intent": intent,
                "line": 1,
                "name": None,
            }
        )
    diag = draw(st.one_of(st.none(), st.integers(-30, 60)))
    death = draw(st.one_of(st.none(), st.integers(100, 1500)))
    subj = {
        "subject_id": sid,
        "cancer_type": draw(st.sampled_from([None, "colorectal", "aml"])),
        "criteria": draw(st.sampled_from(["recist1.1", "lugano2014", "imwg2016", "iwcll2018", None])),
        "diagnosis_date": None if diag is None else BASE + dt.timedelta(days=diag),
        "death_date": None if death is None else BASE + dt.timedelta(days=death),
        "last_contact_date": None,
    }
    return rows, trs, subj


@st.composite
def dataset(draw):
    k = draw(st.integers(1, 4))
    rows, trs, subjs = [], [], []
    for i in range(k):
        r, t, s = draw(subject_data(f"S{i}"))
        rows += r
        trs += t
        subjs.append(s)
    statuses = pl.DataFrame(rows, schema=schema.STATUSES_TABLE)
    treatments = pl.DataFrame(trs, schema=schema.TREATMENTS)
    subjects = pl.DataFrame(subjs, schema=schema.SUBJECTS)
    return statuses, treatments, subjects


options_st = st.builds(
    RemissionOptions,
    loss_of_response_policy=st.sampled_from(["continue", "end"]),
    censor_at_new_therapy=st.booleans(),
    add_one_day=st.booleans(),
    spontaneous_lookback_days=st.one_of(st.none(), st.integers(0, 200)),
    max_ne_between=st.integers(0, 2),
    min_sustain_days=st.sampled_from([0, 28]),
)
as_of_st = st.one_of(st.none(), st.integers(0, 1200).map(lambda d: BASE + dt.timedelta(days=d)))

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(dataset(), options_st, as_of_st)
def test_vectorised_equals_reference(data, options, as_of):
    """§6.3: the vectorised derivation reproduces the literal per-subject loop."""
    statuses, treatments, subjects = data
    got = derive_episodes(statuses, treatments, subjects, options, as_of=as_of)
    ref = derive_episodes_reference(statuses, treatments, subjects, options, as_of=as_of)
    assert got.columns == ref.columns
    assert got.schema == ref.schema
    assert got.to_dicts() == ref.to_dicts()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dataset(), options_st, as_of_st, st.randoms(use_true_random=False))
def test_shuffle_and_rename_change_nothing(data, options, as_of, rnd):
    """Determinism (criteria/README.md 'Re-derivation'): row order and subject ids are irrelevant."""
    statuses, treatments, subjects = data
    base = derive_episodes(statuses, treatments, subjects, options, as_of=as_of)
    seed = rnd.randint(0, 10_000)
    shuffled = derive_episodes(
        statuses.sample(fraction=1.0, shuffle=True, seed=seed),
        treatments.sample(fraction=1.0, shuffle=True, seed=seed + 1),
        subjects.sample(fraction=1.0, shuffle=True, seed=seed + 2),
        options,
        as_of=as_of,
    )
    assert shuffled.to_dicts() == base.to_dicts()
    ren = {f"S{i}": f"patient-{9 - i}" for i in range(5)}

    def rename(df):
        return df.with_columns(pl.col("subject_id").replace(ren))

    renamed = derive_episodes(rename(statuses), rename(treatments), rename(subjects), options, as_of=as_of)
    back = renamed.with_columns(pl.col("subject_id").replace({v: k for k, v in ren.items()})).sort("subject_id", "episode")
    assert back.to_dicts() == base.to_dicts()
    day = as_of or BASE + dt.timedelta(days=1500)
    lc1 = lifecycle(statuses, base, treatments, subjects, options, as_of=day)
    lc2 = lifecycle(rename(statuses), renamed, rename(treatments), rename(subjects), options, as_of=day)
    lc2 = lc2.with_columns(pl.col("subject_id").replace({v: k for k, v in ren.items()})).sort("subject_id")
    assert lc1.to_dicts() == lc2.to_dicts()


@settings(max_examples=100, deadline=None)
@given(
    st.dates(dt.date(2000, 1, 1), dt.date(2040, 12, 31)),
    st.integers(0, 4000),
    st.booleans(),
    st.booleans(),
)
def test_followup_expr_equals_scalar(last, since, in_remission, deceased):
    """followup.py: the polars expression equals the plain-Python rule."""
    start = last - dt.timedelta(days=since)
    sch = FollowupSchedule()
    df = pl.DataFrame({"l": [last], "s": [start], "r": [in_remission], "d": [deceased]})
    got = df.select(next_followup_due_expr(pl.col("l"), pl.col("s"), pl.col("r"), pl.col("d"), sch)).item()
    assert got == next_followup_due(last, start, in_remission=in_remission, deceased=deceased, schedule=sch)
