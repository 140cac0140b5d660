"""The receiver's durable inbox: Holded's webhook deliveries, stored before they are answered.

Table `_holded_inbox` of the DuckDB file (`holded_cli/store.py`), one row per delivery, primary key
(account id, webhook id), so a delivery Holded sends twice is stored once. A row is `pending` until the
processor read its object again and committed what changed (in the same transaction it is marked
`processed`), `ignored` when no selected stream reads its object, `failed` after `MAX_ATTEMPTS` reads that
failed (the error is kept in `last_error`). Done rows are forgotten after `KEEP_DAYS` (`prune`, at start).
Each failed read sets the row's own `next_attempt_at` (a pause that doubles from 2 s up to `MAX_PAUSE`), and
`pending` hands out only rows that are due, so deliveries arriving meanwhile never bring a retry forward.
`retry_failed` puts `failed` rows back to `pending` (`holded webhooks serve --retry-failed`).

DuckDB lets one process write a file at a time. The receiver holds it for milliseconds per delivery; when
another `holded` command holds it (a `holded sync` can take minutes), a delivery is appended to the spool
instead, `<db>.webhooks-spool.jsonl` (one JSON line, flushed and fsync'd before the answer), and moved into
the table at the next opening: de-duplication applies then. A line cut short by a crash was never
acknowledged (the answer follows the fsync), so it is skipped.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import orjson

from holded_cli.store import INBOX
from holded_core.inbound import Delivery

KEEP_DAYS = 30  # days a done delivery is kept (for de-duplication and for looking back)
MAX_ATTEMPTS = 10  # reads of one delivery's object that failed before the delivery is marked failed
FIRST_PAUSE = 2.0  # seconds before a failed read is tried again; doubles with each failure
MAX_PAUSE = 300.0  # the longest pause between two reads of one delivery's object


def pause_after(attempts: int) -> float:
    """Seconds before the next read of a delivery whose object failed to be read `attempts` times."""
    return min(FIRST_PAUSE * 2 ** max(attempts - 1, 0), MAX_PAUSE)


@dataclass(frozen=True)
class Stored:
    """A pending delivery, as the processor takes it."""

    account_id: str
    webhook_id: str
    event: str
    record_id: str | None
    attempts: int


def add(con: duckdb.DuckDBPyConnection, delivery: Delivery, body: bytes) -> bool:
    """Store one delivery (committed when this returns). False when it was stored before (a duplicate)."""
    rows = con.execute(
        f"""INSERT INTO {INBOX} (account_id, webhook_id, event, record_id, received_at, status, attempts, body)
            VALUES (?, ?, ?, ?, now(), 'pending', 0, ?) ON CONFLICT DO NOTHING RETURNING webhook_id""",
        [delivery.account_id, delivery.webhook_id, delivery.event, delivery.record_id, body.decode("utf-8", "replace")],
    ).fetchall()
    return bool(rows)


def pending(con: duckdb.DuckDBPyConnection, limit: int = 500) -> list[Stored]:
    """The oldest pending deliveries that are due (no failed read waiting out its pause), in arrival order."""
    rows = con.execute(
        f"""SELECT account_id, webhook_id, event, record_id, attempts FROM {INBOX}
            WHERE status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= now())
            ORDER BY received_at, webhook_id LIMIT ?""",
        [limit],
    ).fetchall()
    return [Stored(*row) for row in rows]


def retry_failed(con: duckdb.DuckDBPyConnection) -> int:
    """Put every `failed` delivery back to `pending`, its attempts counted from zero. Returns how many."""
    rows = con.execute(
        f"""UPDATE {INBOX} SET status = 'pending', attempts = 0, next_attempt_at = NULL, processed_at = NULL
            WHERE status = 'failed' RETURNING webhook_id"""
    ).fetchall()
    return len(rows)


def mark(con: duckdb.DuckDBPyConnection, items: Sequence[Stored], status: str, error: str | None = None) -> None:
    """Set `status` (processed, ignored, failed) on these deliveries."""
    if items:
        keys = [[item.account_id, item.webhook_id] for item in items]
        con.execute(
            f"""UPDATE {INBOX} SET status = ?, last_error = ?, processed_at = now()
                WHERE [account_id, webhook_id] IN (SELECT unnest(?::VARCHAR[][]))""",
            [status, error, keys],
        )


def failed_attempt(con: duckdb.DuckDBPyConnection, items: Sequence[Stored], error: str) -> int:
    """Count one more failed read for these deliveries, each due again after its own pause (`pause_after`);
    those past `MAX_ATTEMPTS` become `failed`. Returns how many became failed."""
    given_up = [item for item in items if item.attempts + 1 >= MAX_ATTEMPTS]
    rows = [[item.account_id, item.webhook_id, pause_after(item.attempts + 1)] for item in items]
    con.executemany(
        f"""UPDATE {INBOX} SET attempts = attempts + 1, last_error = ?,
                next_attempt_at = now() + to_microseconds(CAST(? * 1000000 AS BIGINT))
            WHERE account_id = ? AND webhook_id = ?""",
        [[error, pause, account, webhook] for account, webhook, pause in rows],
    )
    mark(con, given_up, "failed", error)
    return len(given_up)


def prune(con: duckdb.DuckDBPyConnection, days: int = KEEP_DAYS) -> int:
    """Forget deliveries done (processed, ignored, failed) more than `days` ago; Holded stops retrying long
    before, so de-duplication never needs them. Returns how many were removed."""
    rows = con.execute(
        f"""DELETE FROM {INBOX} WHERE status <> 'pending' AND processed_at < now() - to_days(?)
            RETURNING webhook_id""",
        [days],
    ).fetchall()
    return len(rows)


def counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Deliveries by status."""
    return dict(con.execute(f"SELECT status, count(*) FROM {INBOX} GROUP BY status").fetchall())


class Spool:
    """The fallback journal next to the database, used while another process holds the file.

    Args:
        db: the DuckDB file; the spool is `<db>.webhooks-spool.jsonl` beside it.
    """

    def __init__(self, db: Path) -> None:
        self.path = db.with_name(db.name + ".webhooks-spool.jsonl")
        self._lock = threading.Lock()

    def append(self, delivery: Delivery, body: bytes) -> None:
        """Append one delivery durably (flushed and fsync'd when this returns)."""
        line = orjson.dumps(
            {
                "account_id": delivery.account_id,
                "webhook_id": delivery.webhook_id,
                "event": delivery.event,
                "record_id": delivery.record_id,
                "body": body.decode("utf-8", "replace"),
            }
        )
        with self._lock, open(self.path, "ab") as fh:
            fh.write(line + b"\n")
            fh.flush()
            os.fsync(fh.fileno())

    def _lines(self) -> Iterator[dict[str, Any]]:
        with open(self.path, "rb") as fh:
            for raw in fh:
                try:
                    item = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    continue  # cut short by a crash before its fsync: never acknowledged
                if isinstance(item, dict) and item.get("account_id") and item.get("webhook_id"):
                    yield item

    def drain(self, con: duckdb.DuckDBPyConnection) -> int:
        """Move every spooled delivery into the inbox table (duplicates dropped), then empty the spool.
        Returns how many were new. Called with the database open; a crash before the spool is emptied only
        moves the same deliveries again, which de-duplication absorbs."""
        with self._lock:
            if not self.path.exists() or self.path.stat().st_size == 0:
                return 0
            added = 0
            con.execute("BEGIN TRANSACTION")
            try:
                for item in self._lines():
                    delivery = Delivery(item["account_id"], item["webhook_id"], item["event"], item.get("record_id"))
                    added += add(con, delivery, str(item.get("body") or "").encode())
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            os.truncate(self.path, 0)
            return added
