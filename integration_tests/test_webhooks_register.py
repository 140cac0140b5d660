"""`holded webhooks register`: through API v2 when the token holds developers:webhooks.write (the sandbox then
delivers the synced objects' events, signed with the secret the command kept), the steps for Holded's UI
otherwise; the whsec_ secret never in stderr, a log or --json. Real `holded` console script against a sandbox
on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from holded_sandbox.testing import connector_config, running_sandbox
from integration_tests.conftest import run_script

SYNCED_EVENTS = [  # the ten unified streams read contacts and invoices
    "invoice.create",
    "invoice.update",
    "invoice.delete",
    "invoice.approve",
    "contact.create",
    "contact.update",
    "contact.delete",
]
WITHOUT_WEBHOOKS = ["contacts:contacts.read", "sales:invoices.read", "developers:usage.read"]


@pytest.fixture
def sandbox() -> Iterator[Any]:
    with running_sandbox(scale=0.05, seed=21) as sb:
        yield sb


@pytest.fixture
def receiver() -> Iterator[tuple[str, queue.Queue]]:
    """A small webhook receiver on 127.0.0.1: every delivery (headers, raw body) lands in the queue; 200."""
    got: queue.Queue = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            got.put(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/holded", got
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The DuckDB file the registrations are recorded in (HOLDED_DB, as a user sets it)."""
    path = tmp_path / "holded.duckdb"
    monkeypatch.setenv("HOLDED_DB", str(path))
    return path


def register(sandbox: Any, *args: str, token: str | None = None, key: bool = False) -> Any:
    """`holded webhooks register ...` with the sandbox's base URL and a credential from the environment
    (the token given, the full one by default, or the v1 key)."""
    env = {"HOLDED_BASE_URL": sandbox.base_url, "HOLDED_API_KEY": "", "HOLDED_API_TOKEN": "", "HOLDED_CONFIG": ""}
    if key:
        env["HOLDED_API_KEY"] = sandbox.api_key
    elif "--config" not in args:
        env["HOLDED_API_TOKEN"] = token or sandbox.api_token
    return run_script("holded", "webhooks", "register", *args, env=env)


def write_config(sandbox: Any, path: Path, **overrides: Any) -> Path:
    path.write_text(json.dumps(connector_config(sandbox, dialect="v2", **overrides)))
    return path


def test_given_a_token_that_may_register_when_registering_then_holded_delivers_the_synced_objects_events_signed_with_the_kept_secret(  # noqa: E501
    sandbox, receiver, tmp_path
):
    url, deliveries = receiver
    config = write_config(sandbox, tmp_path / "holded.json")
    result = register(sandbox, "--config", str(config), "--url", url, "-v")
    assert result.returncode == 0, result.stderr

    hooks = sandbox.webhooks.list()
    assert [(h["url"], sorted(h["events"])) for h in hooks] == [(url, sorted(SYNCED_EVENTS))]
    secret = hooks[0]["secret"]
    assert secret.startswith("whsec_")
    # Kept where `holded webhooks serve --config` reads it, owner-only; never printed, never logged.
    assert json.loads(config.read_text())["webhook_secret"] == secret
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert secret not in result.stdout + result.stderr and "whsec_" not in result.stdout + result.stderr
    assert hooks[0]["id"] in result.stdout and f"saved in {config}" in result.stdout
    assert "7 events (invoice.create, invoice.update, invoice.delete, invoice.approve, contact.create" in result.stdout

    # Holded now delivers a contact's change to the URL, signed with the kept secret.
    contact = requests.get(f"{sandbox.base_url}/invoicing/v1/contacts", headers={"key": sandbox.api_key}).json()[0]
    edited = requests.put(
        f"{sandbox.base_url}/invoicing/v1/contacts/{contact['id']}",
        headers={"key": sandbox.api_key},
        json={"phone": "+34 600 111 222"},
        timeout=10,
    )
    edited.raise_for_status()
    headers, body = deliveries.get(timeout=10)
    assert headers["x-holded-webhook-event"] == "contact.update"
    assert json.loads(body)["id"] == contact["id"]
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-holded-webhook-signature"], expected)


def test_given_the_events_and_a_secret_file_when_registering_with_json_then_only_those_are_registered_and_the_secret_is_only_in_the_file(  # noqa: E501
    sandbox, tmp_path
):
    secret_file = tmp_path / "holded-webhook.secret"
    result = register(
        sandbox, "--url", "http://127.0.0.1:9/hook", "--events", "product,invoice.approve", "--secret-file",
        str(secret_file), "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    (hook,) = sandbox.webhooks.list()
    assert answer == {
        "registered": True,
        "id": hook["id"],
        "url": "http://127.0.0.1:9/hook",
        "events": ["invoice.approve", "product.create", "product.update", "product.delete"],
        "secret_saved_to": str(secret_file),
    }
    assert secret_file.read_text() == hook["secret"] + "\n"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert "whsec_" not in result.stdout + result.stderr


def test_given_a_registration_then_it_is_recorded_in_the_database_and_next_says_how_serve_reads_the_secret(
    sandbox, tmp_path, db
):
    secret_file = tmp_path / "holded-webhook.secret"
    result = register(sandbox, "--url", "http://127.0.0.1:9/hook", "--secret-file", str(secret_file))
    assert result.returncode == 0, result.stderr
    assert f"Next: `holded webhooks serve --secret-file {secret_file}` at that URL" in result.stdout
    (hook,) = sandbox.webhooks.list()
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT id, url, events, registered_at IS NOT NULL FROM _holded_registered_webhooks")
        assert [(i, u, json.loads(e), w) for i, u, e, w in rows.fetchall()] == [
            (hook["id"], "http://127.0.0.1:9/hook", SYNCED_EVENTS, True)
        ]


def test_given_a_token_without_developers_webhooks_write_then_the_steps_for_holded_ui_are_printed_and_nothing_is_registered(  # noqa: E501
    sandbox, tmp_path
):
    secret_file = tmp_path / "secret"
    token = sandbox.mint_token(WITHOUT_WEBHOOKS)
    result = register(
        sandbox, "--url", "https://hooks.example.com/holded", "--secret-file", str(secret_file), token=token
    )
    assert result.returncode == 2
    assert sandbox.webhooks.list() == []
    assert not secret_file.exists()  # nothing to keep: the file made ready for it is gone
    assert result.stdout.splitlines() == [
        "Register the webhook by hand in Holded:",
        "  1. Settings > Developers > Webhooks > add a webhook",
        "  2. URL: https://hooks.example.com/holded",
        "  3. tick these 7 events:",
        "       Sales: invoice.create, invoice.update, invoice.delete, invoice.approve",
        "       Contacts: contact.create, contact.update, contact.delete",
        "  4. save, and copy the signing secret Holded shows once (whsec_...) into the config file as "
        "`webhook_secret` (or HOLDED_WEBHOOK_SECRET) for `holded webhooks serve`",
    ]
    (line,) = result.stderr.splitlines()
    assert line.startswith("holded webhooks register: the Holded API token lacks developers:webhooks.write")
    assert "make a new token with developers:webhooks.write (Settings > Developers > Credentials > Add API" in line
    assert token not in result.stdout + result.stderr


def test_given_an_api_v1_key_then_one_line_says_webhooks_need_an_api_v2_token_and_nothing_is_sent(sandbox, tmp_path):
    before = sandbox.stats()["requests"]["total"]
    result = register(sandbox, "--url", "http://127.0.0.1:9/hook", "--secret-file", str(tmp_path / "s"), key=True)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("holded webhooks register: webhooks need an API v2 token (pat_...)")
    assert sandbox.stats()["requests"]["total"] == before
    assert sandbox.webhooks.list() == []


def test_given_no_place_for_the_secret_and_no_terminal_then_nothing_is_registered(sandbox):
    result = register(sandbox, "--url", "http://127.0.0.1:9/hook")
    assert result.returncode == 2
    assert "give --secret-file PATH" in result.stderr and "--config FILE" in result.stderr
    assert sandbox.webhooks.list() == []


def test_given_a_config_already_holding_a_secret_then_it_is_not_replaced_and_nothing_is_registered(sandbox, tmp_path):
    config = write_config(sandbox, tmp_path / "holded.json", webhook_secret="whsec_earlier-webhook-secret")
    result = register(sandbox, "--config", str(config), "--url", "http://127.0.0.1:9/hook")
    assert result.returncode == 2
    assert "already holds `webhook_secret`" in result.stderr and "whsec_earlier" not in result.stderr
    assert json.loads(config.read_text())["webhook_secret"] == "whsec_earlier-webhook-secret"
    assert sandbox.webhooks.list() == []


def test_given_streams_holded_sends_no_events_for_then_one_line_says_so(sandbox, tmp_path):
    result = register(sandbox, "--url", "http://127.0.0.1:9/hook", "--streams", "crmOpportunity,genericUser",
                      "--secret-file", str(tmp_path / "s"))  # fmt: skip
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "Holded sends no webhook events for the streams synced (crmOpportunity, genericUser)" in line
    assert sandbox.webhooks.list() == []
