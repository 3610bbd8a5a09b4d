"""The ``remission`` command line (spec/tables.md "Commands").

Help is plain text (``rich_markup_mode=None``): a help string is shown as written, so
``[rano2]`` and ``[remission]`` stay visible, and every argument and option names its value
with an explicit metavar (``DATASET``, ``DIR``, ``DOMAIN=FILE``) instead of the type labels
that typer's defaults change between releases.  Each command ends its help with an example.
Shell completion: ``remission --install-completion`` (README "Shell completion").
"""

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
from typer.core import TyperCommand

from remission import __version__
from remission import schema as S
from remission.errors import InputErrors
from remission.extras import MissingExtra, require


class _Command(TyperCommand):
    """A command whose usage line and argument list show each metavar as written
    (``remission assess [OPTIONS] DATASET``), without typer's type labels."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = param.metavar or param.name.upper()
                pieces.append(name if param.required else f"[{name}]")
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces

    def format_options(self, ctx, formatter) -> None:
        args, opts = [], []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                help = (param.help or "") + ("  [required]" if param.required else "")
                args.append((param.metavar or param.name.upper(), help))
            else:
                record = param.get_help_record(ctx)
                if record is not None:
                    opts.append(record)
        if args:
            with formatter.section("Arguments"):
                formatter.write_dl(args)
        if opts:
            with formatter.section("Options"):
                formatter.write_dl(opts)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"remission {__version__}")
        raise typer.Exit()


#: exit code of an internal error (BSD sysexits EX_SOFTWARE); input errors exit with 2
EXIT_INTERNAL = 70


class _Guarded(typer.core.TyperGroup):
    """Issue 14 item 7: an internal error (anything but an input error or a click exit) is
    one line on stderr saying what failed and where to report it, exit code 70; the
    traceback only with ``--debug`` (given before or after the command name) or
    ``REMISSION_DEBUG=1``."""

    def parse_args(self, ctx, args):
        if "--debug" in args[1:]:
            end = args.index("--") if "--" in args else len(args)
            if "--debug" in args[1:end]:
                args = [a for i, a in enumerate(args) if not (a == "--debug" and 0 < i < end)]
                ctx.meta["remission.debug"] = True
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        import os

        from typer._click.exceptions import ClickException
        from typer.exceptions import Abort, Exit

        try:
            return super().invoke(ctx)
        except (Exit, Abort, ClickException, KeyboardInterrupt):
            raise
        except InputErrors as exc:  # a command that did not report its own input errors
            _report_errors(exc)
            raise Exit(2)
        except Exception as exc:
            if ctx.meta.get("remission.debug") or os.environ.get("REMISSION_DEBUG") == "1":
                raise
            command = ctx.invoked_subcommand or ctx.info_name
            what = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            sys.stderr.write(
                f"remission {command}: internal error ({what}). This is a bug in remission, not a problem "
                "in your input: please report it to the remission maintainers (issue tracker) with the "
                "command line; rerun with --debug for the traceback.\n"
            )
            raise Exit(EXIT_INTERNAL)


app = typer.Typer(
    cls=_Guarded,
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Standards-based, explainable remission status from cancer test results over time. "
    "It reports what the response criteria say the data show; it never gives treatment advice.",
)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show the Python traceback of an internal error (exit code 70)."),
) -> None:
    """Standards-based, explainable remission status from cancer test results over time.
    It reports what the response criteria say the data show; it never gives treatment advice."""
    if debug:
        from typer._click.globals import get_current_context

        get_current_context().meta["remission.debug"] = True


def _example(*lines: str) -> str:
    """A help epilog: one example per line, kept as written (click's \\b marker)."""
    head = "Example:" if len(lines) == 1 else "Examples:"
    return "\b\n" + head + "\n" + "\n".join("  " + line for line in lines)


def _need(extra: str, command: str) -> None:
    """Exit with code 1 and one line naming the extra to install when ``command`` needs a
    missing one (remission.extras)."""
    try:
        require(extra, f"remission {command}")
    except MissingExtra as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1)


console = Console()
if not console.is_terminal or console.width < 130:  # files and narrow pipes: keep rows on one line
    console = Console(width=130)
# an error table sent to a file or a pipe is never wrapped (issue 14 item 5)
err_console = Console(stderr=True) if Console(stderr=True).is_terminal else Console(stderr=True, width=100_000)




def _record(out: Path, outputs, inputs=(), as_of=None, shown_as: Path | None = None) -> Path:
    """``run.json`` in ``out`` (remission.provenance): this command, its options, inputs, outputs."""
    try:  # typer >= 0.2x runs its own copy of click
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - older typer on click
        from click import get_current_context
    from remission.provenance import write_run_record

    ctx = get_current_context()
    names, c = [], ctx
    while c.parent is not None:  # the subcommand names, without the program's own name
        names.append(c.info_name)
        c = c.parent
    command = " ".join(["remission", *reversed(names)])
    return write_run_record(out, command, ctx.params, as_of=as_of, inputs=inputs, outputs=outputs, shown_as=shown_as)


def _dataset_inputs(dataset: Path) -> list[Path]:
    """The table files a dataset folder is read from (not everything under it: a folder may
    hold sub-folders, documents and other data that ``assess`` never reads)."""
    from remission.io.layout import dataset_files

    if not Path(dataset).is_dir():
        return [Path(dataset)]
    found, _ = dataset_files(dataset, list(S.INPUT_TABLES), ignore_unknown=True, required=())
    return sorted(found.values())


def _sdtm_inputs(sdtm_dir: Path, files: dict, adsl: Optional[Path]) -> list[Path]:
    """The files ``remission adam`` reads from ``sdtm_dir`` (domain files, ``--file`` maps, ADSL)."""
    from remission.io.sdtm import DOMAINS, find_domain_files

    found, _ = find_domain_files(sdtm_dir) if Path(sdtm_dir).is_dir() else ({}, [])
    paths = [p for d, p in found.items() if d in DOMAINS and d not in files]
    for name in files.values():
        p = Path(name)
        paths.append(p if p.is_absolute() or p.exists() else Path(sdtm_dir) / p)
    if adsl is not None:
        paths.append(adsl)
    return paths


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
    labelled = any(e.label for e in exc.errors[:100])
    if labelled:  # issue 14 item 5: say which row convention each column uses
        err_console.print("row = data row (1-based, header not counted); at = where your tool shows it: "
                          "'line N' as a text editor numbers the CSV file's lines (header = line 1), "
                          "'index X' the data frame's index label.")  # fmt: skip
    heads = ("file", "row") + (("at",) if labelled else ()) + ("subject", "column", "value", "expected")
    table = Table(*heads, show_lines=False)
    for e in exc.errors[:100]:
        # the cells are data, never markup (a value "[rano2]" must show as written)
        cells = (e.file, "" if e.row is None else str(e.row)) + ((e.label or "",) if labelled else ()) + (
            e.subject_id or "", e.column or "", "" if e.value is None else str(e.value), e.expected)  # fmt: skip
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


@app.command(epilog=_example("remission assess my_study --out results --as-of 2025-06-30", "remission assess my_study --out results --format parquet --options study.toml"))
def assess(
    dataset: Path = typer.Argument(..., metavar="DATASET", help="Dataset folder with subjects.csv (and lesions, treatments, ...)."),
    out: Path = typer.Option(..., "--out", metavar="DIR", help="Folder for assessments, episodes and summary."),
    criteria: Optional[str] = typer.Option(None, "--criteria", metavar="CODE", help="Force one criterion for every subject."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="DATE", help=AS_OF_HELP),
    fmt: Format = typer.Option(Format.csv, "--format", metavar="csv|parquet", help="Output format."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Process valid subjects; list the invalid ones in errors.csv."),
    ignore_unknown_files: bool = typer.Option(
        False, "--ignore-unknown-files", help="Files of DATASET that are not known tables are not errors (docs/tables.md)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not print the summary table."),
    batch_size: Optional[int] = typer.Option(
        None, "--batch-size", min=1,
        metavar="N", help="Subjects per batch for inputs larger than memory (default: automatic from the input size; docs/scale.md).",
    ),
    workers: Optional[int] = typer.Option(
        None, "--workers", min=1,
        metavar="N", help="Processes assessing batches side by side (default: one per CPU core when the input is batched).",
    ),
    options_file: Optional[Path] = typer.Option(
        None, "--options", metavar="FILE",
        help="TOML file of options: one table per criterion code ([rano2], [\"recist1.1\"], ...), [remission] "
        "and [followup] (docs/options.md). Command-line flags win over the file.",
    ),
) -> None:
    """Assess a dataset: per-assessment responses, remission episodes and a summary per subject."""
    from remission.criteria import registry
    from remission.options import AssessOptions, options_from_toml, options_json

    if criteria is not None and criteria.lower() not in registry.codes():
        raise typer.BadParameter(f"unknown criteria {criteria!r}; known: {', '.join(registry.codes())}")
    given = dict(criteria=criteria.lower() if criteria else None, as_of=_parse_date(as_of), skip_invalid=skip_invalid or None,
                 ignore_unknown_files=ignore_unknown_files or None)
    try:
        options = options_from_toml(options_file, **given) if options_file is not None else AssessOptions(
            **{k: v for k, v in given.items() if v is not None}
        )
    except InputErrors as exc:
        _report_errors(exc, hint="Fix the options file (docs/options.md lists every table and key).")
        raise typer.Exit(2)
    from remission.batching import run_cli
    from remission.outdir import atomic_out, sigterm_as_exit

    # every file goes to a partial folder that replaces --out in one step at the end: a
    # failed, refused or killed run leaves the earlier complete run (or nothing)
    try:
        with sigterm_as_exit(), atomic_out(out) as work:
            paths, result, errors = run_cli(dataset, work, fmt.value, options, batch_size, err_console, workers=workers)
            # the options of the run, echoed beside its outputs (every value, defaults included)
            (work / "options.json").write_text(options_json(options), encoding="utf-8")
            # the run record, last, inside the partial folder: it is renamed with the outputs
            # it describes, so a run that did not finish leaves the earlier record (issue 16
            # item 11, issue 18 item 4)
            done = [Path(work) / Path(p).name for p in paths] + [Path(work) / "options.json"]
            as_of_used = result.as_of if result is not None else options.as_of
            _record(work, done, [*_dataset_inputs(dataset), options_file], as_of=as_of_used, shown_as=Path(out))
    except InputErrors as exc:
        _report_errors(exc)
        raise typer.Exit(2)
    paths = [Path(out) / Path(p).name for p in paths] + [Path(out) / "options.json", Path(out) / "run.json"]
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


@app.command(epilog=_example("remission adam sdtm/ --adsl sdtm/adsl.csv --file rs=rs_onco_recist.csv --out adam/"))
def adam(
    sdtm_dir: Path = typer.Argument(..., metavar="SDTM_DIR", help="Folder with SDTM RS, TR, TU, DM (+SUPP--) as .csv, .parquet, .xpt or Dataset-JSON."),
    out: Path = typer.Option(..., "--out", metavar="DIR", help="Folder for adrs and adtte."),
    adsl: Optional[Path] = typer.Option(None, "--adsl", metavar="FILE", help="ADSL file (default: adsl.* in SDTM_DIR, else built from DM/DS)."),
    reference: Reference = typer.Option(Reference.RANDDT, "--reference", metavar="RANDDT|TRTSDT", help="Reference date variable of ADSL."),
    confirm_days: int = typer.Option(28, "--confirm-days", "--confirmation-days", min=1, metavar="DAYS", help="Confirmation period in days."),
    sd_min_days: int = typer.Option(42, "--sd-min-days", min=0, metavar="DAYS", help="Stable disease minimum duration in days."),
    max_ne_between: int = typer.Option(1, "--max-ne-between", min=0, metavar="N", help="NE assessments tolerated before confirmation."),
    accept_sd_between: bool = typer.Option(False, "--accept-sd-between", "--accept-sd", help="Accept one SD between a PR and its confirmation."),
    failed_cr_as_pr: bool = typer.Option(
        True, "--failed-cr-as-pr/--no-failed-cr-as-pr",
        help="Confirmed BOR: a CR failing CR confirmation may be a confirmed PR (recist11.md §5.4, as assess). "
        "--no-failed-cr-as-pr is admiralonco's cbor_pr event.",
    ),
    source: Source = typer.Option(Source.rs, "--from", metavar="rs|tr", help="rs: stated OVRLRESP; tr: derived from TR/TU lesions (RECIST 1.1)."),
    evaluator: str = typer.Option("INVESTIGATOR", "--evaluator", metavar="NAME", help="RSEVAL/TREVAL to use."),
    fmt: AdamFormat = typer.Option(AdamFormat.csv, "--format", metavar="csv|parquet|xpt|json", help="csv, parquet, xpt (SAS transport v5) or json (Dataset-JSON)."),
    file: list[str] = typer.Option([], "--file", metavar="DOMAIN=FILE", help="A domain file not named after its domain, e.g. rs=rs_onco_recist.csv (repeatable)."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Leave out the subjects with input errors; list them in errors.csv."),
    encoding: str = typer.Option("utf-8", "--encoding", metavar="ENCODING", help="Text encoding of the CSV files (e.g. cp1252, latin-1)."),
    ignore_unknown_files: bool = typer.Option(
        False, "--ignore-unknown-files", help="Files that look like a needed domain but are not named as one are not errors."
    ),
) -> None:
    """Derive ADaM ADRS and ADTTE from SDTM, with admiralonco's parameters and rules."""
    from remission.adam import adam as run

    files = _file_map(file)
    try:
        result = run(
            sdtm_dir, out, adsl=adsl, reference=reference.value, confirm_days=confirm_days,
            sd_min_days=sd_min_days, max_ne_between=max_ne_between, accept_sd_between=accept_sd_between, source=source.value,
            failed_cr_as_pr=failed_cr_as_pr,
            evaluator=evaluator, fmt=fmt.value, files=files or None, keep_adrs=False, skip_invalid=skip_invalid,
            encoding=encoding, ignore_unknown_files=ignore_unknown_files,
        )
    except InputErrors as exc:
        _report_errors(exc)
        raise typer.Exit(2)
    result.files.append(_record(out, result.files, _sdtm_inputs(sdtm_dir, files, adsl)))
    adtr = f"; ADTR: {result.adtr.height} records" if result.adtr is not None else ""
    console.print(f"ADRS: {result.adrs_records} records for {result.adrs_subjects} subjects; ADTTE: {result.adtte.height} records{adtr}.")
    if result.errors:
        err_console.print(f"[yellow]{len(result.errors)} input error(s); invalid subjects skipped, see {out / 'errors.csv'}[/]")
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


@app.command(epilog=_example("remission explain my_study EX01 --as-of 2025-06-30"))
def explain(
    dataset: Path = typer.Argument(..., metavar="DATASET", help="Dataset folder with subjects.csv (and lesions, treatments, ...)."),
    subject: str = typer.Argument(..., metavar="SUBJECT_ID", help="Subject id."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="DATE", help=AS_OF_HELP),
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


@app.command(epilog=_example("remission report my_study --out report.html"))
def report(
    dataset: Path = typer.Argument(..., metavar="DATASET", help="Dataset folder with subjects.csv (and lesions, treatments, ...)."),
    out: Path = typer.Option(Path("report.html"), "--out", metavar="FILE", help="HTML file to write."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="DATE", help=AS_OF_HELP),
    ci_method: CiMethodChoice = typer.Option(CiMethodChoice.loglog, "--ci-method",
                                             metavar="log-log|log", help="Kaplan-Meier CI transform: log-log (SAS) or log (R survival)."),
    subjects: Optional[str] = typer.Option(
        None, "--subjects", metavar="ID,ID,...",
        help="Write the sections of these subjects only (comma-separated ids); the cohort part covers everyone.",
    ),
    cohort_only: bool = typer.Option(False, "--cohort-only", help="Write the cohort part only (no subject sections)."),
) -> None:
    """Write one self-contained HTML report: cohort statistics and plots, then each subject
    (sections are written one at a time; for large cohorts use --cohort-only or --subjects)."""
    _need("report", "report")
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


@app.command(epilog=_example("REMISSION_DATABASE_URL=sqlite:///remission.db remission serve --port 8000"))
def serve(
    host: str = typer.Option("127.0.0.1", "--host", metavar="ADDRESS", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, metavar="PORT", help="Port to listen on."),
    trusted_proxy: Optional[list[str]] = typer.Option(
        None, "--trusted-proxy", metavar="ADDRESS",
        help="Address or network of a reverse proxy whose X-Forwarded-Proto/-For are believed "
        "(repeatable; default: REMISSION_TRUSTED_PROXIES, else none)."),
) -> None:
    """Start the web service (API under /api, pages at /); the database is migrated first."""
    _need("service", "serve")
    import uvicorn

    from remission.service.app import create_app

    # the app applies the forwarded headers itself, only from the trusted proxies
    uvicorn.run(create_app(proxies=list(trusted_proxy) if trusted_proxy else None), host=host, port=port,
                proxy_headers=False, server_header=False, log_level="info")


@db_app.command("upgrade", epilog=_example("REMISSION_DATABASE_URL=sqlite:///remission.db remission db upgrade"))
def db_upgrade() -> None:
    """Apply the migrations to the configured database."""
    _need("service", "db upgrade")
    from remission.service.db import upgrade

    console.print(f"Database {upgrade()} is at the latest schema.")


@users_app.command("add", epilog=_example("printf '%s\\n' \"$PASSWORD\" | remission users add dr_lee --role clinician", "printf '%s\\n' \"$PASSWORD\" | remission users add ex01 --role patient --patient EX01"))
def users_add(
    username: str = typer.Argument(..., metavar="USERNAME", help="Account name."),
    role: Role = typer.Option(..., "--role", metavar="admin|clinician|patient", help="The account's role."),
    patient: Optional[str] = typer.Option(None, "--patient", metavar="SUBJECT_ID", help="The subject a patient account is bound to."),
) -> None:
    """Create an account; the password is read from standard input (one line)."""
    _need("service", "users add")
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


@users_app.command("assign", epilog=_example("remission users assign dr_lee EX01"))
def users_assign(
    clinician: str = typer.Argument(..., metavar="CLINICIAN", help="The clinician's username."),
    subject_id: str = typer.Argument(..., metavar="SUBJECT_ID", help="The patient's subject_id."),
) -> None:
    """Give a clinician a patient."""
    _need("service", "users assign")
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


def _accounts(action) -> None:
    """Run ``action(session)`` in one transaction on the configured database; an account
    error is a located message and exit 2."""
    from remission.service import auth
    from remission.service.db import make_engine, make_sessionmaker, upgrade

    upgrade()
    engine = make_engine()
    try:
        with make_sessionmaker(engine)() as session, session.begin():
            action(session)
    except auth.AccountError as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(2)
    finally:
        engine.dispose()


def _audit_account(what: str, username: str, detail: str) -> None:
    from remission.service import audit
    from remission.service.db import make_engine, make_sessionmaker

    engine = make_engine()
    try:
        audit.record(make_sessionmaker(engine), action="account", resource=f"remission users {what} {username}"[:255],
                     username=username, detail=detail)
    finally:
        engine.dispose()


@users_app.command("list", epilog=_example("remission users list"))
def users_list() -> None:
    """Every account: role, bound subject, active or not, assigned patients, live tokens."""
    from remission.service import auth

    table = Table("username", "role", "subject", "active", "assigned", "tokens")

    def show(session):
        for u in auth.list_users(session):
            table.add_row(u["username"], u["role"], u["subject_id"] or "", "yes" if u["active"] else "no",
                          " ".join(u["assigned"]), str(u["tokens"]))

    _accounts(show)
    console.print(table)


@users_app.command("deactivate", epilog=_example("remission users deactivate dr_lee"))
def users_deactivate(username: str = typer.Argument(..., metavar="USERNAME", help="Account name.")) -> None:
    """Deactivate an account: it can no longer sign in and its tokens stop working at once."""
    from remission.service import auth

    _accounts(lambda s: auth.set_active(s, username, False))
    _audit_account("deactivate", username, "deactivated; tokens revoked")
    console.print(f"Deactivated {username}; its tokens are revoked.")


@users_app.command("activate", epilog=_example("remission users activate dr_lee"))
def users_activate(username: str = typer.Argument(..., metavar="USERNAME", help="Account name.")) -> None:
    """Activate a deactivated account again (it signs in anew)."""
    from remission.service import auth

    _accounts(lambda s: auth.set_active(s, username, True))
    _audit_account("activate", username, "activated")
    console.print(f"Activated {username}.")


@users_app.command("reset-password", epilog=_example("printf '%s\\n' \"$PASSWORD\" | remission users reset-password dr_lee"))
def users_reset_password(username: str = typer.Argument(..., metavar="USERNAME", help="Account name.")) -> None:
    """Give an account a new password, read from standard input (one line); its tokens are
    revoked.  The password policy applies (12 characters or more, not the user name, not a
    common password)."""
    from remission.service import auth

    password = sys.stdin.readline().rstrip("\r\n")
    _accounts(lambda s: auth.reset_password(s, username, password))
    _audit_account("reset-password", username, "password reset; tokens revoked")
    console.print(f"New password set for {username}; its tokens are revoked.")


@users_app.command("unassign", epilog=_example("remission users unassign dr_lee EX01"))
def users_unassign(
    clinician: str = typer.Argument(..., metavar="CLINICIAN", help="The clinician's username."),
    subject_id: str = typer.Argument(..., metavar="SUBJECT_ID", help="The patient's subject_id."),
) -> None:
    """Take a patient from a clinician (access ends at the clinician's next request)."""
    from remission.service import auth

    done: list[bool] = []
    _accounts(lambda s: done.append(auth.unassign(s, clinician, subject_id)))
    _audit_account("unassign", clinician, f"unassigned {subject_id}"[:200])
    console.print(f"Unassigned {subject_id} from {clinician}." if done[0] else f"{subject_id} was not assigned to {clinician}.")


@app.command("import", epilog=_example("remission import my_study", "remission import sdtm/ --sdtm"))
def import_(
    dataset: Path = typer.Argument(..., metavar="DATASET", help="Canonical dataset folder (or SDTM folder with --sdtm)."),
    sdtm: bool = typer.Option(False, "--sdtm", help="DATASET is an SDTM folder (DM, RS, TR, TU)."),
    ignore_unknown_files: bool = typer.Option(
        False, "--ignore-unknown-files", help="Files of DATASET that are not known tables are not errors."
    ),
) -> None:
    """Import a dataset into the service database in one transaction (all or nothing)."""
    _need("service", "import")
    from remission.service import audit, importer
    from remission.service.db import make_engine, make_sessionmaker, upgrade

    upgrade()
    engine = make_engine()
    sessions = make_sessionmaker(engine)
    try:
        report = importer.import_dataset(sessions, dataset, sdtm=sdtm, ignore_unknown_files=ignore_unknown_files)
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


@fhir_app.command("export", epilog=_example("remission fhir export my_study --out bundle.json", "remission fhir export my_study --out resources.ndjson --format ndjson --results-only"))
def fhir_export(
    dataset: Path = typer.Argument(..., metavar="DATASET", help="Dataset folder (subjects.csv, lesions.csv, ...)."),
    out: Path = typer.Option(..., "--out", metavar="FILE", help="Output file (.json for a Bundle, .ndjson for NDJSON)."),
    fmt: FhirFormat = typer.Option(FhirFormat.bundle, "--format", metavar="bundle|ndjson", help="bundle or ndjson."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="DATE", help=AS_OF_HELP),
    bundle_type: BundleType = typer.Option(BundleType.collection, "--bundle-type", metavar="collection|transaction", help="collection or transaction."),
    value_set: McodeValueSet = typer.Option(McodeValueSet.max, "--value-set", metavar="max|preferred", help="max (default) or preferred value codes."),
    results_only: bool = typer.Option(False, "--results-only", help="Only Patient, Condition and CancerDiseaseStatus; not the input data."),
    criteria: Optional[str] = typer.Option(None, "--criteria", metavar="CODE", help="Force one criterion for every subject."),
    base_url: Optional[str] = typer.Option(None, "--base-url", metavar="URL", help="Bundle fullUrls as BASE/Type/id (default urn:uuid)."),
) -> None:
    """Assess a dataset and write mCODE CancerDiseaseStatus Observations and Conditions (and the input data)."""
    _need("fhir", "fhir export")
    from remission.fhir.export import export as run
    from remission.options import AssessOptions

    options = AssessOptions(criteria=criteria.lower() if criteria else None, as_of=_parse_date(as_of))
    try:
        summary = run(dataset, out, fmt=fmt.value, bundle_type=bundle_type.value, options=options,
                      value_set=value_set.value, include_data=not results_only, base_url=base_url)
    except InputErrors as exc:
        _report_errors(exc)
        raise typer.Exit(2)
    console.print(f"Wrote {summary.path}: {summary.resources} resources ({summary.observations} Observations) "
                  f"for {summary.subjects} subjects.")


@fhir_app.command("import", epilog=_example("remission fhir import bundle.json --out my_study"))
def fhir_import(
    file: Path = typer.Argument(..., metavar="SOURCE", help="FHIR Bundle (.json), NDJSON file (.ndjson) or a folder of them."),
    out: Path = typer.Option(..., "--out", metavar="DIR", help="Folder for the canonical CSV tables."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Keep the valid subjects; list the invalid ones in errors.csv."),
    ignore_unknown_files: bool = typer.Option(
        False, "--ignore-unknown-files", help="Files of a folder that are not .json/.ndjson are not errors."
    ),
) -> None:
    """Read FHIR resources into the canonical tables (subjects.csv, lesions.csv, ...); unmapped ones go to unmapped.csv."""
    _need("fhir", "fhir import")
    from remission.fhir.import_ import read_fhir

    try:
        imp = read_fhir(file, skip_invalid=skip_invalid, ignore_unknown_files=ignore_unknown_files)
    except InputErrors as exc:
        _report_errors(exc)
        raise typer.Exit(2)
    paths = imp.write(out)
    paths = list(paths) + [_record(out, paths, [file])]
    if imp.unmapped:
        err_console.print(f"[yellow]{len(imp.unmapped)} resource(s) or element(s) not used; see {out / 'unmapped.csv'}[/]")
    for e in imp.unmapped:
        if e.code == "unknown_cancer_code":  # never a silent default criterion (issue 16 item 6)
            err_console.print(f"[yellow]warning: {e.file} entry {e.row}, subject {e.subject_id}: unknown cancer code "
                              f"{e.value}; cancer_type left empty, default criteria apply unless set[/]", markup=True)
    if imp.errors:
        err_console.print(f"[yellow]{len(imp.errors)} input error(s); invalid subjects skipped, see {out / 'errors.csv'}[/]")
    console.print("Wrote " + ", ".join(str(p) for p in paths))


@app.command("omop", epilog=_example("remission omop my_study --out omop/"))
def omop(
    dataset: Path = typer.Argument(..., metavar="DATASET", help="Dataset folder (subjects.csv, lesions.csv, ...)."),
    out: Path = typer.Option(..., "--out", metavar="DIR", help="Folder for episode.csv (and episode_event.csv)."),
    person_map: Optional[Path] = typer.Option(
        None, "--person-map", metavar="FILE",
        help="CSV/Parquet of subject_id,person_id, or an OMOP PERSON table (person_source_value = subject_id).",
    ),
    assign_person_ids: bool = typer.Option(
        False, "--assign-person-ids", help="Without --person-map: number the persons 1..n over the sorted subject ids."
    ),
    measurement: Optional[Path] = typer.Option(None, "--measurement", metavar="FILE", help="OMOP MEASUREMENT rows of the assessments (episode events)."),
    observation: Optional[Path] = typer.Option(None, "--observation", metavar="FILE", help="OMOP OBSERVATION rows of the assessments (episode events)."),
    observation_field_concept_id: Optional[int] = typer.Option(
        None, "--observation-field-concept-id", metavar="ID",
        help="CDM field concept id of observation.observation_id (needed with --observation).",
    ),
    condition: Optional[Path] = typer.Option(
        None, "--condition", metavar="FILE",
        help="OMOP CONDITION_OCCURRENCE rows: the cancer's concept (episode_object_concept_id) and events.",
    ),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="DATE", help=AS_OF_HELP),
) -> None:
    """Write OMOP CDM v5.4 EPISODE / EPISODE_EVENT rows (oncology disease-dynamic episodes)."""
    from remission.errors import InputErrors as Errors
    from remission.io import load_dataset
    from remission.omop import read_omop_table, read_person_map, write_omop
    from remission.options import AssessOptions
    from remission.pipeline import assess as run

    options = AssessOptions(as_of=_parse_date(as_of))
    if person_map is not None and assign_person_ids:
        raise typer.BadParameter("give either --person-map or --assign-person-ids, not both")
    try:
        errors: list = []
        tables: dict = {}
        for key, path, table in (("measurements", measurement, "measurement"), ("observations", observation, "observation"),
                                 ("conditions", condition, "condition_occurrence")):  # fmt: skip
            if path is not None:
                try:
                    tables[key] = read_omop_table(path, table)
                except Errors as exc:
                    errors += exc.errors
        people = None
        if person_map is not None:
            try:
                people = read_person_map(person_map)
            except Errors as exc:
                errors += exc.errors
        if errors:
            raise Errors(errors)
        ds, _ = load_dataset(dataset)
        result = run(ds, options)
        deaths = ds.subjects.filter(pl.col("death_date").is_not_null() & (pl.col("death_date") <= pl.lit(result.as_of)))
        paths = write_omop(
            result, out, person_map=people, assign_person_ids=assign_person_ids, death_dates=deaths.select("subject_id", "death_date"),
            observation_field_concept_id=observation_field_concept_id, **tables,
        )  # fmt: skip
    except Errors as exc:
        _report_errors(exc, hint="Fix the input (a person map is required unless --assign-person-ids is given).")
        raise typer.Exit(2)
    episode = pl.read_csv(paths[0])
    unknown = episode.filter(pl.col("episode_object_concept_id") == 0).get_column("person_id").n_unique() if episode.height else 0
    if unknown:
        err_console.print(f"[yellow]{unknown} person(s) without a cancer Condition concept: episode_object_concept_id = 0; "
                          "give --condition (CONDITION_OCCURRENCE) or a condition_concept_id column in --person-map[/]")  # fmt: skip
    if len(paths) == 1:
        err_console.print("[yellow]No episode_event.csv: give the MEASUREMENT/OBSERVATION/CONDITION rows of the assessments "
                          "to link episodes to them[/]")  # fmt: skip
    paths.append(_record(out, paths, [*_dataset_inputs(dataset), person_map, measurement, observation, condition],
                         as_of=result.as_of))
    console.print("Wrote " + ", ".join(str(p) for p in paths))


@app.command("adam-lugano", epilog=_example("remission adam-lugano sdtm/ --file rs=rs_onco_lymphoma.csv --out adam/"))
def adam_lugano(
    sdtm_dir: Path = typer.Argument(..., metavar="SDTM_DIR", help="Folder with SDTM RS (Lugano 2014 OVRLRESP per modality) and DM/DS or ADSL."),
    out: Path = typer.Option(..., "--out", metavar="DIR", help="Folder for adrs_lugano.csv."),
    adsl: Optional[Path] = typer.Option(None, "--adsl", metavar="FILE", help="ADSL file (default: adsl.* in SDTM_DIR, else built from DM/DS)."),
    reference: Reference = typer.Option(Reference.RANDDT, "--reference", metavar="RANDDT|TRTSDT", help="Reference date variable of ADSL."),
    primary: str = typer.Option("PET", "--primary", metavar="PET|CT", help="Primary modality for the combined response: PET or CT."),
    evaluator: str = typer.Option("INVESTIGATOR", "--evaluator", metavar="NAME", help="RSEVAL to use."),
    file: list[str] = typer.Option([], "--file", metavar="DOMAIN=FILE", help="A domain file not named after its domain, e.g. rs=rs_onco_lymphoma.csv (repeatable)."),
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
        _report_errors(exc, hint="Fix the input (this command has no --skip-invalid).")
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
    written.append(_record(out, written, _sdtm_inputs(sdtm_dir, files, adsl)))
    console.print("Wrote " + ", ".join(str(p) for p in written))


@app.command("adam-irecist", epilog=_example("remission adam-irecist sdtm/ --file rs=rs_onco_irecist.csv --out adam/"))
def adam_irecist_cmd(
    sdtm_dir: Path = typer.Argument(..., metavar="SDTM_DIR", help="Folder with SDTM RS (iRECIST OVRLRESP codes) and DM/DS or an ADSL."),
    out: Path = typer.Option(..., "--out", metavar="DIR", help="Folder for adrs."),
    adsl: Optional[Path] = typer.Option(None, "--adsl", metavar="FILE", help="ADSL file (default: adsl.* in SDTM_DIR, else built from DM/DS)."),
    reference: Reference = typer.Option(Reference.RANDDT, "--reference", metavar="RANDDT|TRTSDT", help="Reference date variable of ADSL."),
    confirm_days: int = typer.Option(28, "--confirm-days", "--confirmation-days", min=1, metavar="DAYS", help="Confirmation period in days."),
    sd_min_days: int = typer.Option(42, "--sd-min-days", min=0, metavar="DAYS", help="iSD minimum duration in days."),
    failed_cr_as_pr: bool = typer.Option(
        True, "--failed-cr-as-pr/--no-failed-cr-as-pr",
        help="ICBOR: an iCR failing iCR confirmation may be a confirmed iPR (recist11.md §5.4, as assess). "
        "--no-failed-cr-as-pr is admiralonco's iRECIST vignette.",
    ),
    evaluator: str = typer.Option("INVESTIGATOR", "--evaluator", metavar="NAME", help="RSEVAL to use."),
    fmt: AdamFormat = typer.Option(AdamFormat.csv, "--format", metavar="csv|xpt|json", help="csv, xpt or json."),
    file: list[str] = typer.Option([], "--file", metavar="DOMAIN=FILE", help="A domain file not named after its domain, e.g. rs=rs_onco_irecist.csv (repeatable)."),
) -> None:
    """Derive an iRECIST ADRS (ICPD, IUPD, IRSP, ICB, IBOR, ICRSP, ICCB, ICBOR) as admiralonco's iRECIST vignette."""
    from remission.adam.irecist import adam_irecist

    files = _file_map(file)
    try:
        result = adam_irecist(
            sdtm_dir, out, adsl=adsl, reference=reference.value, confirm_days=confirm_days,
            sd_min_days=sd_min_days, failed_cr_as_pr=failed_cr_as_pr, evaluator=evaluator, fmt=fmt.value,
            files=files or None,
        )
    except InputErrors as exc:
        _report_errors(exc, hint="Fix the input (this command has no --skip-invalid).")
        raise typer.Exit(2)
    result.files.append(_record(out, result.files, _sdtm_inputs(sdtm_dir, files, adsl)))
    n = result.adrs.get_column("USUBJID").n_unique() if result.adrs.height else 0
    console.print(f"ADRS (iRECIST): {result.adrs.height} records for {n} subjects.")
    console.print("Wrote " + ", ".join(str(p) for p in result.files))


def _plain_help(typer_app: typer.Typer) -> None:
    """Every command (of this module, or added later) renders its help with :class:`_Command`."""
    for info in typer_app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = _Command
    for group in typer_app.registered_groups:
        _plain_help(group.typer_instance)


_plain_help(app)


def main() -> None:  # console-script entry point (also ``python -m remission``)
    try:
        app(prog_name="remission")
    except MissingExtra as exc:  # an optional dependency imported outside a command's own check
        typer.echo(str(exc), err=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
