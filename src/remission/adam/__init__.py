"""CDISC ADaM ADRS and ADTTE from SDTM, equal to admiralonco on the peer's own data.

``adam(sdtm_dir, out_dir, ...)`` is what ``remission adam SDTM_DIR --out DIR`` runs:
read the SDTM folder (:mod:`remission.io.sdtm`), derive ADRS (:mod:`.adrs`) and ADTTE
(:mod:`.adtte`) and write them (:mod:`remission.io.adam_write`).  Nothing is written when
the input has errors (:class:`~remission.errors.InputErrors` lists them all).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import polars as pl

from remission.errors import InputError, errors_frame
from remission.io.adam_write import write_adam
from remission.io.sdtm import SdtmData, as_sdtm, read_sdtm

from .adrs import AdamWarning, _resolve_adsl, adsl_from_sdtm, derive_adrs, derive_adrs_notes
from .adtte import derive_adtte

__all__ = ["adam", "AdamResult", "derive_adrs", "derive_adrs_notes", "derive_adtte", "adsl_from_sdtm", "AdamWarning"]


@dataclass
class AdamResult:
    """What :func:`adam` derived and wrote."""

    adrs: pl.DataFrame
    adtte: pl.DataFrame
    files: list[Path] = field(default_factory=list)
    #: OVR records kept but not analysed (code ``not_analysed``); also in ``warnings.csv``.
    warnings: list[InputError] = field(default_factory=list)


def adam(
    sdtm_dir: str | Path | SdtmData | Mapping[str, object],
    out_dir: str | Path | None,
    *,
    adsl: str | Path | pl.DataFrame | None = None,
    reference: str = "RANDDT",
    confirmation_days: int = 28,
    sd_min_days: int = 42,
    max_ne_between: int = 1,
    accept_sd: bool = False,
    source: str = "rs",
    evaluator: str = "INVESTIGATOR",
    failed_cr_as_pr: bool = False,
    fmt: str = "csv",
    files: Mapping[str, str | Path] | None = None,
) -> AdamResult:
    """Derive ADRS and ADTTE from an SDTM folder and write ``adrs.<fmt>`` and
    ``adtte.<fmt>`` (``csv``, ``xpt`` = SAS transport v5, ``json`` = Dataset-JSON v1.1) into
    ``out_dir`` (``None``: derive only).

    ``adsl``: an ADSL file or frame; default the folder's ``adsl.*`` file, else an ADSL
    built from DM/DS.  ``files`` maps a domain to a file whose name is not the domain's
    (``{"rs": "rs_onco_recist.csv"}``).  The other options are those of
    :func:`derive_adrs`.  When some OVR records cannot be analysed (unknown response code,
    date without month) they are listed in ``warnings.csv`` (same columns as
    ``errors.csv``) and in :attr:`AdamResult.warnings`.
    """
    if isinstance(sdtm_dir, (str, Path)):
        data = read_sdtm(sdtm_dir, files=files)
    else:
        data = as_sdtm(sdtm_dir)
    adrs, notes = derive_adrs_notes(
        data, adsl, reference=reference, confirmation_days=confirmation_days, sd_min_days=sd_min_days,
        max_ne_between=max_ne_between, accept_sd=accept_sd, source=source, evaluator=evaluator,
        failed_cr_as_pr=failed_cr_as_pr,
    )  # fmt: skip
    adsl_t = _resolve_adsl(data, adsl, reference)
    adtte = derive_adtte(adsl_t, adrs, reference=reference)
    written: list[Path] = []
    if out_dir is not None:
        out = Path(out_dir)
        written.append(write_adam(adrs, out / "adrs", fmt=fmt, name="ADRS", label="Response Analysis Dataset"))
        written.append(write_adam(adtte, out / "adtte", fmt=fmt, name="ADTTE", label="Time to Event Analysis Dataset"))
        if notes:
            path = out / "warnings.csv"
            errors_frame(notes).write_csv(path)
            written.append(path)
    return AdamResult(adrs, adtte, written, notes)
