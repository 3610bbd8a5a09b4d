"""Plain-Python reference of the RANO §4.3 mixed-tumour table.

Test-only: ``tests/test_rano.py`` proves the vectorised expression in
:func:`remission.criteria.rano._raw` equal to :func:`combine_reference` on any component
categories.
"""

from __future__ import annotations

__all__ = ["combine_reference"]


def combine_reference(cats: list[str] | None) -> str:
    """§4.3 mixed-tumour table (one component: its category); plain-Python reference of
    the vectorised expression in :func:`remission.criteria.rano._raw`."""
    if not cats:
        return "NA"
    if "PD" in cats:
        return "PD"
    if "NE" in cats:
        return "NE"
    out = cats[0]
    for x in cats[1:]:
        if out == "CR":
            out = x
        elif x == "CR":
            pass
        elif {out, x} <= {"PR", "MR"}:
            out = "MR" if "MR" in (out, x) else "PR"
        elif out == "SD":
            out = x
    return out
