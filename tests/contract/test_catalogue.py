"""The clause catalogue agrees with SPEC.md, id by id and level by level."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

import conformance
from conformance.resources import load_json
from conformance.spec import FAMILIES, Level, catalogue
from conformance.spec_parser import parse_spec

ROOT = Path(__file__).resolve().parents[2]
SHARED_SPEC = ROOT.parent / "shared" / "spec" / "SPEC.md"
PROJECT_SPEC = ROOT / "docs" / "SPEC.md"


def _spec_texts() -> list[Path]:
    return [p for p in (PROJECT_SPEC, SHARED_SPEC) if p.exists()]


@pytest.mark.parametrize("spec_path", _spec_texts(), ids=lambda p: str(p.relative_to(p.parents[2])))
def test_catalogue_matches_spec(spec_path: Path) -> None:
    parsed = {c.id: c for c in parse_spec(spec_path.read_text(encoding="utf-8"))}
    ids_in_text = set(re.findall(r"\*\*(LP-[A-Z]+-\d+)\*\*", spec_path.read_text(encoding="utf-8")))
    assert set(parsed) == ids_in_text
    cat = catalogue()
    assert set(cat) == set(parsed), "catalogue and SPEC disagree on ids: run tools/build_catalogue.py"
    for clause_id, clause in parsed.items():
        assert cat[clause_id].level.value == clause.level, clause_id
        assert [lv.value for lv in cat[clause_id].levels] == list(clause.levels), clause_id


def test_project_copy_of_spec_is_current() -> None:
    if not SHARED_SPEC.exists():
        pytest.skip("../shared/spec/SPEC.md is not beside this checkout")
    assert PROJECT_SPEC.read_text(encoding="utf-8") == SHARED_SPEC.read_text(encoding="utf-8")


def test_catalogue_validates_against_its_schema() -> None:
    jsonschema.validate(load_json("requirements.json"), load_json("requirements.schema.json"))


def test_every_clause_has_a_family_and_a_title() -> None:
    for clause in catalogue().values():
        assert clause.family in FAMILIES
        assert clause.title and len(clause.title) <= 100
        assert clause.level is min(clause.levels, key=lambda lv: lv.rank)


def test_level_rules_from_the_text() -> None:
    """D-1: the strongest keyword; none means MUST; §5 failures carry MUST and SHOULD."""
    text = "\n".join(
        [
            "## 1. Request (REQ)",
            "- **LP-REQ-1** The endpoint is POST.",
            "- **LP-REQ-2** A thing MAY happen and another",
            "  SHOULD too.",
            "## 5. Errors (ERR)",
            "- **LP-ERR-1** Missing key → 401.",
            "- **LP-ERR-2** `message` SHOULD be non-empty.",
        ]
    )
    levels = {c.id: c.levels for c in parse_spec(text)}
    assert levels == {
        "LP-REQ-1": ("MUST",),
        "LP-REQ-2": ("SHOULD", "MAY"),
        "LP-ERR-1": ("MUST", "SHOULD"),
        "LP-ERR-2": ("SHOULD",),
    }


def test_clause_ids_and_levels_listed_from_python() -> None:
    """The issue's 'python -c' check: every clause id with its level, count equal to SPEC's."""
    code = (
        "import conformance, json; "
        "print(json.dumps({c.id: c.level.value for c in conformance.catalogue().values()}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    listed = json.loads(out.stdout)
    assert len(listed) == len(set(re.findall(r"\*\*(LP-[A-Z]+-\d+)\*\*", PROJECT_SPEC.read_text())))
    assert set(listed.values()) <= {level.value for level in Level}
    assert listed["LP-OK-1"] == "MUST" and listed["LP-VID-4"] == "SHOULD" and listed["LP-VID-7"] == "MAY"
    assert conformance.catalogue()["LP-ENV-2"].levels == (Level.MUST, Level.SHOULD)


def test_unknown_clause_id_gets_a_corrective_error() -> None:
    with pytest.raises(KeyError, match="not a clause of the SPEC"):
        catalogue()["LP-FOO-1"]


def test_the_level_rules_live_once() -> None:
    """MAY findings are information; a failure gates a run at its level or a weaker one."""
    from conformance.spec import Level

    assert [level.informational for level in Level] == [False, False, True]
    assert Level.MUST.gates("MUST") and Level.MUST.gates(Level.SHOULD)
    assert not Level.SHOULD.gates(Level.MUST) and Level.SHOULD.gates("SHOULD")
    assert not Level.MAY.gates(Level.SHOULD)
