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
if not console.is_terminal or console.width < 120:  # files and narrow pipes: keep rows on one line
    console = Console(width=120)
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


def _report_errors(exc: InputErrors, out: Optional[Path] = None) -> None:
    err_console.print(f"[bold red]{len(exc.errors)} input error(s)[/]; no outputs written.")
    table = Table("file", "row", "subject", "column", "value", "expected", show_lines=False)
    for e in exc.errors[:100]:
        table.add_row(e.file, "" if e.row is None else str(e.row), e.subject_id or "", e.column or "",
                      "" if e.value is None else str(e.value), e.expected)
    err_console.print(table)
    if len(exc.errors) > 100:
        err_console.print(f"... and {len(exc.errors) - 100} more.")
    err_console.print("Fix the input, or run with --skip-invalid to process the valid subjects "
                      "and list the invalid ones in errors.csv.")


def _summary_table(result) -> Table:
    s = result.summary
    ep = result.episodes.group_by("subject_id").agg(
        episodes=pl.len(), qualified=pl.col("qualified").sum()
    )
    s = s.join(ep, on="subject_id", how="left")
    table = Table(title=f"Remission status as of {result.as_of}", header_style="bold")
    for col in ("subject", "criteria", "best", "confirmed", "status", "status date", "remissions", "next check-up due"):
        table.add_column(col)
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
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Status as of this date (YYYY-MM-DD)."),
    fmt: Format = typer.Option(Format.csv, "--format", help="Output format."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Process valid subjects; list the invalid ones in errors.csv."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not print the summary table."),
) -> None:
    """Assess a dataset: per-assessment responses, remission episodes and a summary per subject."""
    from remission.options import AssessOptions
    from remission.pipeline import assess as run

    if criteria is not None and criteria.lower() not in S.CRITERIA_CODES:
        raise typer.BadParameter(f"unknown criteria {criteria!r}; known: {', '.join(S.CRITERIA_CODES)}")
    options = AssessOptions(criteria=criteria.lower() if criteria else None, as_of=_parse_date(as_of),
                            skip_invalid=skip_invalid)
    try:
        result = run(dataset, options)
    except InputErrors as exc:
        _report_errors(exc)
        raise typer.Exit(2)
    paths = result.write(out, fmt.value)
    if not quiet:
        console.print(_summary_table(result))
    if result.errors:
        err_console.print(f"[yellow]{len(result.errors)} input error(s); invalid subjects skipped, see {out / 'errors.csv'}[/]")
    console.print("Wrote " + ", ".join(str(p) for p in paths))
    console.print("[dim]This reports what the response criteria say the data show. It is not medical advice.[/]")


class AdamFormat(str, Enum):
    csv = "csv"
    xpt = "xpt"
    json = "json"


class Reference(str, Enum):
    RANDDT = "RANDDT"
    TRTSDT = "TRTSDT"


class Source(str, Enum):
    rs = "rs"
    tr = "tr"


@app.command()
def adam(
    sdtm_dir: Path = typer.Argument(..., help="Folder with SDTM RS, TR, TU, DM (+SUPP--) as .csv, .xpt or Dataset-JSON."),
    out: Path = typer.Option(..., "--out", help="Folder for adrs and adtte."),
    adsl: Optional[Path] = typer.Option(None, "--adsl", help="ADSL file (default: adsl.* in SDTM_DIR, else built from DM/DS)."),
    reference: Reference = typer.Option(Reference.RANDDT, "--reference", help="Reference date variable of ADSL."),
    confirmation_days: int = typer.Option(28, "--confirmation-days", min=1, help="Confirmation period in days."),
    sd_min_days: int = typer.Option(42, "--sd-min-days", min=0, help="Stable disease minimum duration in days."),
    max_ne_between: int = typer.Option(1, "--max-ne-between", min=0, help="NE assessments tolerated before confirmation."),
    accept_sd: bool = typer.Option(False, "--accept-sd", help="Accept one SD between a PR and its confirmation."),
    source: Source = typer.Option(Source.rs, "--from", help="rs: stated OVRLRESP; tr: derived from TR/TU lesions (RECIST 1.1)."),
    evaluator: str = typer.Option("INVESTIGATOR", "--evaluator", help="RSEVAL/TREVAL to use."),
    fmt: AdamFormat = typer.Option(AdamFormat.csv, "--format", help="csv, xpt (SAS transport v5) or json (Dataset-JSON)."),
    file: list[str] = typer.Option([], "--file", help="DOMAIN=FILE for a domain file not named after its domain, e.g. rs=rs_onco_recist.csv (repeatable)."),
) -> None:
    """Derive ADaM ADRS and ADTTE from SDTM, with admiralonco's parameters and rules."""
    from remission.adam import adam as run

    files = {}
    for item in file:
        if "=" not in item:
            raise typer.BadParameter(f"--file {item!r}: expected DOMAIN=FILE")
        dom, name = item.split("=", 1)
        files[dom.strip().lower()] = name.strip()
    try:
        result = run(
            sdtm_dir, out, adsl=adsl, reference=reference.value, confirmation_days=confirmation_days,
            sd_min_days=sd_min_days, max_ne_between=max_ne_between, accept_sd=accept_sd, source=source.value,
            evaluator=evaluator, fmt=fmt.value, files=files or None,
        )
    except InputErrors as exc:
        _report_errors(exc)
        raise typer.Exit(2)
    n = result.adrs.get_column("USUBJID").n_unique() if result.adrs.height else 0
    console.print(f"ADRS: {result.adrs.height} records for {n} subjects; ADTTE: {result.adtte.height} records.")
    if result.warnings:
        err_console.print(f"[yellow]{len(result.warnings)} record(s) could not be analysed; see {out / 'warnings.csv'}[/]")
    console.print("Wrote " + ", ".join(str(p) for p in result.files))


def main() -> None:  # console-script entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
