"""The ``remission`` command line (spec/tables.md "Commands")."""

from __future__ import annotations

import datetime as dt
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from remission import schema as S
from remission.errors import InputErrors

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Standards-based, explainable remission status from cancer test results over time. "
    "It reports what the response criteria say the data show; it never gives treatment advice.",
)
console = Console()
if not console.is_terminal or console.width < 130:  # files and narrow pipes: keep rows on one line
    console = Console(width=130)
err_console = Console(stderr=True)


class Format(str, Enum):
    csv = "csv"
    parquet = "parquet"


def _parse_date(value: Optional[str]) -> Optional[dt.date]:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO date (YYYY-MM-DD)")


def _report_errors(exc: InputErrors, out: Optional[Path] = None, hint: Optional[str] = None) -> None:
    from rich.markup import escape

    err_console.print(f"[bold red]{len(exc.errors)} input error(s)[/]; no outputs written.")
    table = Table("file", "row", "subject", "column", "value", "expected", show_lines=False)
    for e in exc.errors[:100]:
        # the cells are data, never markup (a value "[rano2]" must show as written)
        cells = (e.file, "" if e.row is None else str(e.row), e.subject_id or "", e.column or "",
                 "" if e.value is None else str(e.value), e.expected)  # fmt: skip
        table.add_row(*(escape(c) for c in cells))
    err_console.print(table)
    if len(exc.errors) > 100:
        err_console.print(f"... and {len(exc.errors) - 100} more.")
    err_console.print(escape(hint) if hint else "Fix the input, or run with --skip-invalid to process the valid subjects "
                      "and list the invalid ones in errors.csv.")


#: rows of the console summary table; the full table is the summary file written
SUMMARY_ROWS = 20
AS_OF_HELP = ("Status as of this date (YYYY-MM-DD). Default: the latest date in the data; overdue "
              "follow-ups are then shown against today.")


def _summary_table(result, full_table: Optional[Path] = None, rows: int = SUMMARY_ROWS) -> Table:
    """The first ``rows`` subjects, then a count of the others and where the full table is."""
    s = result.summary.head(rows)
    ep = result.episodes.join(s.select("subject_id"), on="subject_id", how="semi").group_by("subject_id").agg(
        episodes=pl.len(), qualified=pl.col("qualified").sum()
    )
    s = s.join(ep, on="subject_id", how="left")
    more = result.summary.height - s.height
    caption = None
    if more > 0:
        caption = f"... and {more} more subjects" + (f": the full table is {full_table}" if full_table else "")
    table = Table(title=f"Remission status as of {result.as_of}", header_style="bold", caption=caption)
    for col in ("subject", "criteria", "best", "confirmed", "status", "status date", "remissions", "next check-up due"):
        table.add_column(col, no_wrap=True)
    for row in s.iter_rows(named=True):
        table.add_row(
            row["subject_id"],
            row["criteria"] or "",
            row["best_response"] or "",
            row["confirmed_best_response"] or "",
            (row["status"] or "").replace("_", " "),
            str(row["status_date"] or ""),
            f"{row['qualified'] or 0} of {row['episodes'] or 0}",
            str(row["next_followup_due"] or ""),
        )
    return table


@app.command()
def assess(
    dataset: Path = typer.Argument(..., help="Dataset folder with subjects.csv (and lesions, treatments, ...)."),
    out: Path = typer.Option(..., "--out", help="Folder for assessments, episodes and summary."),
    criteria: Optional[str] = typer.Option(None, "--criteria", help="Force one criterion for every subject."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help=AS_OF_HELP),
    fmt: Format = typer.Option(Format.csv, "--format", help="Output format."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Process valid subjects; list the invalid ones in errors.csv."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not print the summary table."),
    batch_size: Optional[int] = typer.Option(
        None, "--batch-size", min=1,
        help="Subjects per batch for inputs larger than memory (default: automatic from the input size; docs/scale.md).",
    ),
    workers: Optional[int] = typer.Option(
        None, "--workers", min=1,
        help="Processes assessing batches side by side (default: one per CPU core when the input is batched).",
    ),
    options_file: Optional[Path] = typer.Option(
        None, "--options", metavar="FILE",
        help="TOML file of options: one table per criterion code ([rano2], [\"recist1.1\"], ...), [remission] "
        "and [followup] (docs/options.md). Command-line flags win over the file.",
    ),
) -> None:
    """Assess a dataset: per-assessment responses, remission episodes and a summary per subject."""
    from remission.options import AssessOptions, options_from_toml

    if criteria is not None and criteria.lower() not in S.CRITERIA_CODES:
        raise typer.BadParameter(f"unknown criteria {criteria!r}; known: {', '.join(S.CRITERIA_CODES)}")
    given = dict(criteria=criteria.lower() if criteria else None, as_of=_parse_date(as_of), skip_invalid=skip_invalid or None)
    try:
        options = options_from_toml(options_file, **given) if options_file is not None else AssessOptions(
            **{k: v for k, v in given.items() if v is not None}
        )
    except InputErrors as exc:
        _report_errors(exc, hint="Fix the options file (docs/options.md lists every table and key).")
        raise typer.Exit(2)
    from remission.batching import run_cli

    try:
        paths, result, errors = run_cli(dataset, out, fmt.value, options, batch_size, err_console, workers=workers)
    except InputErrors as exc:
        _report_errors(exc)
        raise typer.Exit(2)
    # the options of the run, echoed beside its outputs (every value, defaults included)
    echo = Path(out) / "options.json"
    echo.write_text(options.model_dump_json(indent=2) + "\n", encoding="utf-8")
    paths = list(paths) + [echo]
    if not quiet and result is not None:
        summary_file = next((p for p in paths if Path(p).stem == "summary"), None)
        console.print(_summary_table(result, summary_file))
    if errors:
        err_console.print(f"[yellow]{len(errors)} input error(s); invalid subjects skipped, see {out / 'errors.csv'}[/]")
    console.print("Wrote " + ", ".join(str(p) for p in paths))
    console.print("[dim]This reports what the response criteria say the data show. It is not medical advice.[/]")


def _file_map(items: list[str]) -> dict[str, str]:
    """``--file DOMAIN=FILE`` options as a mapping (domain in lower case)."""
    files = {}
    for item in items:
        if "=" not in item:
            raise typer.BadParameter(f"--file {item!r}: expected DOMAIN=FILE")
        dom, name = item.split("=", 1)
        files[dom.strip().lower()] = name.strip()
    return files


class AdamFormat(str, Enum):
    csv = "csv"
    xpt = "xpt"
    json = "json"
    parquet = "parquet"


class Reference(str, Enum):
    RANDDT = "RANDDT"
    TRTSDT = "TRTSDT"


class Source(str, Enum):
    rs = "rs"
    tr = "tr"


@app.command()
def adam(
    sdtm_dir: Path = typer.Argument(..., help="Folder with SDTM RS, TR, TU, DM (+SUPP--) as .csv, .parquet, .xpt or Dataset-JSON."),
    out: Path = typer.Option(..., "--out", help="Folder for adrs and adtte."),
    adsl: Optional[Path] = typer.Option(None, "--adsl", help="ADSL file (default: adsl.* in SDTM_DIR, else built from DM/DS)."),
    reference: Reference = typer.Option(Reference.RANDDT, "--reference", help="Reference date variable of ADSL."),
    confirm_days: int = typer.Option(28, "--confirm-days", "--confirmation-days", min=1, help="Confirmation period in days."),
    sd_min_days: int = typer.Option(42, "--sd-min-days", min=0, help="Stable disease minimum duration in days."),
    max_ne_between: int = typer.Option(1, "--max-ne-between", min=0, help="NE assessments tolerated before confirmation."),
    accept_sd_between: bool = typer.Option(False, "--accept-sd-between", "--accept-sd", help="Accept one SD between a PR and its confirmation."),
    failed_cr_as_pr: bool = typer.Option(
        True, "--failed-cr-as-pr/--no-failed-cr-as-pr",
        help="Confirmed BOR: a CR failing CR confirmation may be a confirmed PR (recist11.md §5.4, as assess). "
        "--no-failed-cr-as-pr is admiralonco's cbor_pr event.",
    ),
    source: Source = typer.Option(Source.rs, "--from", help="rs: stated OVRLRESP; tr: derived from TR/TU lesions (RECIST 1.1)."),
    evaluator: str = typer.Option("INVESTIGATOR", "--evaluator", help="RSEVAL/TREVAL to use."),
    fmt: AdamFormat = typer.Option(AdamFormat.csv, "--format", help="csv, parquet, xpt (SAS transport v5) or json (Dataset-JSON)."),
    file: list[str] = typer.Option([], "--file", help="DOMAIN=FILE for a domain file not named after its domain, e.g. rs=rs_onco_recist.csv (repeatable)."),
) -> None:
    """Derive ADaM ADRS and ADTTE from SDTM, with admiralonco's parameters and rules."""
    from remission.adam import adam as run

    files = _file_map(file)
    try:
        result = run(
            sdtm_dir, out, adsl=adsl, reference=reference.value, confirm_days=confirm_days,
            sd_min_days=sd_min_days, max_ne_between=max_ne_between, accept_sd_between=accept_sd_between, source=source.value,
            failed_cr_as_pr=failed_cr_as_pr,
            evaluator=evaluator, fmt=fmt.value, files=files or None, keep_adrs=False,
        )
    except InputErrors as exc:
        _report_errors(exc)
        raise typer.Exit(2)
    console.print(f"ADRS: {result.adrs_records} records for {result.adrs_subjects} subjects; ADTTE: {result.adtte.height} records.")
    if result.warnings:
        err_console.print(f"[yellow]{len(result.warnings)} record(s) could not be analysed; see {out / 'warnings.csv'}[/]")
    console.print("Wrote " + ", ".join(str(p) for p in result.files))


def _assess_for_report(dataset: Path, as_of: Optional[str]):
    """Assess a dataset and return (result, treatments as known on the as-of date) for the
    explain / report commands; input errors exit with code 2 as in ``assess``."""
    from remission.batching import progress_bar
    from remission.io import load_dataset
    from remission.options import AssessOptions
    from remission.pipeline import assess as run
    from remission.pipeline import cut_at

    options = AssessOptions(as_of=_parse_date(as_of))
    try:
        ds, _ = load_dataset(dataset)
        with progress_bar(err_console) as progress:
            result = run(ds, options, progress=progress)
    except InputErrors as exc:
        _report_errors(exc)
        raise typer.Exit(2)
    treatments = cut_at(ds, result.as_of).treatments if result.as_of is not None else ds.treatments
    return result, treatments


@app.command()
def explain(
    dataset: Path = typer.Argument(..., help="Dataset folder with subjects.csv (and lesions, treatments, ...)."),
    subject: str = typer.Argument(..., help="Subject id."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help=AS_OF_HELP),
) -> None:
    """Print a plain-language summary of one subject's results."""
    from remission.explain import patient_summary

    result, _ = _assess_for_report(dataset, as_of)
    if result.summary.filter(pl.col("subject_id") == subject).height == 0:
        err_console.print(f"[bold red]Subject {subject!r} is not in {dataset}.[/]")
        raise typer.Exit(2)
    typer.echo(patient_summary(result, subject))


class CiMethodChoice(str, Enum):
    loglog = "log-log"
    log = "log"


@app.command()
def report(
    dataset: Path = typer.Argument(..., help="Dataset folder with subjects.csv (and lesions, treatments, ...)."),
    out: Path = typer.Option(Path("report.html"), "--out", help="HTML file to write."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help=AS_OF_HELP),
    ci_method: CiMethodChoice = typer.Option(CiMethodChoice.loglog, "--ci-method",
                                             help="Kaplan-Meier CI transform: log-log (SAS) or log (R survival)."),
    subjects: Optional[str] = typer.Option(
        None, "--subjects", metavar="ID,ID,...",
        help="Write the sections of these subjects only (comma-separated ids); the cohort part covers everyone.",
    ),
    cohort_only: bool = typer.Option(False, "--cohort-only", help="Write the cohort part only (no subject sections)."),
) -> None:
    """Write one self-contained HTML report: cohort statistics and plots, then each subject
    (sections are written one at a time; for large cohorts use --cohort-only or --subjects)."""
    from remission.batching import progress_bar
    from remission.report.html import write_report

    if subjects is not None and cohort_only:
        raise typer.BadParameter("--subjects and --cohort-only exclude each other")
    wanted = [s.strip() for s in subjects.split(",") if s.strip()] if subjects is not None else None
    result, treatments = _assess_for_report(dataset, as_of)
    if wanted is not None:
        known = set(result.summary["subject_id"].to_list())
        unknown = [s for s in wanted if s not in known]
        if unknown or not wanted:
            err_console.print(f"[bold red]--subjects: not in {dataset}: {', '.join(unknown) or '(none given)'}[/]; "
                              "no report written.")
            raise typer.Exit(2)
    today = result.as_of if as_of is not None else None
    with progress_bar(err_console, "Writing report") as progress:
        path = write_report(result, out, progress=progress, ci_method=ci_method.value, treatments=treatments,
                            subjects=wanted, cohort_only=cohort_only, today=today)
    console.print(f"Report written to {path.resolve()}")
    console.print("[dim]This reports what the response criteria say the data show. It is not medical advice.[/]")


# --- web service (docs/service.md; contract ../shared/spec/service.md) -------------------

db_app = typer.Typer(no_args_is_help=True, help="The service database (REMISSION_DATABASE_URL, else ./remission.db).")
users_app = typer.Typer(no_args_is_help=True, help="Service accounts and clinician-patient assignments.")
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")


class Role(str, Enum):
    admin = "admin"
    clinician = "clinician"
    patient = "patient"


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
) -> None:
    """Start the web service (API under /api, pages at /); the database is migrated first."""
    import uvicorn

    from remission.service.app import create_app

    uvicorn.run(create_app(), host=host, port=port, proxy_headers=False, server_header=False, log_level="info")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations to the configured database."""
    from remission.service.db import upgrade

    console.print(f"Database {upgrade()} is at the latest schema.")


@users_app.command("add")
def users_add(
    username: str = typer.Argument(..., help="Account name."),
    role: Role = typer.Option(..., "--role", help="admin, clinician or patient."),
    patient: Optional[str] = typer.Option(None, "--patient", help="SUBJECT_ID a patient account is bound to."),
) -> None:
    """Create an account; the password is read from standard input (one line)."""
    from remission.service import auth
    from remission.service.db import make_engine, make_sessionmaker, upgrade

    password = sys.stdin.readline().rstrip("\r\n")
    upgrade()
    engine = make_engine()
    try:
        with make_sessionmaker(engine)() as session, session.begin():
            auth.add_user(session, username, password, role.value, patient)
    except auth.AccountError as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(2)
    finally:
        engine.dispose()
    console.print(f"Added {role.value} {username}" + (f" (subject {patient})" if patient else "") + ".")


@users_app.command("assign")
def users_assign(
    clinician: str = typer.Argument(..., help="The clinician's username."),
    subject_id: str = typer.Argument(..., help="The patient's subject_id."),
) -> None:
    """Give a clinician a patient."""
    from remission.service import auth
    from remission.service.db import make_engine, make_sessionmaker, upgrade

    upgrade()
    engine = make_engine()
    try:
        with make_sessionmaker(engine)() as session, session.begin():
            auth.assign(session, clinician, subject_id)
    except auth.AccountError as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(2)
    finally:
        engine.dispose()
    console.print(f"Assigned {subject_id} to {clinician}.")


@app.command("import")
def import_(
    dataset: Path = typer.Argument(..., help="Canonical dataset folder (or SDTM folder with --sdtm)."),
    sdtm: bool = typer.Option(False, "--sdtm", help="DATASET is an SDTM folder (DM, RS, TR, TU)."),
) -> None:
    """Import a dataset into the service database in one transaction (all or nothing)."""
    from remission.service import audit, importer
    from remission.service.db import make_engine, make_sessionmaker, upgrade

    upgrade()
    engine = make_engine()
    sessions = make_sessionmaker(engine)
    try:
        report = importer.import_dataset(sessions, dataset, sdtm=sdtm)
    except InputErrors as exc:
        _report_errors(exc)
        raise typer.Exit(2)
    audit.record(sessions, action="import", resource=f"remission import {dataset}", subject_ids=report.changed or [None],
                 client="cli", detail=f"{len(report.changed)} changed, {report.unchanged} unchanged")
    engine.dispose()
    console.print(f"Imported {report.subjects} subject(s) as of {report.as_of}: {len(report.changed)} changed "
                  f"({report.rows} rows written), {report.unchanged} unchanged.")


# --- FHIR (mCODE) and OMOP (issue 8; docs/fhir.md) -------------------------------------

fhir_app = typer.Typer(no_args_is_help=True, help="HL7 FHIR R4 (mCODE STU4) in and out.")
app.add_typer(fhir_app, name="fhir")


class FhirFormat(str, Enum):
    bundle = "bundle"
    ndjson = "ndjson"


class BundleType(str, Enum):
    collection = "collection"
    transaction = "transaction"


class McodeValueSet(str, Enum):
    max = "max"
    preferred = "preferred"


@fhir_app.command("export")
def fhir_export(
    dataset: Path = typer.Argument(..., help="Dataset folder (subjects.csv, lesions.csv, ...)."),
    out: Path = typer.Option(..., "--out", help="Output file (.json for a Bundle, .ndjson for NDJSON)."),
    fmt: FhirFormat = typer.Option(FhirFormat.bundle, "--format", help="bundle or ndjson."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help=AS_OF_HELP),
    bundle_type: BundleType = typer.Option(BundleType.collection, "--bundle-type", help="collection or transaction."),
    value_set: McodeValueSet = typer.Option(McodeValueSet.max, "--value-set", help="max (default) or preferred value codes."),
    results_only: bool = typer.Option(False, "--results-only", help="Only Patient, Condition and CancerDiseaseStatus; not the input data."),
    criteria: Optional[str] = typer.Option(None, "--criteria", help="Force one criterion for every subject."),
) -> None:
    """Assess a dataset and write mCODE CancerDiseaseStatus Observations and Conditions (and the input data)."""
    from remission.fhir.export import export as run
    from remission.options import AssessOptions

    options = AssessOptions(criteria=criteria.lower() if criteria else None, as_of=_parse_date(as_of))
    try:
        summary = run(dataset, out, fmt=fmt.value, bundle_type=bundle_type.value, options=options,
                      value_set=value_set.value, include_data=not results_only)
    except InputErrors as exc:
        _report_errors(exc)
        raise typer.Exit(2)
    console.print(f"Wrote {summary.path}: {summary.resources} resources ({summary.observations} Observations) "
                  f"for {summary.subjects} subjects.")


@fhir_app.command("import")
def fhir_import(
    file: Path = typer.Argument(..., help="FHIR Bundle (.json), NDJSON file (.ndjson) or a folder of them."),
    out: Path = typer.Option(..., "--out", help="Folder for the canonical CSV tables."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Keep the valid subjects; list the invalid ones in errors.csv."),
) -> None:
    """Read FHIR resources into the canonical tables (subjects.csv, lesions.csv, ...); unmapped ones go to unmapped.csv."""
    from remission.fhir.import_ import read_fhir

    try:
        imp = read_fhir(file, skip_invalid=skip_invalid)
    except InputErrors as exc:
        _report_errors(exc)
        raise typer.Exit(2)
    paths = imp.write(out)
    if imp.unmapped:
        err_console.print(f"[yellow]{len(imp.unmapped)} resource(s) or element(s) not used; see {out / 'unmapped.csv'}[/]")
    if imp.errors:
        err_console.print(f"[yellow]{len(imp.errors)} input error(s); invalid subjects skipped, see {out / 'errors.csv'}[/]")
    console.print("Wrote " + ", ".join(str(p) for p in paths))


@app.command("omop")
def omop(
    dataset: Path = typer.Argument(..., help="Dataset folder (subjects.csv, lesions.csv, ...)."),
    out: Path = typer.Option(..., "--out", help="Folder for episode.csv, episode_event.csv, assessment_events.csv."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help=AS_OF_HELP),
) -> None:
    """Write OMOP CDM v5.4 EPISODE / EPISODE_EVENT rows (oncology disease-dynamic episodes)."""
    from remission.io import load_dataset
    from remission.omop import write_omop
    from remission.options import AssessOptions
    from remission.pipeline import assess as run

    options = AssessOptions(as_of=_parse_date(as_of))
    try:
        ds, _ = load_dataset(dataset)
        result = run(ds, options)
    except InputErrors as exc:
        _report_errors(exc)
        raise typer.Exit(2)
    deaths = ds.subjects.filter(pl.col("death_date").is_not_null() & (pl.col("death_date") <= pl.lit(result.as_of)))
    paths = write_omop(result, out, death_dates=deaths.select("subject_id", "death_date"))
    console.print("Wrote " + ", ".join(str(p) for p in paths))


@app.command("adam-lugano")
def adam_lugano(
    sdtm_dir: Path = typer.Argument(..., help="Folder with SDTM RS (Lugano 2014 OVRLRESP per modality) and DM/DS or ADSL."),
    out: Path = typer.Option(..., "--out", help="Folder for adrs_lugano.csv."),
    adsl: Optional[Path] = typer.Option(None, "--adsl", help="ADSL file (default: adsl.* in SDTM_DIR, else built from DM/DS)."),
    reference: Reference = typer.Option(Reference.RANDDT, "--reference", help="Reference date variable of ADSL."),
    primary: str = typer.Option("PET", "--primary", help="Primary modality for the combined response: PET or CT."),
    evaluator: str = typer.Option("INVESTIGATOR", "--evaluator", help="RSEVAL to use."),
    file: list[str] = typer.Option([], "--file", help="DOMAIN=FILE, e.g. rs=rs_onco_lymphoma.csv (repeatable)."),
) -> None:
    """Lugano 2014 per-visit and best responses (PET, CT, combined) from SDTM RS."""
    from remission.adam.lymphoma import derive_adrs_lugano

    files = _file_map(file)
    if primary.upper() not in ("PET", "CT"):
        raise typer.BadParameter("--primary must be PET or CT")
    try:
        adrs, notes = derive_adrs_lugano(
            sdtm_dir, adsl, reference=reference.value, primary_modality=primary.upper(), evaluator=evaluator, files=files or None
        )
    except InputErrors as exc:
        _report_errors(exc)
        raise typer.Exit(2)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "adrs_lugano.csv"
    adrs.write_csv(path)
    written = [path]
    if notes:
        wpath = out / "warnings.csv"
        from remission.errors import errors_frame

        errors_frame(notes).write_csv(wpath)
        written.append(wpath)
        err_console.print(f"[yellow]{len(notes)} record(s) could not be analysed; see {wpath}[/]")
    console.print("Wrote " + ", ".join(str(p) for p in written))


@app.command("adam-irecist")
def adam_irecist_cmd(
    sdtm_dir: Path = typer.Argument(..., help="Folder with SDTM RS (iRECIST OVRLRESP codes) and DM/DS or an ADSL."),
    out: Path = typer.Option(..., "--out", help="Folder for adrs."),
    adsl: Optional[Path] = typer.Option(None, "--adsl", help="ADSL file (default: adsl.* in SDTM_DIR, else built from DM/DS)."),
    reference: Reference = typer.Option(Reference.RANDDT, "--reference", help="Reference date variable of ADSL."),
    confirm_days: int = typer.Option(28, "--confirm-days", "--confirmation-days", min=1, help="Confirmation period in days."),
    sd_min_days: int = typer.Option(42, "--sd-min-days", min=0, help="iSD minimum duration in days."),
    evaluator: str = typer.Option("INVESTIGATOR", "--evaluator", help="RSEVAL to use."),
    fmt: AdamFormat = typer.Option(AdamFormat.csv, "--format", help="csv, xpt or json."),
    file: list[str] = typer.Option([], "--file", help="DOMAIN=FILE, e.g. rs=rs_onco_irecist.csv (repeatable)."),
) -> None:
    """Derive an iRECIST ADRS (ICPD, IUPD, IRSP, ICB, IBOR, ICRSP, ICCB, ICBOR) as admiralonco's iRECIST vignette."""
    from remission.adam.irecist import adam_irecist

    files = _file_map(file)
    try:
        result = adam_irecist(
            sdtm_dir, out, adsl=adsl, reference=reference.value, confirm_days=confirm_days,
            sd_min_days=sd_min_days, evaluator=evaluator, fmt=fmt.value, files=files or None,
        )
    except InputErrors as exc:
        _report_errors(exc)
        raise typer.Exit(2)
    n = result.adrs.get_column("USUBJID").n_unique() if result.adrs.height else 0
    console.print(f"ADRS (iRECIST): {result.adrs.height} records for {n} subjects.")
    console.print("Wrote " + ", ".join(str(p) for p in result.files))


def main() -> None:  # console-script entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
