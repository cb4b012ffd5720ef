"""Write ``schemas/requirements.json`` from SPEC.md (run after the SPEC changes).

Usage: python tools/build_catalogue.py [path/to/SPEC.md]
Titles already in the catalogue are kept: they are hand-written one-liners.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conformance.spec_parser import parse_spec

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "schemas" / "requirements.json"
FAMILY_NAMES = {
    "REQ": "request",
    "ENV": "envelope",
    "OK": "success",
    "VID": "video",
    "ERR": "errors",
    "OPS": "operations",
    "SEC": "security",
}


def main(argv: list[str]) -> int:
    spec = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "SPEC.md"
    old = json.loads(CATALOGUE.read_text()) if CATALOGUE.exists() else {"clauses": []}
    titles = {c["id"]: c["title"] for c in old["clauses"]}
    clauses = [
        {
            "id": c.id,
            "level": c.level,
            "levels": list(c.levels),
            "family": FAMILY_NAMES[c.family],
            "section": c.section,
            "title": titles.get(c.id, c.text.split(". ")[0][:100]),
            "text": c.text,
        }
        for c in parse_spec(spec.read_text(encoding="utf-8"))
    ]
    document = {
        "$schema": "./requirements.schema.json",
        "source": "docs/SPEC.md (copy of shared/spec/SPEC.md)",
        "clauses": clauses,
    }
    CATALOGUE.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(clauses)} clauses written to {CATALOGUE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
