"""`holded demo`: the whole loop on the sandbox, no account and no config.

Starts the sandbox, syncs it into a fresh DuckDB file, changes a few records through the sandbox's
Holded routes (one contact edited, one company created, one lead deleted), syncs again to show the
incremental run and its change events, and prints a few example queries with their answers.

Which Holded API (`api_version`): `v2` by default, what a new Holded user gets (an API token,
`pat_...`, made in Settings > Developers > Credentials > Add API Token): the syncs read through API v2 and the edits
go through v2's routes (a contact `PUT` is a full replace, so the edit sends the whole contact back
with one field changed, as Holded's app does). `v1` runs the same loop with an API v1 key through
v1's routes, for existing integrations. Either way the same records, ids and change events come out;
the summaries name the API. The token and the key are the sandbox's own and are never printed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from rich.console import Console
from rich.table import Table

from holded_cli.progress import Progress, summary_table
from holded_cli.store import Store
from holded_cli.sync_job import SyncJob, SyncResult
from holded_core.adapter import select_streams
from holded_core.client import HoldedClient
from holded_core.settings import parse_settings
from holded_sandbox.testing import sandbox_process

DEMO_KEY = "demo-api-key"  # the sandbox's API v1 key
DEMO_TOKEN = "pat_demo-api-token"  # the sandbox's API v2 token (every permission)
API_VERSIONS = ("v2", "v1")  # the first is the default
PHONE = "+34 600 000 001"  # the edited contact's new phone
NEW_COMPANY = {"name": "Demo Nueva SL", "email": "hola@demo-nueva.es"}
# What a v2 contact PUT takes (shared/holded-api/v2/README.md, "Writes": a full replace, a field left out
# is reset), read back from the contact's GET; the rest of the GET answer (ids, times, notes) is not sent.
CONTACT_PUT_FIELDS = (
    "name", "code", "vat_number", "trade_name", "is_person", "email", "phone", "mobile", "website", "type",
    "bill_address", "custom_fields", "defaults", "contact_persons", "custom_id",
)  # fmt: skip

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


def _answer(resp: requests.Response) -> Any:
    """The JSON of a 2xx answer (None for 204); anything else stops the demo naming the route."""
    if not resp.ok:
        raise RuntimeError(
            f"the sandbox refused {resp.request.method} {resp.url}: HTTP {resp.status_code} {resp.text[:200]}"
        )
    return resp.json() if resp.content else None


def _changes_v1(base_url: str) -> None:
    """Three edits through Holded's API v1 routes (the `key` header), as a user of the Holded app would make them."""
    session = requests.Session()
    session.headers["key"] = DEMO_KEY
    contacts = _answer(session.get(f"{base_url}/invoicing/v1/contacts", timeout=30))
    person = next(c for c in contacts if c.get("isperson"))
    _answer(session.put(f"{base_url}/invoicing/v1/contacts/{person['id']}", json={"phone": PHONE}, timeout=30))
    _answer(session.post(f"{base_url}/invoicing/v1/contacts", json={**NEW_COMPANY, "isperson": 0}, timeout=30))
    lead = _answer(session.get(f"{base_url}/crm/v1/leads", timeout=30))[0]
    _answer(session.delete(f"{base_url}/crm/v1/leads/{lead['id']}", timeout=30))


def _changes_v2(base_url: str) -> None:
    """The same three edits through Holded's API v2 routes (`Authorization: Bearer pat_...`).

    v2's contact `PUT` replaces the whole contact, so the edit reads the contact, changes its phone and
    sends every field back (what Holded's app does when a user edits one field): only the phone changes.
    """
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {DEMO_TOKEN}"
    v2 = f"{base_url}/v2"
    page = _answer(session.get(f"{v2}/contacts", params={"limit": 100}, timeout=30))
    person_id = next(c["id"] for c in page["items"] if c.get("is_person"))
    person = _answer(session.get(f"{v2}/contacts/{person_id}", timeout=30))
    body = {name: person[name] for name in CONTACT_PUT_FIELDS if person.get(name) is not None}
    _answer(session.put(f"{v2}/contacts/{person_id}", json={**body, "phone": PHONE}, timeout=30))
    _answer(session.post(f"{v2}/contacts", json={**NEW_COMPANY, "is_person": False, "type": "client"}, timeout=30))
    lead = _answer(session.get(f"{v2}/leads", params={"limit": 1}, timeout=30))["items"][0]
    _answer(session.delete(f"{v2}/leads/{lead['id']}", timeout=30))


CHANGES: dict[str, Callable[[str], None]] = {"v1": _changes_v1, "v2": _changes_v2}
CREDENTIALS: dict[str, dict[str, str]] = {
    "v1": {"auth_type": "api_key", "api_key": DEMO_KEY},
    "v2": {"auth_type": "api_token", "token": DEMO_TOKEN},
}
HOW: dict[str, str] = {
    "v1": "Holded API v1 with an API key (deprecated; what existing integrations use)",
    "v2": "Holded API v2 with an API token (pat_..., what Holded issues today)",
}


def quota_line(client: HoldedClient) -> str:
    """What the month's requests came to, from Holded API v2's `/usage` (itself one request)."""
    usage = client.usage()
    through_v1 = sum(n for route, n in usage.by_route.items() if route.startswith("api_v1_legacy"))
    limit = f" of {usage.limit:,}" if usage.limit is not None else ""
    used = f"{usage.used:,}{limit} used in {usage.period}, {through_v1:,} through API v1"
    return f"Monthly quota (Holded API v2 counts every request): {used}."


def _query_table(store: Store, title: str, sql: str) -> Table:
    cursor = store.con.execute(sql)
    table = Table(title=title, title_justify="left")
    for column in cursor.description:
        table.add_column(column[0])
    for row in cursor.fetchall():
        table.add_row(*("" if v is None else str(v) for v in row))
    return table


def run_demo(db: Path, scale: float, console: Console, live: bool | None, api_version: str = API_VERSIONS[0]) -> int:
    """Run the demo; returns the exit code (0: both syncs complete).

    Args:
        db: the DuckDB file to (re)create.
        scale: the sandbox's size (1 ~ 1,000 contacts, 2,000 invoices).
        console: where the summaries and queries are printed.
        live: the live progress table (None: when the console is a terminal).
        api_version: `v2` (an API token, the default) or `v1` (an API key).

    Raises:
        ValueError: an `api_version` other than v1 or v2.
    """
    if api_version not in CHANGES:
        raise ValueError(f"api_version must be one of {', '.join(API_VERSIONS)}, not {api_version!r}")
    if db.exists():
        db.unlink()
    console.print(f"Starting the Holded sandbox (scale {scale:g}) ...")
    with sandbox_process("--scale", str(scale), api_key=DEMO_KEY, api_token=DEMO_TOKEN) as sandbox:
        settings = parse_settings({"credentials": CREDENTIALS[api_version], "base_url": sandbox.base_url})
        assert settings.client.dialect == api_version  # the credential decides; the demo states it
        selection = select_streams(settings, None)  # the ten unified streams and changeEvents

        def sync(title: str) -> SyncResult:
            with Store(db) as store:
                result = SyncJob(settings, store, selection, progress=Progress(live=live)).run()
            outside = result.requests_outside  # the basics check: the per-stream counts leave it out
            requests_made = f"{result.requests} requests to Holded API {api_version} ({outside} outside the streams)"
            heading = f"{title}: {result.seconds:.1f}s, {requests_made}"
            console.print(summary_table(result.view, result.totals, heading, outside=outside))
            return result

        console.print(f"Syncing {sandbox.base_url} into {db} through {HOW[api_version]} ...")
        first = sync("First sync (everything is new)")
        console.print(
            f"Changing three records in the sandbox through API {api_version}'s routes: one contact edited, "
            "one company created, one lead deleted"
        )
        CHANGES[api_version](sandbox.base_url)
        second = sync("Second sync (incremental)")
        if api_version == "v2":
            with HoldedClient(settings.client) as client:
                console.print(quota_line(client))
    with Store(db) as store:
        for title, sql in EXAMPLES:
            console.print(_query_table(store, title, sql))
            console.print(sql, style="dim", markup=False, highlight=False)
            console.print()
    other = "v1" if api_version == "v2" else "v2"
    console.print(f"Read through {HOW[api_version]}. `holded demo --api-version {other}` runs it on API {other}.")
    console.print(f'Your data is in {db}. Try:  holded query --db {db} "SELECT * FROM genericCompany LIMIT 5"')
    return 0 if not first.failed and not second.failed else 1
