"""Test-only reference implementations: plain Python, one subject at a time, written to be
held beside the criteria specifications.  The vectorised engines in ``remission`` are the
only code that produces outputs; property-based tests prove them equal to these."""
