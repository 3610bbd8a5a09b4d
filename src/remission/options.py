"""Typed, documented options of every derivation.

Defaults are those of the criteria specifications (``../shared/criteria``).  Each criterion's
options model lives in its own module (``remission.criteria.<name>``; ``RecistOptions`` and
``WhoOptions`` are re-exported here); this module adds the remission lifecycle (§13) and
follow-up schedule, and builds :class:`AssessOptions` from the registered criteria.  Every option is a pydantic field, so a wrong value is
rejected with a clear message and the options can be loaded from JSON or YAML configs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from remission.criteria import registry
from remission.criteria.recist11 import RecistOptions
from remission.criteria.who import WhoOptions


class _Options(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FollowupSchedule(_Options):
    """Surveillance schedule for ``next_followup_due`` (issue "The core", item 5).

    Each step is ``(until_years, every_months)``: while the time since the remission
    started is below ``until_years``, a check-up is due ``every_months`` after the last
    assessment.  The last step applies for ever.  Default: every 3 months in the first
    2 years, every 6 months in years 2 to 5, yearly after.
    """

    steps: tuple[tuple[float, int], ...] = ((2.0, 3), (5.0, 6), (float("inf"), 12))
    #: interval used while no remission has started (active disease, responding)
    active_disease_every_months: int = Field(3, ge=1)


def confirm_days_by_criteria(options: Any) -> dict[str, int]:
    """Criterion code -> the days its best-response rule needs between a response and its
    confirmation (0 when the time point is already confirmed), from ``options`` (an
    ``AssessOptions``; None: every criterion's defaults)."""
    out = {}
    for c in registry.all_criteria():
        rule = c.best_response(c.options_from(options))
        out[c.code] = 0 if rule.confirmation == "at_time_point" else rule.confirm_days
    return out


class RemissionOptions(_Options):
    """Remission lifecycle parameters (remission_model.md §13)."""

    partial_remission_rule: Literal["criterion", "who_area_50", "diameter_50"] = "criterion"
    evidence_window_days: int = Field(28, ge=0)
    clinical_followup_sustains: bool = True
    mrd_required_for_complete: bool = False
    primary_criterion: str | None = None
    non_blocking_intents: frozenset[str] = frozenset({"maintenance", "continuous"})
    min_sustain_days: int = Field(28, ge=0)
    post_treatment_days: int = Field(28, ge=0)
    max_ne_between: int = Field(1, ge=0)
    loss_of_response_policy: Literal["continue", "end"] = "continue"
    censor_at_new_therapy: bool = False
    spontaneous_lookback_days: int | None = None
    add_one_day: bool = False
    horizon_years: int = Field(5, ge=1)
    cure_horizon_years_by_cancer: dict[str, int] = Field(default_factory=dict)
    cure_clock_start: Literal["end_of_all_treatment", "end_of_active_treatment", "complete_start"] = (
        "end_of_all_treatment"
    )
    cure_requires_assessment_after_milestone: bool = True
    #: the confirmation interval of each criterion used by the lifecycle (§6.4): DERIVED from
    #: each criterion's best-response rule (its own options, e.g. ``rano2.confirm_response_days``,
    #: ``pcwg3.psa_confirm_days``), so one option drives the best response and the episodes;
    #: ``assess`` fills it and refuses a value given here (set the criterion's option instead).
    confirm_days_by_criteria: dict[str, int] = Field(default_factory=lambda: confirm_days_by_criteria(None))


class _AssessCommon(_Options):
    """Everything ``remission assess`` can be told besides the criteria's own options."""

    criteria: str | None = Field(None, description="Force one criterion for every subject.")
    as_of: dt.date | None = Field(None, description="Status as of this date (default: latest date in the data).")
    remission: RemissionOptions = RemissionOptions()
    followup: FollowupSchedule = FollowupSchedule()
    skip_invalid: bool = Field(False, description="Process valid subjects; report the invalid ones.")
    ignore_unknown_files: bool = Field(
        False, description="Files of the dataset folder that are not known tables are not input errors."
    )


def _criterion_fields() -> dict[str, Any]:
    """One typed field per registered criterion, named by its ``options_key`` (``recist``
    for RECIST 1.1, else its code), holding its options model with the spec's defaults."""
    fields: dict[str, Any] = {}
    for c in registry.all_criteria():
        fields[c.options_key] = (
            c.options_model,
            Field(default_factory=c.options_model, description=f"{c.presentation.label} options ({c.options_model.__name__})."),
        )
    return fields


#: ``AssessOptions(recist=RecistOptions(...), rano2=RanoOptions(...), as_of=..., ...)``:
#: the common fields of ``_AssessCommon`` and one field per criterion (its options model;
#: a dict of its fields works too), validated by pydantic (unknown keys are errors).
AssessOptions = create_model(
    "AssessOptions",
    __base__=_AssessCommon,
    __module__=__name__,
    __doc__="Everything ``remission assess`` can be told: the common options and each criterion's own "
    "(one field per criterion, named by its options key: recist, who, irecist, mrecist, rano2, ...).",
    **_criterion_fields(),
)

def options_json(options: Any) -> str:
    """``options.json``: every value of ``options`` (defaults included) as JSON, the same
    text for the same options (set-valued options as sorted lists)."""
    import json

    def plain(v: Any) -> Any:
        if isinstance(v, (set, frozenset)):
            return sorted((plain(x) for x in v), key=lambda x: json.dumps(x, sort_keys=True, default=str))
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        return v

    data = plain(options.model_dump(mode="python"))
    return json.dumps(json.loads(json.dumps(data, default=str)), indent=2, ensure_ascii=False) + "\n"


__all__ = ["AssessOptions", "FollowupSchedule", "RecistOptions", "RemissionOptions", "WhoOptions", "options_json"]


# --------------------------------------------------------------------------------------
# ``remission assess --options FILE``: a TOML file of options
# --------------------------------------------------------------------------------------

#: tables of an options file besides one per criterion code
OPTION_TABLES = ("remission", "followup")
#: keys an options file may give at its top level
OPTION_TOP_KEYS = ("criteria", "as_of", "skip_invalid", "ignore_unknown_files")


def _known_keys(loc: tuple) -> str:
    """'one of ...': the option names of the table at ``loc`` (a path of AssessOptions fields)."""
    model: Any = AssessOptions
    for part in loc:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None or not isinstance(field.annotation, type) or not issubclass(field.annotation, BaseModel):
            return "a known option name"
        model = field.annotation
    return "one of " + ", ".join(model.model_fields)


def options_from_toml(path: Any, **given: Any) -> Any:
    """:class:`AssessOptions` from a TOML file (docs/options.md): top-level ``criteria``,
    ``as_of``, ``skip_invalid``; a ``[remission]`` and a ``[followup]`` table; and one table
    per criterion code (``["recist1.1"]``, ``[rano2]``, ``[pcwg3]`` with ``[pcwg3.recist]``,
    ...) holding that criterion's options.  ``given`` (e.g. the command line's ``--as-of``)
    wins over the file.  Every problem (unreadable TOML, an unknown table or key, a wrong
    value) is an :class:`~remission.errors.InputError` naming the file, the key and what was
    expected; all of them are raised at once as :class:`~remission.errors.InputErrors`."""
    import tomllib
    from pathlib import Path

    from pydantic import ValidationError

    from remission.errors import InputError, InputErrors

    p = Path(path)
    name = str(p)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InputErrors([InputError(name, None, None, None, None, "an options file (TOML)", "MISSING_FILE")]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputErrors([InputError(name, None, None, None, None, f"valid TOML ({exc})", "BAD_OPTIONS")]) from None
    by_code = {c.code: c.options_key for c in registry.all_criteria()}
    known_tables = list(by_code) + list(OPTION_TABLES)
    errors = []
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key in OPTION_TOP_KEYS:
            kwargs[key] = value
        elif key in by_code or key in OPTION_TABLES:
            if not isinstance(value, dict):
                errors.append(InputError(name, None, None, key, repr(value), f"a table [{key}]", "BAD_OPTIONS"))
            else:
                kwargs[by_code.get(key, key)] = value
        else:
            expected = "a table of " + ", ".join(f"[{t}]" if "." not in t else f'["{t}"]' for t in known_tables)
            expected += " or a key " + ", ".join(OPTION_TOP_KEYS)
            errors.append(InputError(name, None, None, key, None, expected, "UNKNOWN_OPTION"))
    kwargs.update({k: v for k, v in given.items() if v is not None})
    try:
        options = AssessOptions(**kwargs)
    except ValidationError as exc:
        code_of = {v: k for k, v in by_code.items()}
        for e in exc.errors():
            loc = [str(x) for x in e["loc"]]
            if loc and loc[0] in code_of:
                loc[0] = f'"{code_of[loc[0]]}"' if "." in code_of[loc[0]] else code_of[loc[0]]
            kind = "UNKNOWN_OPTION" if e["type"] == "extra_forbidden" else "BAD_OPTIONS"
            expected = _known_keys(e["loc"][:-1]) if kind == "UNKNOWN_OPTION" else e["msg"]
            value = None if kind == "UNKNOWN_OPTION" else repr(e.get("input"))
            errors.append(InputError(name, None, None, ".".join(loc), value, expected, kind))
    else:
        if not errors:
            return options
    raise InputErrors(errors)
