"""Runner config precedence, schedules, and webhook signatures and queueing."""

from __future__ import annotations

import json

import pytest

from holded_cli.config import load_config
from holded_cli.events_job import parse_every
from holded_cli.store import Store
from holded_cli.tables import table_for
from holded_cli.webhooks import Webhook, sign, verify
from holded_core.errors import HoldedConfigError
from holded_core.streams import events_stream
from unit_tests.runner.conftest import make_event


def test_flags_beat_environment_beat_file(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"credentials": {"auth_type": "api_key", "api_key": "from-file"}, "base_url": "F"}))
    assert load_config(str(path), env={}).values["base_url"] == "F"
    env = {"HOLDED_BASE_URL": "E", "HOLDED_API_KEY": "from-env"}
    loaded = load_config(str(path), env=env)
    assert loaded.values["base_url"] == "E" and loaded.values["credentials"]["api_key"] == "from-env"
    assert load_config(str(path), "FLAG", env=env).values["base_url"] == "FLAG"
    assert load_config(None, env={"HOLDED_CONFIG": str(path)}).values["credentials"]["api_key"] == "from-file"


def test_config_mistakes_name_the_fix(tmp_path):
    with pytest.raises(HoldedConfigError, match="HOLDED_API_KEY"):
        load_config(None, env={})
    with pytest.raises(HoldedConfigError, match="--config"):
        load_config(str(tmp_path / "missing.yaml"), env={})
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(HoldedConfigError, match="object"):
        load_config(str(listed), env={})


def test_rotated_refresh_token_is_written_back_owner_only(tmp_path):
    path = tmp_path / "oauth.yaml"
    path.write_text("credentials:\n  auth_type: oauth2\n  client_id: c\n  client_secret: s\n  refresh_token: old\n")
    loaded = load_config(str(path), env={})
    assert loaded.save_refresh_token("new-token")
    assert "refresh_token: new-token" in path.read_text()
    assert path.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("5m", 300), ("1h", 3600), ("1.5m", 90), ("45", 45)])
def test_every(text, seconds):
    assert parse_every(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "-5m", "0s", "5 minutes"])
def test_every_refuses_what_it_cannot_read(text):
    with pytest.raises(HoldedConfigError, match="30s, 5m"):
        parse_every(text)


def test_signature_is_hmac_sha256_of_the_raw_body():
    body = b'{"id":"e1"}'
    header = sign("s3cret-value", body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify("s3cret-value", body, header)
    assert not verify("s3cret-value", body + b" ", header)
    assert not verify("other-secret", body, header)
    assert not verify("s3cret-value", body, None)


def test_webhook_needs_a_secret_and_an_http_url(tmp_path):
    with Store(tmp_path / "w.duckdb") as store:
        with pytest.raises(HoldedConfigError, match="HOLDED_EVENTS_SECRET"):
            Webhook(store, "http://127.0.0.1:1/x", "")
        with pytest.raises(HoldedConfigError, match="http"):
            Webhook(store, "ftp://example.com/x", "secret-value")


def test_undelivered_events_stay_queued_in_order(tmp_path):
    with Store(tmp_path / "q.duckdb") as store:
        store.ensure_table(table_for(events_stream()))
        events = [make_event(f"e{i}", "genericUser", str(i)) for i in range(3)]
        store.commit({"changeEvents": events}, {})
        hook = Webhook(store, "http://127.0.0.1:9/unreachable", "secret-value", attempts=2, sleep=lambda _s: None)
        hook.subscribe(0)
        report = hook.deliver_pending()
        assert (report.delivered, report.pending, report.failed_attempts) == (0, 3, 2)
        assert [e["id"] for e in hook.pending()] == ["e0", "e1", "e2"]
        attempts = store.con.execute("SELECT event_id, attempts, delivered_at FROM _holded_deliveries").fetchall()
        assert attempts == [("e0", 2, None)]  # stopped at the first event: order is kept
        hook.close()
