"""The command line over HTTP/3: ``brisk --http3`` (with ``--timing``) against ``brisk serve --http3``, both
run as users run them (the installed script, in subprocesses)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("aioquic", reason="HTTP/3 needs the brisk[http3] extra (aioquic)")

pytestmark = pytest.mark.timeout(60)

BRISK = Path(sys.executable).with_name("brisk")


def _env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if k not in {"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "NO_COLOR", "FORCE_COLOR"}
        and not k.lower().endswith("_proxy")
    }


def test_cli_http3_with_timing_against_serve_http3() -> None:
    server = subprocess.Popen(
        [str(BRISK), "serve", "--http3", "--port", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=_env(),
        start_new_session=True,
    )
    try:
        assert server.stdout is not None
        lines = []
        for raw in server.stdout:
            lines.append(raw.decode())
            if "Ctrl-C stops it" in lines[-1]:
                break
        text = "".join(lines)
        assert re.search(r"HTTP/3 on UDP port \d+ \(Alt-Svc\)", text), text
        ca = re.search(r"CA bundle: (\S+)", text).group(1)  # type: ignore[union-attr]
        h3_url = re.search(r"brisk --http3 --verify \S+ (\S+)", text).group(1)  # type: ignore[union-attr]
        result = subprocess.run(
            [str(BRISK), "--http3", "--timing", "--verify", ca, h3_url],
            capture_output=True,
            env=_env(),
            timeout=30,
            check=False,
        )
        assert result.returncode == 0, result.stderr.decode()
        assert json.loads(result.stdout)["url"] == h3_url
        err = result.stderr.decode().splitlines()
        start = next(i for i, line in enumerate(err) if line.startswith("timing ("))
        assert err[start] == "timing (HTTP/3, new connection)"
        names = [line.split()[0] for line in err[start + 1 :]]
        assert names == ["dns", "quic+tls", "tls", "send", "first", "download", "total"]
        handshake = float(err[start + 2].split()[1])
        assert handshake > 0  # the QUIC handshake, measured
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(20)
        if server.stdout is not None:
            server.stdout.close()
