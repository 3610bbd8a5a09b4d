"""CDISC ADaM ADRS, ADTTE and ADTR from SDTM, equal to admiralonco on the peer's own data.

``adam(sdtm_dir, out_dir, ...)`` is what ``remission adam SDTM_DIR --out DIR`` runs:
read the SDTM folder (:mod:`remission.io.sdtm`), derive ADRS (:mod:`.adrs`), ADTTE
(:mod:`.adtte`) and, when the folder has TR and TU, ADTR (:mod:`.adtr`), and write them
(:mod:`remission.io.adam_write`).  Nothing is written when the input has errors
(:class:`~remission.errors.InputErrors` lists them all).

Large studies: ADRS is derived in slices of ADSL subjects (:class:`.adrs.AdrsPlan`).
With ``keep_adrs=False`` (what the CLI uses) and a CSV or Parquet output, each slice is
appended to ``adrs.<fmt>`` as soon as it is derived and then dropped, so the whole ADRS
(18 million records at 10^6 subjects) is never held in memory; ADTTE is derived from the
few ADRS records it reads (``DEATH``, ``PD``, ``LSTA``, ``RSP``), kept from every slice.
The files are the same as with ``keep_adrs=True`` (the default for library use, which
also returns the whole ADRS frame).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import polars as pl

from remission.errors import InputError, InputErrors, errors_frame
from remission.frames import as_frame
from remission.io.adam_write import STREAMABLE, open_adam_writer, write_adam
from remission.io.sdtm import SdtmData, as_sdtm, read_sdtm

from .adrs import AdamWarning, AdrsPlan, adsl_from_sdtm, derive_adrs, derive_adrs_notes, plan_adrs
from .adtr import derive_adtr
from .adtte import TTE_SOURCE_COLUMNS, TTE_SOURCE_PARAMS, derive_adtte

__all__ = ["adam", "AdamResult", "derive_adrs", "derive_adrs_notes", "derive_adtte", "derive_adtr", "adsl_from_sdtm", "AdamWarning"]


@dataclass
class AdamResult:
    """What :func:`adam` derived and wrote.

    ``adrs`` is ``None`` when the ADRS was streamed to its file (``keep_adrs=False``);
    ``adrs_records`` and ``adrs_subjects`` count it in every case.
    """

    adrs: pl.DataFrame | None
    adtte: pl.DataFrame
    files: list[Path] = field(default_factory=list)
    #: OVR records kept but not analysed (code ``not_analysed``); also in ``warnings.csv``.
    warnings: list[InputError] = field(default_factory=list)
    adrs_records: int = 0
    adrs_subjects: int = 0
    #: ADTR (:mod:`.adtr`) when the SDTM has TR and TU, else ``None``.
    adtr: pl.DataFrame | None = None
    #: with ``skip_invalid``: the input errors of the subjects left out; also ``errors.csv``
    errors: list[InputError] = field(default_factory=list)


def _frame(obj: object, domain: str) -> object:
    """A domain given as a frame: polars and pandas as they are, any Arrow stream (DuckDB
    relation, pyarrow Table, ...) and a polars LazyFrame as a polars frame; a path unchanged."""
    if obj is None or isinstance(obj, (str, Path)):
        return obj
    frame = as_frame(obj, f"{domain} (data frame)")
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


def adam(
    sdtm_dir: str | Path | SdtmData | Mapping[str, object],
    out_dir: str | Path | None,
    *,
    adsl: str | Path | object | None = None,
    reference: str = "RANDDT",
    confirm_days: int = 28,
    sd_min_days: int = 42,
    max_ne_between: int = 1,
    accept_sd_between: bool = False,
    source: str = "rs",
    evaluator: str = "INVESTIGATOR",
    failed_cr_as_pr: bool = True,
    fmt: str = "csv",
    files: Mapping[str, str | Path] | None = None,
    keep_adrs: bool = True,
    skip_invalid: bool = False,
    encoding: str = "utf-8",
    ignore_unknown_files: bool = False,
) -> AdamResult:
    """Derive ADRS and ADTTE (and ADTR when the SDTM has TR and TU) from an SDTM folder
    and write ``adrs.<fmt>``, ``adtte.<fmt>`` and ``adtr.<fmt>`` (``csv``, ``parquet``,
    ``xpt`` = SAS transport v5, ``json`` = Dataset-JSON v1.1) into ``out_dir`` (``None``:
    derive only).

    ``sdtm_dir`` may also map domains to frames (``{"rs": ..., "dm": ...}``): polars,
    pandas, or any object with the Arrow PyCapsule interface (a DuckDB relation, a pyarrow
    Table; :mod:`remission.frames`), or to file paths.
    ``adsl``: an ADSL file or frame; default the folder's ``adsl.*`` file, else an ADSL
    built from DM/DS.  ``files`` maps a domain to a file whose name is not the domain's
    (``{"rs": "rs_onco_recist.csv"}``).  The other options are those of
    :func:`derive_adrs`.  When some OVR records cannot be analysed (unknown response code,
    date without month) they are listed in ``warnings.csv`` (same columns as
    ``errors.csv``) and in :attr:`AdamResult.warnings`.

    ``skip_invalid``: subjects with input errors are left out of ADRS and ADTTE and their
    errors listed in ``errors.csv`` and :attr:`AdamResult.errors` (spec/tables.md "Bad
    input"); otherwise any input error raises.  ``encoding``: of the CSV files (default
    UTF-8).  ``ignore_unknown_files``: see :func:`remission.io.sdtm.read_sdtm`.

    ``keep_adrs=False`` with ``out_dir`` and a ``csv``/``parquet`` format writes the ADRS
    slice by slice without holding it (module docstring); :attr:`AdamResult.adrs` is then
    ``None``.  Otherwise (and always for ``xpt``/``json``, written in one piece) the
    whole ADRS is returned.
    """
    if isinstance(sdtm_dir, (str, Path)):
        data = read_sdtm(sdtm_dir, files=files, encoding=encoding, ignore_unknown_files=ignore_unknown_files,
                         needed=("rs", "dm", "adsl") + (("tr", "tu") if source == "tr" else ()))
    elif isinstance(sdtm_dir, SdtmData):
        data = sdtm_dir
    else:
        data = as_sdtm({k: _frame(v, k) for k, v in sdtm_dir.items()})
    if adsl is not None and not isinstance(adsl, (str, Path)):
        adsl = _frame(adsl, "adsl")
    try:
        plan: AdrsPlan = plan_adrs(
            data, adsl, reference=reference, confirm_days=confirm_days, sd_min_days=sd_min_days,
            max_ne_between=max_ne_between, accept_sd_between=accept_sd_between, source=source, evaluator=evaluator,
            failed_cr_as_pr=failed_cr_as_pr, skip_invalid=skip_invalid,
        )  # fmt: skip
    except InputErrors as exc:  # every error with the CSV line of its row (issue 14 item 5)
        raise InputErrors(data.locate(exc.errors)) from None
    plan.errors, plan.notes = data.locate(plan.errors), data.locate(plan.notes)
    adtr = derive_adtr(data, plan.adsl, reference=reference, evaluator=evaluator) if "tr" in data and "tu" in data else None
    del data
    notes, adsl_t = plan.notes, plan.adsl
    stream = out_dir is not None and not keep_adrs and fmt in STREAMABLE
    out = Path(out_dir) if out_dir is not None else None
    written: list[Path] = []
    writer = open_adam_writer(out / "adrs", fmt=fmt, background=True) if stream else None
    parts: list[pl.DataFrame] = []
    tte_src: list[pl.DataFrame] = []
    records = 0
    try:
        for part in plan.slices():
            records += part.height
            if writer is not None:
                writer.write(part)
                tte_src.append(part.filter(pl.col("PARAMCD").is_in(TTE_SOURCE_PARAMS)).select(TTE_SOURCE_COLUMNS))
            else:
                parts.append(part)
            del part
    except BaseException:
        if writer is not None:
            writer.discard()
        raise
    if writer is not None:
        written.append(writer.close())
    adrs = None
    if writer is None:
        adrs = parts[0] if len(parts) == 1 else pl.concat(parts, how="vertical_relaxed")
        del parts
        tte_in = adrs
        subjects = adrs.get_column("USUBJID").n_unique() if adrs.height else 0
    else:
        tte_in = pl.concat(tte_src, how="vertical_relaxed")
        # every ADSL subject has its parameter records, so the ADRS subjects are ADSL's
        subjects = tte_in.get_column("USUBJID").n_unique() if records else 0
    adtte = derive_adtte(adsl_t, tte_in, reference=reference)
    if out is not None:
        from .metadata import KEY_VARIABLES, output_labels

        def write(frame: pl.DataFrame, name: str, label: str) -> Path:
            return write_adam(frame, out / name.lower(), fmt=fmt, name=name, label=label,
                              labels=output_labels(name, plan.adsl_meta), keys=KEY_VARIABLES)  # fmt: skip

        if adrs is not None:
            written.append(write(adrs, "ADRS", "Response Analysis Dataset"))
        written.append(write(adtte, "ADTTE", "Time to Event Analysis Dataset"))
        if adtr is not None:
            written.append(write(adtr, "ADTR", "Tumor Response Analysis Dataset"))
        if notes:
            path = out / "warnings.csv"
            errors_frame(notes).write_csv(path)
            written.append(path)
        if plan.errors:
            path = out / "errors.csv"
            errors_frame(plan.errors).write_csv(path)
            written.append(path)
    return AdamResult(adrs, adtte, written, notes, records, subjects, adtr, plan.errors)
