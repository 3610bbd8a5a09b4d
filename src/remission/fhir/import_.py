"""Reading a FHIR R4 Bundle or NDJSON export into the canonical tables.

    >>> from remission.fhir.import_ import read_fhir
    >>> imp = read_fhir("export.json")          # a Bundle, an .ndjson file or a folder of them
    >>> imp.dataset                             # the typed Dataset, as remission.io makes it
    >>> imp.unmapped                            # resources / elements that were not used

Mapping (docs/fhir.md has the full table; every code is in :mod:`remission.fhir.codes`):

* Patient -> ``subjects`` (subject_id = identifier with system ``urn:remission:subject-id``,
  else the resource id; death_date = ``deceasedDateTime``; last_contact_date = extension).
* Condition -> ``subjects.cancer_type`` (project coding, else SNOMED, else ICD-10 prefix,
  codes.CANCER_BY_*), ``diagnosis_date`` (``onsetDateTime``, else ``recordedDate``),
  ``criteria`` (extension).  The first cancer Condition of a subject is used.
* Observation TumorSize (LOINC 21889-1) -> ``lesions``: lesion_id from
  ``focus.identifier.value`` (mCODE BodyStructureIdentifier; or the referenced
  BodyStructure's identifier / id), role / status / nodal from the project's extensions,
  organ from ``bodySite``, method from ``method``, diameter from component 33728-7 and
  perpendicular from 33729-5 (mm or cm).
* Observation with a lab LOINC code (codes.LAB_LOINC) or the project's lab-test code ->
  ``labs`` (unit: UCUM ``code`` when the system is UCUM, else ``unit``; checked against
  remission.units).
* Observation CancerDiseaseStatus (LOINC 97509-4 or 88040-1) -> ``responses``: the
  criterion code from an NCIt coding or ``text`` (when consistent with the SNOMED value),
  else CR/PR/SD/PD/NE from the SNOMED value; evidence from the evidence-type extension.
  Observations tagged ``derived`` (written by :mod:`remission.fhir.export` from results)
  are skipped and reported.
* Procedure / MedicationAdministration / MedicationRequest -> ``treatments``.

Two kinds of problems, both located (file, row = Bundle entry number or NDJSON line
number, both 1-based, subject, column = FHIR element path, value, expected):

* **errors** (raise :class:`~remission.errors.InputErrors`): not JSON, wrong resourceType,
  a resource that fails the fhir.resources R4B model (Bundles), missing or unknown subject,
  bad or partial dates, unknown units, missing values; and every error of the canonical
  validation (:func:`remission.io.from_frames`) relocated to the FHIR element it came from.
* **unmapped** (returned in :attr:`FhirImport.unmapped`, written to ``unmapped.csv`` by the
  CLI): resource types and codes this reader does not use; nothing is dropped silently.

Bundles are validated with the ``fhir.resources`` R4B models at the edge; NDJSON (bulk
export) takes a fast path: ``orjson`` and this module's own checks only.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import orjson
import polars as pl

from remission import schema as S
from remission import units
from remission.criteria.stated import LEVEL_BY_CODE, canonical_code
from remission.errors import InputError, InputErrors
from remission.fhir import codes as C
from remission.io import Dataset, from_frames
from remission.io.tables import FRAME_SUFFIX

_DATE = re.compile(r"^(\d{4})(-(\d{2})(-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$")
#: resource types that are read; anything else is reported as unmapped
READ_TYPES = ("Patient", "Condition", "Observation", "Procedure", "MedicationAdministration",
              "MedicationRequest", "BodyStructure")


@dataclass
class FhirImport:
    """What :func:`read_fhir` produced."""

    dataset: Dataset
    #: the canonical tables as text, exactly as handed to remission.io.from_frames
    tables: dict[str, pl.DataFrame]
    #: resources or elements that were not used (located; code ``unmapped``, ``derived_skipped``, ...)
    unmapped: list[InputError] = field(default_factory=list)
    #: errors of skipped subjects (only with ``skip_invalid``)
    errors: list[InputError] = field(default_factory=list)

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write the canonical CSVs (every non-empty table, ``subjects`` always), plus
        ``unmapped.csv`` and ``errors.csv`` when there are any."""
        from remission.errors import errors_frame

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, frame in self.dataset.tables.items():
            if name == "subjects" or frame.height:
                p = out / f"{name}.csv"
                frame.write_csv(p)
                paths.append(p)
        for name, errs in (("unmapped", self.unmapped), ("errors", self.errors)):
            if errs:
                p = out / f"{name}.csv"
                errors_frame(errs).write_csv(p)
                paths.append(p)
        return paths


@dataclass(frozen=True)
class _Item:
    file: str
    row: int
    resource: Any
    full_url: str | None = None


@dataclass
class _Prov:
    """Where a canonical row came from: file, row, subject, and the FHIR element path of
    each canonical column (for relocating validation errors)."""

    file: str
    row: int
    subject_id: str | None
    paths: dict[str, str]
    base: str


class _Ctx:
    def __init__(self) -> None:
        self.errors: list[InputError] = []
        self.unmapped: list[InputError] = []
        self.rows: dict[str, list[dict]] = {name: [] for name in S.INPUT_TABLES}
        self.prov: dict[str, list[_Prov]] = {name: [] for name in S.INPUT_TABLES}
        #: number of errors when the current resource started: a resource with an error of
        #: its own adds no row (so the canonical validation does not report it twice)
        self.mark = 0

    def error(self, it: _Item, sid, path, value, expected, code="invalid") -> None:
        self.errors.append(InputError(it.file, it.row, sid, path, _show(value), expected, code))

    def skip(self, it: _Item, sid, path, value, expected, code="unmapped") -> None:
        self.unmapped.append(InputError(it.file, it.row, sid, path, _show(value), expected, code))

    def add(self, table: str, it: _Item, sid: str, base: str, values: dict, paths: dict) -> None:
        if len(self.errors) > self.mark:
            return
        self.rows[table].append({"subject_id": sid, **values})
        self.prov[table].append(_Prov(it.file, it.row, sid, {"subject_id": f"{base}.subject", **paths}, base))


def _show(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()[:200]


# --------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------


def _items(path: Path, ctx: _Ctx, validate_models: bool | None, ignore_unknown: bool = False) -> Iterator[_Item]:
    if path.is_dir():  # issue 14 item 3: other table-like files are errors, never skipped silently
        from remission.io.layout import folder_files

        files, layout = folder_files(path, (".json", ".ndjson", ".jsonl"), ignore_unknown=ignore_unknown,
                                     what="FHIR file (a Bundle as JSON, or NDJSON)")
        ctx.errors.extend(layout)
    else:
        files = [path]
    if path.is_dir() and not files:
        ctx.errors.append(InputError(path.name, None, None, None, None, "a folder with .ndjson or .json files", "no_files"))
    for f in files:
        try:
            raw = f.read_bytes()
        except OSError as exc:
            ctx.errors.append(InputError(f.name, None, None, None, str(exc), "a readable file", "unreadable"))
            continue
        if raw.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark (some editors write one) is not JSON
            raw = raw[3:]
        if f.suffix.lower() in (".ndjson", ".jsonl"):
            yield from _ndjson(f.name, raw, ctx)
        else:
            yield from _bundle(f.name, raw, ctx, True if validate_models is None else validate_models)


def _ndjson(name: str, raw: bytes, ctx: _Ctx) -> Iterator[_Item]:
    """NDJSON fast path: one resource per line, orjson only (no model validation)."""
    for i, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            res = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            ctx.errors.append(InputError(name, i, None, None, line[:80].decode(errors="replace"),
                                         f"one FHIR resource as JSON per line ({exc})", "not_json"))
            continue
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            ctx.errors.append(InputError(name, i, None, "resourceType", _show(res if not isinstance(res, dict) else res.get("resourceType")),
                                         "a FHIR resource (a JSON object with resourceType)", "wrong_resource_type"))
            continue
        if not _known_type(res["resourceType"]):
            ctx.errors.append(InputError(name, i, _subject_hint(res), "resourceType", res["resourceType"],
                                         "a FHIR R4B resource type", "wrong_resource_type"))
            continue
        yield _Item(name, i, res)


def _known_type(rt: str) -> bool:
    from fhir.resources.R4B import get_fhir_model_class

    try:
        get_fhir_model_class(rt)
    except (KeyError, ValueError):
        return False
    return True


def _model_errors(it: _Item, res: dict, ctx: _Ctx) -> bool:
    """Validate one resource with the fhir.resources R4B model; False when it failed."""
    import pydantic
    from fhir.resources.R4B import get_fhir_model_class

    rt = res["resourceType"]
    try:
        model = get_fhir_model_class(rt)
    except (KeyError, ValueError):
        ctx.error(it, None, "resourceType", rt, "a FHIR R4B resource type", "wrong_resource_type")
        return False
    try:
        model.model_validate(res)
    except pydantic.ValidationError as exc:
        sid = _subject_hint(res)
        for e in exc.errors()[:20]:
            path = rt + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"])
            ctx.error(it, sid, path, e.get("input"), f"valid FHIR R4B ({e['msg']})", "fhir_invalid")
        return False
    return True


def _subject_hint(res: dict) -> str | None:
    ref = (res.get("subject") or res.get("patient") or {}).get("reference") if isinstance(res.get("subject") or res.get("patient"), dict) else None
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _bundle(name: str, raw: bytes, ctx: _Ctx, validate_models: bool) -> Iterator[_Item]:
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        ctx.errors.append(InputError(name, None, None, None, None, f"a FHIR Bundle in JSON ({exc})", "not_json"))
        return
    rt = doc.get("resourceType") if isinstance(doc, dict) else None
    if rt != "Bundle":
        ctx.errors.append(InputError(name, None, None, "resourceType", _show(rt), "Bundle (or use .ndjson for one resource per line)",
                                     "wrong_resource_type"))
        return
    entries = doc.get("entry") or []
    if not isinstance(entries, list):
        ctx.errors.append(InputError(name, None, None, "Bundle.entry", _show(entries), "a list of entries", "invalid"))
        return
    for i, entry in enumerate(entries, start=1):
        res = entry.get("resource") if isinstance(entry, dict) else None
        it = _Item(name, i, res, entry.get("fullUrl") if isinstance(entry, dict) else None)
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            ctx.error(it, None, f"Bundle.entry[{i - 1}].resource", res, "a FHIR resource with resourceType", "wrong_resource_type")
            continue
        if not _known_type(res["resourceType"]):
            ctx.error(it, _subject_hint(res), "resourceType", res["resourceType"], "a FHIR R4B resource type", "wrong_resource_type")
            continue
        if validate_models and res["resourceType"] in READ_TYPES and not _model_errors(it, res, ctx):
            continue
        yield it


# --------------------------------------------------------------------------------------
# Element helpers
# --------------------------------------------------------------------------------------


def _codings(cc) -> list[dict]:
    """The codings of a CodeableConcept (or of a list of them, e.g. MedicationRequest.category)."""
    if isinstance(cc, list):
        return [c for item in cc for c in _codings(item)]
    if not isinstance(cc, dict):
        return []
    return [c for c in cc.get("coding") or [] if isinstance(c, dict)]


def _code_in(cc, system: str) -> list[str]:
    return [c.get("code") for c in _codings(cc) if c.get("system") == system and isinstance(c.get("code"), str)]


def _ext(res: dict, url: str | tuple[str, ...]) -> list[dict]:
    urls = (url,) if isinstance(url, str) else url
    return [e for e in res.get("extension") or [] if isinstance(e, dict) and e.get("url") in urls]


def _date(ctx: _Ctx, it: _Item, sid, path: str, value) -> str | None:
    """``YYYY-MM-DD`` of a FHIR date/dateTime (its calendar date as written); a partial or
    invalid date is an error (spec/tables.md: dates are full calendar dates)."""
    if value is None:
        return None
    m = _DATE.match(value) if isinstance(value, str) else None
    if m is None or m.group(5) is None:
        ctx.error(it, sid, path, value, "a full FHIR date or dateTime (YYYY-MM-DD[Thh:mm:ss...])", "bad_date")
        return None
    text = value[:10]
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        ctx.error(it, sid, path, value, "a calendar date that exists", "bad_date")
        return None
    return text


def _effective(res: dict) -> tuple[str, Any]:
    if "effectiveDateTime" in res:
        return "effectiveDateTime", res["effectiveDateTime"]
    if isinstance(res.get("effectivePeriod"), dict):
        return "effectivePeriod.start", res["effectivePeriod"].get("start")
    if "effectiveInstant" in res:
        return "effectiveInstant", res["effectiveInstant"]
    return "effective[x]", None


def _name_text(names) -> str | None:
    """``subjects.name`` from Patient.name: the first name with ``use`` official (else the
    first) as its ``text``, else ``Family, Given Names``; None for a name that is only a
    data-absent-reason extension."""
    names = [n for n in names or [] if isinstance(n, dict)]
    if not names:
        return None
    name = next((n for n in names if n.get("use") == "official"), names[0])
    if isinstance(name.get("text"), str) and name["text"].strip():
        return name["text"].strip()
    family = name.get("family") if isinstance(name.get("family"), str) else ""
    given = " ".join(g for g in name.get("given") or [] if isinstance(g, str))
    text = ", ".join(p for p in (family, given) if p)
    return text or None


def _num_text(value) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return repr(float(value)) if isinstance(value, float) else str(value)


# --------------------------------------------------------------------------------------
# Resources
# --------------------------------------------------------------------------------------


class _Reader:
    def __init__(self, ctx: _Ctx) -> None:
        self.ctx = ctx
        self.patients: dict[str, str] = {}  # "Patient/<id>" and fullUrl -> subject_id
        self.body_structures: dict[str, str] = {}  # "BodyStructure/<id>" -> lesion id
        self.conditions: dict[str, dict] = {}  # subject_id -> subject fields from its cancer Condition
        self.subject_rows: dict[str, int] = {}

    # -- pass 1 ---------------------------------------------------------------------

    def patient(self, it: _Item, res: dict) -> None:
        rid = res.get("id")
        sid = next(
            (i.get("value") for i in res.get("identifier") or [] if isinstance(i, dict) and i.get("system") == C.SUBJECT_ID_SYSTEM),
            None,
        ) or rid
        if not isinstance(sid, str) or not sid:
            self.ctx.error(it, None, "Patient.id", rid, "a Patient id or a subject-id identifier", "missing_subject")
            return
        if isinstance(rid, str):
            self.patients[f"Patient/{rid}"] = sid
        if it.full_url:
            self.patients[it.full_url] = sid
        death = None
        if "deceasedDateTime" in res:
            death = _date(self.ctx, it, sid, "Patient.deceasedDateTime", res["deceasedDateTime"])
        elif res.get("deceasedBoolean") is True:
            self.ctx.skip(it, sid, "Patient.deceasedBoolean", True, "deceasedDateTime (the date of death); death_date left empty",
                          "unmapped")
        last = None
        for e in _ext(res, C.EXT_LAST_CONTACT):
            last = _date(self.ctx, it, sid, "Patient.extension(last-contact-date).valueDate", e.get("valueDate"))
        gender = res.get("gender") if isinstance(res.get("gender"), str) else None
        n = len(self.ctx.rows["subjects"])
        self.ctx.add("subjects", it, sid, "Patient",
                     {"death_date": death, "last_contact_date": last, "sex": gender, "name": _name_text(res.get("name"))},
                     {"death_date": "Patient.deceasedDateTime", "last_contact_date": "Patient.extension(last-contact-date)",
                      "sex": "Patient.gender", "name": "Patient.name",
                      "cancer_type": "Condition.code", "diagnosis_date": "Condition.onsetDateTime",
                      "criteria": "Condition.extension(response-criteria)"})
        if len(self.ctx.rows["subjects"]) > n:
            self.subject_rows[sid] = n

    def body_structure(self, it: _Item, res: dict) -> None:
        rid = res.get("id")
        ident = next((i.get("value") for i in res.get("identifier") or [] if isinstance(i, dict) and i.get("value")), None)
        if isinstance(rid, str):
            self.body_structures[f"BodyStructure/{rid}"] = ident or rid
        if it.full_url:
            self.body_structures[it.full_url] = ident or rid

    # -- pass 2 ---------------------------------------------------------------------

    def subject(self, it: _Item, res: dict, element: str = "subject") -> str | None:
        rt = res["resourceType"]
        ref = res.get(element)
        target = ref.get("reference") if isinstance(ref, dict) else None
        if not isinstance(target, str) or not target:
            self.ctx.error(it, None, f"{rt}.{element}", _show(ref), "a reference to the Patient (Patient/<id>)", "missing_subject")
            return None
        sid = self.patients.get(target)
        if sid is None and "/Patient/" in target:
            sid = self.patients.get("Patient/" + target.rsplit("/Patient/", 1)[1])
        if sid is None:
            self.ctx.error(it, None, f"{rt}.{element}.reference", target, "a reference to a Patient in the input", "unknown_subject")
        return sid

    def condition(self, it: _Item, res: dict) -> None:
        sid = self.subject(it, res)
        if sid is None:
            return
        code = res.get("code")
        profiles = (res.get("meta") or {}).get("profile") or []
        if C.MCODE_SD + "mcode-secondary-cancer-condition" in profiles:
            self.ctx.skip(it, sid, "Condition.meta.profile", C.MCODE_SD + "mcode-secondary-cancer-condition",
                          "a primary cancer condition; a secondary cancer (metastasis) does not give the cancer type")
            return
        cancer = None
        local = _code_in(code, C.CS_CANCER_TYPE)
        snomed = _code_in(code, C.SNOMED)
        if local:
            cancer = local[0]
        else:
            for c in snomed:
                cancer = cancer or C.cancer_type_of_snomed(c)
            for system in (C.ICD10CM, C.ICD10):
                for c in _code_in(code, system):
                    for prefix in sorted(C.CANCER_BY_ICD10_PREFIX, key=len, reverse=True):
                        if cancer is None and c.upper().startswith(prefix):
                            cancer = C.CANCER_BY_ICD10_PREFIX[prefix]
        is_cancer = cancer is not None or any(p in (C.PROFILE_PRIMARY_CANCER, C.MCODE_SD + "mcode-secondary-cancer-condition")
                                              for p in profiles)
        if not is_cancer and code is not None:
            self.ctx.skip(it, sid, "Condition.code", code, "a cancer code of codes.CANCER_CODES (SNOMED, ICD-10) or the project's "
                          "cancer-type coding; condition not used", "unmapped")
            return
        if sid in self.conditions:
            self.ctx.skip(it, sid, "Condition", res.get("id"), "one cancer Condition per subject; the first was used", "extra_condition")
            return
        crit = next((e.get("valueCode") for e in _ext(res, C.EXT_CRITERIA)), None)
        # the generic malignancy code alone (no type) is reported only when no criteria is given
        generic = bool(snomed) and set(snomed) == {C.CANCER_GENERIC.code} and crit is not None
        if is_cancer and cancer is None and code is not None and not generic:
            # never a silent fall-back to the default criteria: the warning names the code(s)
            named = [f"{c.get('system')}|{c.get('code')}" for c in _codings(code)] or [_show(code)]
            self.ctx.skip(it, sid, "Condition.code", ", ".join(named),
                          "a cancer code of codes.CANCER_CODES or of the shipped SNOMED hierarchy table "
                          "(data/fhir/snomed_cancer_hierarchy.csv); cancer_type left empty, so without a criteria "
                          "column the subject gets the default criteria (recist1.1, spec/tables.md): set criteria",
                          "unknown_cancer_code")
        onset_path, onset = ("Condition.onsetDateTime", res.get("onsetDateTime"))
        if onset is None and res.get("recordedDate") is not None:
            onset_path, onset = ("Condition.recordedDate", res["recordedDate"])
        diag = _date(self.ctx, it, sid, onset_path, onset)
        self.conditions[sid] = {"cancer_type": cancer, "diagnosis_date": diag, "criteria": crit}

    def observation(self, it: _Item, res: dict) -> None:
        code = res.get("code")
        loinc = _code_in(code, C.LOINC)
        profiles = (res.get("meta") or {}).get("profile") or []
        if C.CDS_CODE.code in loinc or C.CDS_CODE_OLD.code in loinc or C.PROFILE_CDS in profiles:
            kind = "response"
        elif C.TUMOR_SIZE_CODE.code in loinc or C.PROFILE_TUMOR_SIZE in profiles or C.LESION_STATUS_CODE.code in _code_in(
                code, C.LESION_STATUS_CODE.system):
            kind = "lesion"
        elif _code_in(code, C.CS_LAB_TEST) or any(c in C.LAB_BY_LOINC for c in loinc):
            kind = "lab"
        elif _code_in(code, C.CS_FINDING):
            kind = "finding"
        else:
            self.ctx.skip(it, _subject_hint(res), "Observation.code", code,
                          "a TumorSize, CancerDiseaseStatus, lab (codes.LAB_LOINC) or finding code; observation not used")
            return
        sid = self.subject(it, res)
        if sid is None:
            return
        path, value = _effective(res)
        date = _date(self.ctx, it, sid, f"Observation.{path}", value)
        if value is None:
            self.ctx.error(it, sid, "Observation.effective[x]", None, "the date of the observation", "missing_date")
        getattr(self, "_" + kind)(it, res, sid, date, path)

    def _response(self, it, res, sid, date, dpath) -> None:
        tags = (res.get("meta") or {}).get("tag") or []
        if any(isinstance(t, dict) and t.get("system") == C.CS_TAG and t.get("code") == "derived" for t in tags):
            self.ctx.skip(it, sid, "Observation.meta.tag", "derived",
                          "an input observation; this one was derived by remission and is not read back", "derived_skipped")
            return
        value = res.get("valueCodeableConcept")
        if value is None:
            if res.get("dataAbsentReason") is not None:
                response = "NE"
            else:
                self.ctx.error(it, sid, "Observation.valueCodeableConcept", None, "the disease status (ConditionStatusTrendVS)", "missing_value")
                return
        else:
            response = self._response_code(it, sid, value)
            if response is None:
                return
        evidence = None
        for e in _ext(res, (C.EXT_EVIDENCE_TYPE, C.EXT_EVIDENCE_TYPE_OLD)):
            for c in _code_in(e.get("valueCodeableConcept"), C.SNOMED):
                if c in C.EVIDENCE_BY_CODE:
                    evidence = evidence or C.EVIDENCE_BY_CODE[c]
                else:
                    self.ctx.skip(it, sid, "Observation.extension(evidence-type)", c, "an evidence type of codes.EVIDENCE_BY_CODE")
        for e in _ext(res, C.EXT_RESPONSE_EVIDENCE):
            evidence = evidence or e.get("valueCode")
        self.ctx.add("responses", it, sid, "Observation",
                     {"date": date, "response": response, "evidence": evidence},
                     {"date": f"Observation.{dpath}", "response": "Observation.valueCodeableConcept",
                      "evidence": "Observation.extension(evidence-type)"})

    def _response_code(self, it, sid, value) -> str | None:
        """Criterion code: NCIt coding, else ``text`` when it is a known code whose level
        agrees with the SNOMED value, else the generic code of the SNOMED value."""
        snomed_levels = [C.LEVEL_BY_VALUE[c] for c in _code_in(value, C.SNOMED) if c in C.LEVEL_BY_VALUE]
        has_snomed = bool(snomed_levels)
        level = next((lv for lv in snomed_levels if lv is not None), None)
        text = value.get("text")
        key = canonical_code(text) if isinstance(text, str) else None
        for c in _code_in(value, C.NCIT):
            if c in C.RESPONSE_BY_NCIT:
                return text.strip() if key == C.RESPONSE_BY_NCIT[c] else C.RESPONSE_BY_NCIT[c]
        if key in LEVEL_BY_CODE:
            tl = LEVEL_BY_CODE[key]
            improved = tl in (S.COMPLETE, S.PARTIAL, S.MINOR)
            if not has_snomed or level == tl or (level is None and improved) or (
                level == S.NOT_EVALUABLE and tl in (S.NOT_EVALUABLE, S.PROGRESSION_PENDING)
            ):
                return text.strip()
            self.ctx.error(it, sid, "Observation.valueCodeableConcept.text", text,
                           f"a response code consistent with the coded value ({level})", "inconsistent_value")
            return None
        if level is not None:
            return C.RESPONSE_BY_LEVEL[level] if level in C.RESPONSE_BY_LEVEL else "NE"
        if has_snomed:  # only 268910001 "improved" (ConditionStatusTrendVS) has no level of its own
            self.ctx.skip(it, sid, "Observation.valueCodeableConcept", C.IMPROVED.code,
                          f"a criterion code (text or NCIt coding); 'improved' read as {C.IMPROVED_RESPONSE} "
                          "(PARTIAL: the least level that opens a response episode, remission_model.md §6.3, §9)",
                          "assumed")
            return C.IMPROVED_RESPONSE
        self.ctx.skip(it, sid, "Observation.valueCodeableConcept", value,
                      "a disease status of ConditionStatusTrendMaxVS (or a criterion code in text / NCIt coding)", "unmapped")
        return None

    def _lesion(self, it, res, sid, date, dpath) -> None:
        if res.get("specimen") is not None:
            self.ctx.skip(it, sid, "Observation.specimen", res["specimen"],
                          "a tumour measured in the body (focus); a TumorSize of an excised specimen (pathology) is not a "
                          "response assessment")
            return
        role = next((e.get("valueCode") for e in _ext(res, C.EXT_LESION_ROLE)), None)
        if role is None:
            self.ctx.skip(it, sid, "Observation.extension(lesion-role)", None,
                          "the lesion role (target, non_target or new) in extension " + C.EXT_LESION_ROLE
                          + "; a TumorSize without it is not used (RECIST sums need the role)")
            return
        focus = res.get("focus") or []
        lesion_id = None
        for f in focus if isinstance(focus, list) else []:
            ident = f.get("identifier") if isinstance(f, dict) else None
            if isinstance(ident, dict) and ident.get("value"):
                lesion_id = ident["value"]
            elif isinstance(f, dict) and isinstance(f.get("reference"), str):
                lesion_id = self.body_structures.get(f["reference"]) or f["reference"].rsplit("/", 1)[-1]
            if lesion_id:
                break
        if not lesion_id:
            self.ctx.error(it, sid, "Observation.focus", _show(focus) if focus else None,
                           "the tumour: focus.identifier.value or a reference to its BodyStructure", "missing_lesion_id")
        status = next((e.get("valueCode") for e in _ext(res, C.EXT_LESION_STATUS)), None)
        nodal_ext = [e.get("valueBoolean") for e in _ext(res, C.EXT_LESION_NODAL)]
        organ = None
        site = res.get("bodySite")
        for c in _code_in(site, C.SNOMED):
            organ = organ or C.ORGAN_BY_SNOMED.get(c)
        if organ is None and isinstance(site, dict) and isinstance(site.get("text"), str):
            organ = re.sub(r"[\s\-]+", "_", site["text"].strip().lower())
        # choice: without the nodal extension, a lesion whose body site is a lymph node is nodal
        nodal = nodal_ext[0] if nodal_ext else (True if organ == "lymph_node" else None)
        method = None
        for c in _code_in(res.get("method"), C.SNOMED):
            method = method or C.METHOD_BY_SNOMED.get(c)
        if method is None and isinstance(res.get("method"), dict):
            text = res["method"].get("text")
            method = text if text in C.METHOD_CODES else None
            if text and method is None:
                self.ctx.skip(it, sid, "Observation.method", res["method"], "a method of codes.METHOD_CODES; method left empty")
        dims = {}
        for i, comp in enumerate(res.get("component") or []):
            kinds = _code_in(comp.get("code"), C.LOINC) if isinstance(comp, dict) else []
            col = "diameter_mm" if C.LONGEST_DIMENSION.code in kinds else "perpendicular_mm" if C.OTHER_DIMENSION.code in kinds else None
            local = _code_in(comp.get("code"), C.CS_LESION_MEASURE) if isinstance(comp, dict) else []
            if col is None and local and local[0] in S.LESIONS:
                col = local[0]
            path = f"Observation.component[{i}].valueQuantity"
            if col is None:
                self.ctx.skip(it, sid, f"Observation.component[{i}].code", comp.get("code") if isinstance(comp, dict) else comp,
                              "33728-7 (longest) or 33729-5 (additional dimension)")
                continue
            if col in dims:
                continue  # further additional dimensions: the first is the perpendicular one
            dims[col] = self._mm(it, sid, path, comp.get("valueQuantity"))
        self.ctx.add("lesions", it, sid, "Observation",
                     {"date": date, "lesion_id": lesion_id, "role": role, "organ": organ,
                      "nodal": None if nodal is None else ("true" if nodal else "false"),
                      "diameter_mm": dims.get("diameter_mm"), "perpendicular_mm": dims.get("perpendicular_mm"),
                      "status": status, "method": method,
                      **{c: v for c, v in dims.items() if c not in ("diameter_mm", "perpendicular_mm")}},
                     {"date": f"Observation.{dpath}", "lesion_id": "Observation.focus.identifier.value",
                      "role": "Observation.extension(lesion-role)", "organ": "Observation.bodySite",
                      "nodal": "Observation.extension(lesion-nodal)", "diameter_mm": "Observation.component(33728-7).valueQuantity",
                      "perpendicular_mm": "Observation.component(33729-5).valueQuantity",
                      "status": "Observation.extension(lesion-status)", "method": "Observation.method",
                      "viable_diameter_mm": "Observation.component(viable_diameter_mm).valueQuantity"})

    def _mm(self, it, sid, path, q) -> str | None:
        if not isinstance(q, dict) or _num_text(q.get("value")) is None:
            self.ctx.error(it, sid, path + ".value", _show(q), "a number", "missing_value")
            return None
        unit = q.get("code") if q.get("system") == C.UCUM and q.get("code") else q.get("unit")
        factor = C.MM_FACTOR.get(unit) if isinstance(unit, str) else None
        if factor is None:
            self.ctx.error(it, sid, path + (".code" if q.get("code") else ".unit"), unit, "a tumour size unit: mm or cm (UCUM)",
                           "unknown_unit")
            return None
        return _num_text(q["value"] * factor) if factor != 1.0 else _num_text(q["value"])

    def _lab(self, it, res, sid, date, dpath) -> None:
        code = res.get("code")
        test = next(iter(_code_in(code, C.CS_LAB_TEST)), None) or next(
            (C.LAB_BY_LOINC[c] for c in _code_in(code, C.LOINC) if c in C.LAB_BY_LOINC), None
        )
        q = res.get("valueQuantity")
        path = "Observation.valueQuantity"
        if not isinstance(q, dict) or _num_text(q.get("value")) is None:
            self.ctx.error(it, sid, path + ".value", _show(q if q is not None else res.get("valueString")), "a number with its unit",
                           "missing_value")
            return
        use_code = q.get("system") == C.UCUM and isinstance(q.get("code"), str)
        raw_unit = q["code"] if use_code else q.get("unit")
        unit = C.UNIT_BY_UCUM.get(raw_unit, raw_unit) if use_code else raw_unit
        if test in units.CANONICAL_UNITS and units.normalise_unit(unit) not in units.factors(test):
            self.ctx.error(it, sid, path + (".code" if use_code else ".unit"), raw_unit, units.expected_units(test), "unknown_unit")
            return
        self.ctx.add("labs", it, sid, "Observation",
                     {"date": date, "test": test, "value": _num_text(q["value"]), "unit": unit},
                     {"date": f"Observation.{dpath}", "test": "Observation.code", "value": path + ".value",
                      "unit": path + (".code" if use_code else ".unit")})

    def _finding(self, it, res, sid, date, dpath) -> None:
        finding = _code_in(res.get("code"), C.CS_FINDING)[0]
        value = res.get("valueString")
        if value is None:
            for key in ("valueInteger", "valueBoolean", "valueQuantity"):
                if key in res:
                    v = res[key]
                    value = str(v.get("value")) if isinstance(v, dict) else ("true" if v is True else "false" if v is False else str(v))
        self.ctx.add("findings", it, sid, "Observation", {"date": date, "finding": finding, "value": value},
                     {"date": f"Observation.{dpath}", "finding": "Observation.code", "value": "Observation.value[x]"})

    def treatment(self, it: _Item, res: dict) -> None:
        rt = res["resourceType"]
        sid = self.subject(it, res)
        if sid is None:
            return
        modality = next(iter(_code_in(res.get("category"), C.CS_MODALITY)), None)
        profiles = (res.get("meta") or {}).get("profile") or []
        if rt == "Procedure":
            code = res.get("code")
            if modality is None:
                modality = next((C.MODALITY_BY_PROCEDURE_SNOMED[c] for c in _code_in(code, C.SNOMED)
                                 if c in C.MODALITY_BY_PROCEDURE_SNOMED), None)
            if modality is None and C.PROFILE_SURGERY in profiles:
                modality = "surgery"
            if modality is None:
                self.ctx.skip(it, sid, "Procedure.code", code, "a cancer treatment procedure (codes.PROCEDURE_MODALITY or the project's "
                              "modality category); procedure not used as a treatment")
                return
            name = code.get("text") if isinstance(code, dict) else None
            start_path, start, end = self._period(res, "performed")
        else:
            med = res.get("medicationCodeableConcept")
            name = med.get("text") if isinstance(med, dict) else None
            if name is None and isinstance(med, dict):
                name = next((c.get("display") for c in _codings(med) if c.get("display")), None)
            if modality is None:
                if any(p in (C.PROFILE_MED_ADMIN, C.PROFILE_MED_REQUEST) for p in profiles):
                    modality = "other"  # choice: a cancer-related medication of unknown kind is an active treatment
                    self.ctx.skip(it, sid, f"{rt}.category", None, "the treatment modality; cancer-related medication "
                                  "taken as modality 'other' (an active treatment)", "assumed")
                else:
                    self.ctx.skip(it, sid, f"{rt}.category", res.get("category"), "the project's treatment-modality "
                                  "category or an mCODE cancer-related medication profile; medication not used as a treatment")
                    return
            if rt == "MedicationRequest":
                start_path, start, end = self._request_period(res)
            else:
                start_path, start, end = self._period(res, "effective")
        if start is None:
            self.ctx.error(it, sid, f"{rt}.{start_path}", None, "the start date of the treatment", "missing_date")
        start_d = _date(self.ctx, it, sid, f"{rt}.{start_path}", start)
        end_path = start_path.replace("start", "end")
        end_d = _date(self.ctx, it, sid, f"{rt}.{end_path}", end)
        intent = next((e.get("valueCode") for e in _ext(res, C.EXT_INTENT)), None)
        for e in _ext(res, C.EXT_MCODE_INTENT) if intent is None else ():
            for c in _code_in(e.get("valueCodeableConcept"), C.SNOMED):
                intent = intent or C.INTENT_BY_MCODE.get(c)
            if intent is None:
                self.ctx.skip(it, sid, f"{rt}.extension(mcode-procedure-intent)", _show(e.get("valueCodeableConcept")),
                              "curative, palliative or supportive (ProcedureIntentVS); intent left empty")
        line = next((e.get("valueInteger") for e in _ext(res, C.EXT_LINE)), None)
        self.ctx.add("treatments", it, sid, rt,
                     {"start_date": start_d, "end_date": end_d, "modality": modality, "intent": intent,
                      "line": None if line is None else str(line), "name": name},
                     {"start_date": f"{rt}.{start_path}", "end_date": f"{rt}.{end_path}", "modality": f"{rt}.category",
                      "intent": f"{rt}.extension(treatment-intent)", "line": f"{rt}.extension(line-of-therapy)",
                      "name": f"{rt}.code.text" if rt == "Procedure" else f"{rt}.medicationCodeableConcept.text"})

    @staticmethod
    def _period(res: dict, prefix: str) -> tuple[str, Any, Any]:
        period = res.get(f"{prefix}Period")
        if isinstance(period, dict):
            return f"{prefix}Period.start", period.get("start"), period.get("end")
        if f"{prefix}DateTime" in res:
            return f"{prefix}DateTime", res[f"{prefix}DateTime"], None
        return f"{prefix}Period.start", None, None

    @staticmethod
    def _request_period(res: dict) -> tuple[str, Any, Any]:
        """MedicationRequest: dosageInstruction[0].timing.repeat.boundsPeriod, else authoredOn
        (start only)."""
        for i, dose in enumerate(res.get("dosageInstruction") or []):
            bounds = ((dose.get("timing") or {}).get("repeat") or {}).get("boundsPeriod") if isinstance(dose, dict) else None
            if isinstance(bounds, dict) and bounds.get("start"):
                return f"dosageInstruction[{i}].timing.repeat.boundsPeriod.start", bounds.get("start"), bounds.get("end")
        return "authoredOn", res.get("authoredOn"), None


# --------------------------------------------------------------------------------------
# Canonical tables and validation
# --------------------------------------------------------------------------------------


def _frames(ctx: _Ctx, reader: _Reader) -> dict[str, pl.DataFrame]:
    for sid, fields in reader.conditions.items():
        idx = reader.subject_rows.get(sid)
        if idx is not None:
            ctx.rows["subjects"][idx].update(fields)
    frames = {}
    for name, cols in S.INPUT_TABLES.items():
        rows = ctx.rows[name]
        if name != "subjects" and not rows:
            continue
        frames[name] = pl.DataFrame(
            [{c: r.get(c) for c in cols} for r in rows], schema={c: pl.String for c in cols}, orient="row"
        ) if rows else pl.DataFrame(schema={c: pl.String for c in cols})
    return frames


def _relocate(errors, ctx: _Ctx, source: str) -> list[InputError]:
    """Canonical validation errors (file ``NAME (data frame)``, row = frame position) ->
    the FHIR file, entry / line and element path they came from."""
    out = []
    for e in errors:
        table = e.file[: -len(FRAME_SUFFIX)] if e.file.endswith(FRAME_SUFFIX) else e.file
        prov = ctx.prov.get(table)
        if prov and e.row is not None and 1 <= e.row <= len(prov):
            p = prov[e.row - 1]
            col = p.paths.get(e.column or "", p.base) if e.column else p.base
            out.append(InputError(p.file, p.row, e.subject_id or p.subject_id, col, e.value, e.expected, e.code))
        else:
            out.append(InputError(source, None, e.subject_id, e.column, e.value, e.expected, e.code))
    return out


def _guarded(ctx: _Ctx, it: _Item, read) -> None:
    """``read(it, resource)``; an element of the wrong JSON shape that the reader trips
    over (a string where FHIR has an object, a list where it has a value: NDJSON is not
    model-validated) is a located input error of that resource, never a traceback (issue 14
    item 7).  Rows the resource had already added are taken back."""
    sizes = {name: len(rows) for name, rows in ctx.rows.items()}
    try:
        read(it, it.resource)
    except (AttributeError, TypeError, KeyError, ValueError, IndexError) as exc:
        for name, n in sizes.items():
            del ctx.rows[name][n:]
            del ctx.prov[name][n:]
        ctx.error(it, _subject_hint(it.resource) if isinstance(it.resource, dict) else None, it.resource.get("resourceType"),
                  None, f"a FHIR R4 {it.resource.get('resourceType')} whose elements have their FHIR JSON types "
                  f"({type(exc).__name__}: {str(exc)[:120]})", "fhir_invalid")  # fmt: skip


def read_fhir(
    path: str | Path,
    *,
    criteria: str | None = None,
    skip_invalid: bool = False,
    validate_models: bool | None = None,
    ignore_unknown_files: bool = False,
) -> FhirImport:
    """Read a FHIR R4 Bundle (``.json``), an NDJSON file (``.ndjson``) or a folder of them
    into the canonical tables, validated by :func:`remission.io.from_frames`.

    ``validate_models``: validate each resource of a Bundle with the fhir.resources R4B
    models (default True for Bundles; NDJSON always takes the fast path).  Raises
    :class:`InputErrors` with every located error unless ``skip_invalid`` (then the subjects
    named in errors are left out and listed in ``errors``)."""
    path = Path(path)
    ctx = _Ctx()
    if not path.exists():
        raise InputErrors([InputError(path.name, None, None, None, str(path), "an existing file or folder", "missing_file")])
    items = list(_items(path, ctx, validate_models, ignore_unknown_files))
    reader = _Reader(ctx)
    for it in items:
        rt = it.resource["resourceType"]
        ctx.mark = len(ctx.errors)
        if rt == "Patient":
            _guarded(ctx, it, reader.patient)
        elif rt == "BodyStructure":
            _guarded(ctx, it, reader.body_structure)
    for it in items:
        rt = it.resource["resourceType"]
        ctx.mark = len(ctx.errors)
        if rt == "Condition":
            _guarded(ctx, it, reader.condition)
        elif rt == "Observation":
            _guarded(ctx, it, reader.observation)
        elif rt in ("Procedure", "MedicationAdministration", "MedicationRequest"):
            _guarded(ctx, it, reader.treatment)
        elif rt not in ("Patient", "BodyStructure"):
            ctx.skip(it, _subject_hint(it.resource), "resourceType", rt, "one of " + ", ".join(READ_TYPES) + "; resource not used")
    frames = _frames(ctx, reader)
    errors = list(ctx.errors)
    dataset = None
    try:
        dataset, _ = from_frames(**frames, criteria=criteria)
    except InputErrors as exc:
        errors += _relocate(exc.errors, ctx, path.name)
    if not errors:
        return FhirImport(dataset, frames, ctx.unmapped)
    if not skip_invalid or any(e.subject_id is None for e in errors):
        raise InputErrors(errors)
    bad = {e.subject_id for e in errors}
    kept = {name: f.filter(~pl.col("subject_id").is_in(list(bad))) for name, f in frames.items()}
    try:
        dataset, _ = from_frames(**kept, criteria=criteria)
    except InputErrors as exc:  # pragma: no cover - errors are per subject, so none remain
        raise InputErrors(errors + list(exc.errors))
    return FhirImport(dataset, kept, ctx.unmapped, sorted(set(errors), key=lambda e: (e.file, e.row or 0)))
