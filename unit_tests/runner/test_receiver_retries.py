"""The receiver's inbox pauses and retries, its outgoing attempt counter, what it counts as stored, and a read
Holded answers with an empty 200 (never a deletion)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from holded_cli import inbox
from holded_cli.receiver import Receiver
from holded_cli.store import Store
from holded_cli.tables import table_for
from holded_cli.webhooks import ATTEMPT_HEADER, DeliveryReport, Webhook
from holded_core.dialects.v2 import V2
from holded_core.errors import HoldedError
from holded_core.inbound import Applied, Delivery, Inbound, verify_signature
from holded_core.streams import events_stream
from holded_sandbox.webhook_delivery import sign
from unit_tests.runner.conftest import make_event


def delivery(n: int) -> Delivery:
    return Delivery("a" * 24, f"{n:024d}", "contact.update", f"{n:024x}")


def test_given_a_failed_read_then_the_delivery_waits_its_own_pause_and_failed_ones_can_be_requeued(tmp_path):
    with Store(tmp_path / "i.duckdb") as store:
        inbox.add(store.con, delivery(1), b"{}")
        (item,) = inbox.pending(store.con)
        inbox.failed_attempt(store.con, [item], "HTTP 503")
        inbox.add(store.con, delivery(2), b"{}")  # a new delivery arriving meanwhile is due at once
        assert [i.webhook_id for i in inbox.pending(store.con)] == [delivery(2).webhook_id]
        sql = "SELECT epoch(next_attempt_at) - epoch(now()) FROM _holded_inbox WHERE webhook_id = ?"
        assert 1.5 < store.con.execute(sql, [item.webhook_id]).fetchone()[0] <= 2.0
        assert [inbox.pause_after(n) for n in (1, 2, 3, 8, 9)] == [2.0, 4.0, 8.0, 256.0, 300.0]
        for _ in range(inbox.MAX_ATTEMPTS - 1):
            (stored,) = [
                inbox.Stored(*row)
                for row in store.con.execute(
                    "SELECT account_id, webhook_id, event, record_id, attempts FROM _holded_inbox WHERE webhook_id = ?",
                    [item.webhook_id],
                ).fetchall()
            ]
            inbox.failed_attempt(store.con, [stored], "HTTP 503")
        assert inbox.counts(store.con) == {"failed": 1, "pending": 1}
        assert inbox.retry_failed(store.con) == 1
        assert {i.webhook_id: i.attempts for i in inbox.pending(store.con)} == {
            item.webhook_id: 0, delivery(2).webhook_id: 0
        }  # fmt: skip


def test_given_earlier_attempts_then_the_attempt_header_counts_on(tmp_path):
    sent: list[dict[str, str]] = []
    webhook = Webhook(None, "http://127.0.0.1:9/hook", "events-secret", attempts=2, sleep=lambda _: None)
    webhook.session.post = lambda url, data, headers, timeout: (  # type: ignore[method-assign]
        sent.append(dict(headers)) or SimpleNamespace(status_code=500)
    )
    row = {**make_event("e1"), "changedFields": None, "record": None, "origin": "holded", "attempts": 3}
    ok, error = webhook.send(row, DeliveryReport(), lambda *outcome: None)
    assert (ok, error) == (False, "HTTP 500")
    assert [h[ATTEMPT_HEADER] for h in sent] == ["4", "5"]


def test_given_an_upper_case_hex_signature_then_it_is_taken():
    body = b'{"id":"6650f0c2a1b2c3d4e5f60799"}'
    signature = sign("whsec_case", body)
    assert verify_signature("whsec_case", body, "sha256=" + signature.removeprefix("sha256=").upper())
    assert not verify_signature("whsec_case", body, "sha256=" + "0" * 64)


@pytest.mark.parametrize("answer", [{}, [], None])
def test_given_an_empty_200_to_a_read_then_it_is_no_deletion(answer: Any):
    client = SimpleNamespace(get=lambda path: answer)
    inbound = Inbound.__new__(Inbound)
    inbound.client = client  # type: ignore[assignment]
    with pytest.raises(HoldedError, match="empty answer"):
        inbound.fetch(V2.resource("contacts"), "6650f0c2a1b2c3d4e5f60799")


def test_given_an_event_already_stored_then_it_is_neither_stored_again_nor_counted(tmp_path):
    spec = events_stream()
    with Store(tmp_path / "c.duckdb") as store:
        store.ensure_table(table_for(spec))
        event = make_event("e1")
        store.commit({spec.name: [dict(event)]}, {})
        applied = Applied(batches={spec.name: [dict(event)]}, counts={f"{spec.name} updated": 1})  # type: ignore[arg-type]
        stub = SimpleNamespace(tables={spec.name: table_for(spec)})
        assert Receiver._commit(stub, store, applied, [], []) == {}  # type: ignore[arg-type]
        assert store.con.execute(f'SELECT count(*) FROM "{spec.name}"').fetchone() == (1,)
