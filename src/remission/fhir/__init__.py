"""HL7 FHIR R4 (mCODE STU4) in and out.

* :mod:`remission.fhir.import_`: a Bundle or NDJSON export -> the canonical tables
  (:func:`~remission.fhir.import_.read_fhir`).
* :mod:`remission.fhir.export`: the derived results as CancerDiseaseStatus Observations and
  Conditions, and the input data as mCODE resources (:func:`~remission.fhir.export.export`).
* :mod:`remission.fhir.codes`: every code used, with its display and source.

docs/fhir.md describes the mapping element by element.
"""

from remission.extras import require as _require

_require("fhir", "remission.fhir")
