"""``livephoto-conformance run``: the suite as a standalone command, with progress (no pytest
knowledge needed; the run is the pytest plugin's, so options, reports and exit codes are the same)."""
