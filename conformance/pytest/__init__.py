"""The pytest plugin, one module per job; ``conformance.plugin`` is only its ``pytest11`` entry point.

``options`` (the suite's options → ``Settings``), ``profiles`` (Hypothesis profiles), ``state``
(the typed run state and the stash keys), ``target`` (embedded server, preflight, xdist),
``collection`` (clause selection), ``fixtures``, ``results`` (check results carried on the
reports) and ``verdict`` (the report, the exit code, the summary).

Each module imports the real ``pytest`` (imports are absolute, so this package never shadows it);
nothing is imported here, so ``import conformance.pytest.state`` stays cheap.
"""
