"""`holded demo`: the whole loop on the sandbox, no account and no config.

Starts the sandbox, syncs it into a fresh DuckDB file, changes a few records through the sandbox's
Holded routes (one contact edited, one lead deleted, one contact created), syncs again to show the
incremental run and its change events, and prints a few example queries with their answers.
"""

from __future__ import annotations

from pathlib import Path

import requests
from rich.console import Console
from rich.table import Table

from holded_cli.progress import Progress, summary_table
from holded_cli.store import Store
from holded_cli.sync_job import SyncJob, SyncResult
from holded_core.adapter import select_streams
from holded_core.settings import parse_settings
from holded_sandbox.testing import sandbox_process

DEMO_KEY = "demo-api-key"

EXAMPLES: tuple[tuple[str, str], ...] = (
    (
        "Top customers by invoiced total",
        """SELECT coalesce(co.name, p.firstName || ' ' || p.lastName) AS customer,
       count(*) AS invoices, round(sum(i.total), 2) AS total
FROM accountingInvoice i
LEFT JOIN genericCompany co ON co.id = i.company
LEFT JOIN genericContact p ON p.id = i.customer
GROUP BY ALL ORDER BY total DESC LIMIT 5""",
    ),
    (
        "Open pipeline per stage",
        """SELECT pl.name AS pipeline, st.name AS stage, count(*) AS deals, round(sum(o.amount), 2) AS amount
FROM crmOpportunity o
JOIN crmPipeline pl ON pl.id = o.pipeline
JOIN crmStage st ON st.id = o.stage
GROUP BY ALL ORDER BY pipeline, min(st.position) LIMIT 8""",
    ),
    (
        "What changed in the last sync",
        """SELECT event, recordId, changedFields FROM changeEvents
WHERE seq > (SELECT max(seq) FROM changeEvents) - 3 ORDER BY seq""",
    ),
)


def _changes(base_url: str) -> None:
    """Three edits through Holded's own routes, as a user of the Holded app would make them."""
    session = requests.Session()
    session.headers["key"] = DEMO_KEY
    contacts = session.get(f"{base_url}/invoicing/v1/contacts", timeout=30).json()
    person = next(c for c in contacts if c.get("isperson"))
    session.put(f"{base_url}/invoicing/v1/contacts/{person['id']}", json={"phone": "+34 600 000 001"}, timeout=30)
    session.post(
        f"{base_url}/invoicing/v1/contacts",
        json={"name": "Demo Nueva SL", "isperson": 0, "email": "hola@demo-nueva.es"},
        timeout=30,
    )
    lead = session.get(f"{base_url}/crm/v1/leads", timeout=30).json()[0]
    session.delete(f"{base_url}/crm/v1/leads/{lead['id']}", timeout=30)


def _query_table(store: Store, title: str, sql: str) -> Table:
    cursor = store.con.execute(sql)
    table = Table(title=title, title_justify="left")
    for column in cursor.description:
        table.add_column(column[0])
    for row in cursor.fetchall():
        table.add_row(*("" if v is None else str(v) for v in row))
    return table


def run_demo(db: Path, scale: float, console: Console, live: bool | None) -> int:
    if db.exists():
        db.unlink()
    console.print(f"Starting the Holded sandbox (scale {scale:g}) ...")
    with sandbox_process("--scale", str(scale), api_key=DEMO_KEY) as sandbox:
        settings = parse_settings(
            {"credentials": {"auth_type": "api_key", "api_key": DEMO_KEY}, "base_url": sandbox.base_url}
        )
        selection = select_streams(settings, None)  # the ten unified streams and changeEvents

        def sync(title: str) -> SyncResult:
            with Store(db) as store:
                result = SyncJob(settings, store, selection, progress=Progress(live=live)).run()
            console.print(summary_table(result.view, result.totals, f"{title}: {result.seconds:.1f}s, "
                                        f"{result.view.stats.requests} requests"))  # fmt: skip
            return result

        console.print(f"Syncing {sandbox.base_url} into {db} ...")
        first = sync("First sync (everything is new)")
        console.print(
            "Changing three records in the sandbox: one contact edited, one company created, one lead deleted"
        )
        _changes(sandbox.base_url)
        second = sync("Second sync (incremental)")
    with Store(db) as store:
        for title, sql in EXAMPLES:
            console.print(_query_table(store, title, sql))
            console.print(sql, style="dim", markup=False, highlight=False)
            console.print()
    console.print(f'Your data is in {db}. Try:  holded query --db {db} "SELECT * FROM genericCompany LIMIT 5"')
    return 0 if not first.failed and not second.failed else 1
