"""Review item 13: `serve` took keys only on the command line (readable by every user with `ps`),
the suite's embedded server got its key that way, keys were compared with `in`, and the reprs of
the proxy's ``Observed`` and ``_Seen`` showed the key. Now `serve` also reads keys from
``--api-key-env VAR`` and ``--api-key-file PATH``, ``start_server_process`` hands them over in
the environment, keys are compared with ``hmac.compare_digest``, and the reprs omit them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from conformance.mock.app import _known_key
from conformance.mock.config import ServerConfig
from conformance.mock.runner import start_server_process
from conformance.proxy.app import _Seen
from conformance.proxy.observed import observe_request
from tests.mock import samples
from tests.security.conftest import ENDPOINT

SECRET = "s3cret-key-that-must-not-leak"


def _serve(*options: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "conformance", "serve", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )


def _accepts(url: str, key: str) -> bool:
    response = httpx.post(
        url + ENDPOINT,
        headers={"ailabapi-api-key": key},
        files={"image_target": ("f.png", samples.face_small())},
    )
    return response.status_code != 401


def test_the_embedded_server_gets_its_key_through_the_environment() -> None:
    with start_server_process(ServerConfig(api_keys=(SECRET, "second"))) as running:
        argv = Path(f"/proc/{running.pid}/cmdline").read_bytes()
        assert SECRET.encode() not in argv and b"second" not in argv
        assert _accepts(running.url, SECRET) and _accepts(running.url, "second")
        assert not _accepts(running.url, SECRET[:-1])


@pytest.mark.parametrize("source", ["env", "file"])
def test_serve_reads_keys_from_a_variable_or_a_file(source: str, tmp_path: Path) -> None:
    keys_file = tmp_path / "keys"
    keys_file.write_text(f"{SECRET}\n\nother\n")
    options = ["--api-key-env", "LP_KEYS"] if source == "env" else ["--api-key-file", str(keys_file)]
    process = _serve(*options, env={"LP_KEYS": f"{SECRET}\nother"})
    try:
        assert process.stdout is not None
        url = process.stdout.readline().rsplit(" ", 1)[1].strip()
        assert _accepts(url, SECRET) and _accepts(url, "other") and not _accepts(url, "nope")
    finally:
        process.terminate()
        process.communicate(timeout=30)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--api-key-env", "LP_UNSET_VARIABLE"],
            "--api-key-env LP_UNSET_VARIABLE: the environment variable is unset or empty",
        ),
        (
            ["--api-key-file", "/nonexistent/keys"],
            "--api-key-file /nonexistent/keys: No such file or directory",
        ),
    ],
)
def test_a_missing_key_source_is_a_one_line_error(options: list[str], message: str) -> None:
    process = _serve(*options)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert err.strip().splitlines() == [f"livephoto-conformance serve: {message}"]
    assert "listening" not in out


def test_keys_are_compared_in_constant_time_against_every_key() -> None:
    assert _known_key("b", ("a", "b"))
    assert not _known_key("", ("a",)) and not _known_key("a" * 2, ("a",))
    assert _known_key("é", ("é",))


def test_reprs_of_what_the_proxy_saw_omit_the_key() -> None:
    headers = [("ailabapi-api-key", SECRET), ("content-type", "text/plain")]
    observed = observe_request("POST", ENDPOINT, "", headers, b"")
    seen = _Seen("POST", ENDPOINT, "", headers, b"", "http://upstream" + ENDPOINT)
    assert observed.key == SECRET  # still available to the code that needs it
    for text in (repr(observed), str(observed), repr(seen), str(seen)):
        assert SECRET not in text
