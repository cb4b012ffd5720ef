"""Same target, same verdict (issue 14): the mutant catalogue is judged alike under any seed.

Each catalogue entry runs once at ``--max-examples 1``, the two ``CI_SEEDS`` taking turns along the
catalogue. Its outcome must be the one the catalogue asks for and the one ``tools/mutant_seeds.py``
recorded in docs/mutants.md, where the same entry was also judged under five other seeds at
``--max-examples 3``. A kill that needs a lucky draw fails here, since the covering set, not
generation, has to carry it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conformance.mock.config import ServerConfig
from conformance.mock.runner import ServerThread
from conformance.mutants import Mutant, all_mutants, server_hooks
from conformance.mutation import run_mutant
from conformance.strategies import face_photo
from tests.mock.samples import ENDPOINT, KEY
from tools.mutant_seeds import CI_SEEDS, ci_seed, outcome, recorded_outcomes

RECORDED = recorded_outcomes()


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, str]]:
    """The reference server and the two mutants whose kill used to need a lucky draw."""
    names = ("", "req-type-float", "fmt-truncated-jpeg-accepted")
    running = {
        name: ServerThread(ServerConfig(api_keys=(KEY,), hooks=server_hooks([name] if name else []))).start()
        for name in names
    }
    yield {name: str(server.url) for name, server in running.items()}
    for server in running.values():
        server.stop()


def _status(url: str, image: bytes, type_value: str) -> int:
    files = {"image_target": ("face.jpg", image, "image/jpeg")}
    with httpx.Client(base_url=url, timeout=60) as http:
        return http.post(
            ENDPOINT, headers={"ailabapi-api-key": KEY}, files=files, data={"type": type_value}
        ).status_code


@pytest.mark.parametrize("value", ["1.0", "1e0", "0.0", " 1"])
def test_the_float_type_mutant_takes_what_float_reads_as_0_or_1(servers: dict[str, str], value: str) -> None:
    photo = face_photo(side=128).data
    assert _status(servers[""], photo, value) == 400
    assert _status(servers["req-type-float"], photo, value) == 200
    assert _status(servers["req-type-float"], photo, "2") == 400


@pytest.mark.parametrize("cut", [2, 16])
def test_the_lenient_decoder_mutant_takes_a_jpeg_a_few_bytes_short(servers: dict[str, str], cut: int) -> None:
    short = face_photo(side=128).data[:-cut]
    assert _status(servers[""], short, "0") in (400, 422)
    assert _status(servers["fmt-truncated-jpeg-accepted"], short, "0") == 200


def test_the_ci_seeds_differ_and_every_mutant_has_a_recorded_outcome() -> None:
    assert len(set(CI_SEEDS)) == len(CI_SEEDS) >= 2
    assert {ci_seed(m) for m in all_mutants()} == set(CI_SEEDS)
    missing = [m.name for m in all_mutants() if m.name not in RECORDED]
    assert not missing, f"not in docs/mutants.md: {missing}; run .venv/bin/python tools/mutant_seeds.py"


@pytest.mark.slow
@pytest.mark.mutants
@pytest.mark.parametrize("mutant", all_mutants(), ids=lambda m: m.name)
def test_mutant_outcome_does_not_depend_on_the_seed(mutant: Mutant, tmp_path: Path) -> None:
    run = run_mutant(mutant, tmp_path, max_examples=1, seed=ci_seed(mutant), full=True)
    assert run.ok, run.explain()
    assert outcome(run) == RECORDED.get(mutant.name), run.explain()
