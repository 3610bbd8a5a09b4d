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
    for col in ("subject", "criteria", "best", "confirmed", "status", "since", "remissions", "next check-up due"):
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


def main() -> None:  # console-script entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
