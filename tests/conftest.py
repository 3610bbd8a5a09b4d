"""Test-suite settings.

Hypothesis: in CI (``CI=true``) examples are derandomised so that a run is repeatable and
main stays green for the same code; locally they are random, to keep finding new cases.
``HYPOTHESIS_PROFILE=thorough`` multiplies the example counts for a deep local search.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("thorough", max_examples=2000)
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
elif os.environ.get("CI", "").lower() == "true":
    settings.load_profile("ci")
