"""The mutant catalogue (issue 8): named faults that can be planted in the reference server, each
breaking one SPEC clause, and benign variants that break none (docs/mutants.md).

The reference server (``conformance.mock``) knows nothing of this package: it offers typed hook
points (``conformance.mock.hooks.ServerHooks``) and ``server_hooks(names)`` fills them::

    ServerConfig(hooks=server_hooks(["vid-still"]))     # or: livephoto-conformance serve --mutant vid-still

``model`` holds ``Mutant`` and the hook context, ``catalogue`` the entries (``get``,
``all_mutants``), ``hooks`` and ``video`` the fault factories, ``plant`` the ``MutantSet`` that
applies them.
"""

from __future__ import annotations

from conformance.mutants.catalogue import all_mutants, get
from conformance.mutants.model import Ctx, Mutant
from conformance.mutants.plant import MutantSet, server_hooks

__all__ = ["Ctx", "Mutant", "MutantSet", "all_mutants", "get", "server_hooks"]
