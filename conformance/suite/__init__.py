"""The conformance suite: the test modules ``pytest --target URL`` collects.

Each module exercises one SPEC family; every request is judged by the checks the runner plans,
so a test also records results for the envelope, security and video clauses.
"""
