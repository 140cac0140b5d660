"""`python -m holded_sandbox` as a real process: prints its URL, serves, stops on SIGTERM."""

from __future__ import annotations

import re
import subprocess
import sys

import requests

from holded_sandbox.cli import main


def test_cli_serves_until_terminated():
    proc = subprocess.Popen(
        [sys.executable, "-m", "holded_sandbox", "--port", "0", "--scale", "0.02", "--api-key", "cli-key"],
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
        rest = "".join(proc.stdout.readline() for _ in range(6))
        assert "cli-key" in rest and "/oauth/token" in rest and "contacts 20" in rest
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_cli_rejects_bad_fault_settings(capsys):
    assert main(["--port", "0", "--error-rate", "3"]) == 2
    assert "error_rate" in capsys.readouterr().err
