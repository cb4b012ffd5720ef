"""The curl command in a failure's evidence reproduces the request that was sent, key included."""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from conformance.checks.errors import FAILURE_CHECKS
from conformance.client import ClientSettings, TargetClient
from conformance.exchange import ApiRequest, Key, Part
from conformance.mock.config import ServerConfig
from conformance.mock.runner import ServerThread
from conformance.settings import DEFAULT_INVALID_KEY, Settings
from conformance.verdicts import Violation

VALID_KEY = "curl-test-valid-key"
# A target that wrongly accepts the configured "invalid" key: the LP-ERR-2 check fails, and the
# printed curl must make the target do it again.
CONFIGURED_INVALID_KEY = "configured-invalid-key"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 150, 120)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def lax_server() -> Iterator[ServerThread]:
    with ServerThread(ServerConfig(api_keys=(VALID_KEY, CONFIGURED_INVALID_KEY))) as running:
        yield running


def test_curl_sends_the_configured_invalid_key_and_reproduces_the_answer(
    lax_server: ServerThread, tmp_path: Path
) -> None:
    """Regression: the curl always sent ``invalid-key-for-conformance``, whatever
    ``--invalid-api-key`` said, so it reproduced a different request than the one judged."""
    request = ApiRequest(
        "an unknown type with the invalid key",
        parts=(Part("image_target", _png(), "face.png", "image/png"), Part("type", b"99")),
        key=Key.INVALID,
    )
    client_settings = ClientSettings(
        lax_server.url, VALID_KEY, invalid_api_key=CONFIGURED_INVALID_KEY, sample_dir=tmp_path / "samples"
    )
    with TargetClient(client_settings) as client:
        exchange = client.send(request)
    assert exchange.code is not None and exchange.status != 401  # the lax target let the key in

    must_reject = FAILURE_CHECKS["LP-ERR-2"][0]
    settings = Settings(lax_server.url, VALID_KEY, invalid_api_key=CONFIGURED_INVALID_KEY)
    with pytest.raises(Violation) as caught:
        must_reject(exchange, settings.check_context())
    curl = caught.value.evidence.curl
    assert f"ailabapi-api-key: {CONFIGURED_INVALID_KEY}" in curl
    assert DEFAULT_INVALID_KEY not in curl and VALID_KEY not in curl
    assert f"Reproduce: {curl}" in str(caught.value)

    env = {k: v for k, v in os.environ.items() if k != "LIVEPHOTO_API_KEY"}
    replayed = subprocess.run(["bash", "-c", curl], capture_output=True, check=True, env=env, timeout=60)
    answer = json.loads(replayed.stdout)
    assert answer["error_detail"]["code"] == exchange.code  # not the 401 the default key gets
