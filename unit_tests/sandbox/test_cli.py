"""`python -m holded_sandbox` as a real process: prints its URL, serves, stops on SIGTERM."""

from __future__ import annotations

import re
import subprocess
import sys

import requests

from holded_sandbox.cli import main


def test_cli_serves_until_terminated():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "holded_sandbox",
            *("--port", "0", "--scale", "0.02", "--api-key", "cli-key"),
            "--api-token",
            "pat_cli-token",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/api)", first)
        assert match, first + proc.stderr.read()
        resp = requests.get(match.group(1) + "/invoicing/v1/contacts", headers={"key": "cli-key"}, timeout=10)
        assert resp.status_code == 200 and resp.json()
        rest = "".join(iter(proc.stdout.readline, "Press Ctrl-C to stop.\n"))
        assert "cli-key" in rest and "/oauth/token" in rest and "contacts 20" in rest
        assert "token pat_cli-token" in rest  # the v2 token, printed like the v1 key
        bearer = {"Authorization": "Bearer pat_cli-token"}
        v2 = requests.get(match.group(1) + "/v2/contacts", headers=bearer, timeout=10)
        assert v2.status_code == 200 and v2.json()["items"]
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_cli_rejects_bad_fault_settings(capsys):
    assert main(["--port", "0", "--error-rate", "3"]) == 2
    assert "error_rate" in capsys.readouterr().err
    assert main(["--port", "0", "--api-token", "not-a-pat"]) == 2
    assert "pat_" in capsys.readouterr().err
    assert main(["--port", "0", "--rate-limit-minute", "-3"]) == 2
    assert "rate_limit_per_minute" in capsys.readouterr().err
