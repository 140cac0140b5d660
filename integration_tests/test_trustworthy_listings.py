"""Listings that lie: deletions are confirmed by Holded, and a listing that does not advance stops.

Each input comes from a public report tried on the product (issue "Trustworthy syncs"); each runs
through the real console scripts against the sandbox on 127.0.0.1.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from holded_core import HoldedClient
from holded_core.errors import HoldedNotFoundError, HoldedPaginationError
from holded_core.settings import parse_settings
from holded_core.streams import custom_stream, native_streams
from holded_core.sync import RecordOut, Selected, StateOut, SyncEngine
from holded_sandbox.testing import running_sandbox
from integration_tests.source_helpers import SourceRunner
from integration_tests.test_local_runner import api, count, holded, query, sync
from integration_tests.test_singer import config_for, tap
from unit_tests.conftest import control

CONTACTS = "/invoicing/v1/contacts"
EMPTY_FIRST_PAGE = [{"match": CONTACTS, "method": "GET", "status": 200, "body": []}]


@pytest.fixture
def sandbox() -> Iterator[Any]:
    with running_sandbox(scale=0.05, seed=21, api_key=f"listing-key-{uuid.uuid4().hex[:10]}") as sb:
        yield sb


def query_rows(db, sql: str) -> list[tuple]:
    return query(db, sql)


def _client(sandbox: Any, **overrides: Any) -> HoldedClient:
    return HoldedClient({**config_for(sandbox), **overrides})


def requests_made(sandbox: Any) -> int:
    return control(sandbox, "GET", "stats")["requests"]["total"]


# ------------------------------------------------------------------- 1. deletions are confirmed


def test_given_a_baseline_when_page_one_of_contacts_answers_empty_then_nothing_is_deleted(tmp_path):
    """The reported input, on the scale-1 sandbox: today 0 rows and thousands of `deleted` events."""
    with running_sandbox(scale=1, api_key=f"scale1-{uuid.uuid4().hex[:10]}") as sb:
        db = tmp_path / "holded.duckdb"
        sync(sb, db)
        before = {name: count(db, name) for name in ("genericContact", "genericCompany", "accountingInvoice")}
        events_before = count(db, "changeEvents")
        assert before["genericContact"] > 1000

        control(sb, "PATCH", "faults", script=EMPTY_FIRST_PAGE)
        result = holded(sb, "sync", "--db", str(db), "--json")
        assert result.returncode == 0, result.stderr
        streams = json.loads(result.stdout)["streams"]

        assert {name: count(db, name) for name in before} == before  # rows unchanged
        assert sum(s["new"] + s["changed"] + s["deleted"] for s in streams.values()) == 0
        assert count(db, "changeEvents") == events_before  # not one event
        assert "WARN: genericContact:" in result.stderr and "WARN: genericCompany:" in result.stderr
        assert "the listing was incomplete" in result.stderr
        # The snapshot was kept: the next (honest) listing finds nothing new either.
        third = sync(sb, db)["streams"]
        assert sum(s["new"] + s["changed"] + s["deleted"] for s in third.values()) == 0


def test_given_an_empty_contacts_page_the_source_the_tap_and_events_delete_nothing_either(sandbox, tmp_path):
    base = config_for(sandbox)
    # Airbyte source.
    runner = SourceRunner(tmp_path, base)
    first = runner.read(["genericContact", "genericCompany"])
    assert first.returncode == 0 and first.records["genericCompany"]
    control(sandbox, "PATCH", "faults", script=EMPTY_FIRST_PAGE)
    second = runner.read(["genericContact", "genericCompany"], state=first.state_messages())
    assert second.returncode == 0
    assert [r for rs in second.records.values() for r in rs if r.get("_ab_cdc_deleted_at")] == []
    assert any("genericCompany:" in line and "listing was incomplete" in line for line in second.logs)

    # Singer tap.
    baseline = tap(tmp_path, base)
    control(sandbox, "PATCH", "faults", script=EMPTY_FIRST_PAGE)
    again = tap(tmp_path, base, state=baseline.last_state())
    assert again.result.returncode == 0, again.result.stderr
    tombstones = [m for m in again.of("RECORD") if m["record"].get("_ab_cdc_deleted_at")]
    assert tombstones == [] and again.records("changeEvents") == []

    # holded events (detection only: events print as JSON lines).
    db = tmp_path / "events.duckdb"
    assert holded(sandbox, "events", "--db", str(db)).returncode == 0  # the baseline
    control(sandbox, "PATCH", "faults", script=EMPTY_FIRST_PAGE)
    result = holded(sandbox, "events", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stdout.splitlines() if "::deleted" in line] == []
    assert "changeEvents (genericCompany):" in result.stderr + result.stdout  # the run says why


def test_a_real_deletion_is_confirmed_by_id_and_emitted_once(sandbox, tmp_path):
    db = tmp_path / "holded.duckdb"
    sync(sandbox, db)
    leads = api(sandbox, "GET", "/crm/v1/leads")
    api(sandbox, "DELETE", f"/crm/v1/leads/{leads[0]['id']}")
    before = requests_made(sandbox)
    second = sync(sandbox, db)["streams"]
    assert second["crmOpportunity"]["deleted"] == 1 and second["changeEvents"]["deleted"] == 1
    assert count(db, "crmOpportunity") == len(leads) - 1
    # One read by id confirmed it for both the stream and its events: the listings plus one request.
    listings = requests_made(sandbox) - before - 1
    third_before = requests_made(sandbox)
    sync(sandbox, db)
    assert requests_made(sandbox) - third_before == listings


def test_a_mass_deletion_is_still_reported_once_holded_confirms_each(sandbox, tmp_path):
    db = tmp_path / "holded.duckdb"
    sync(sandbox, db, "--streams", "crmOpportunity")
    leads = api(sandbox, "GET", "/crm/v1/leads")
    gone = leads[: len(leads) // 2]  # 50%: past the 20% share
    for lead in gone:
        api(sandbox, "DELETE", f"/crm/v1/leads/{lead['id']}")
    result = holded(sandbox, "sync", "--db", str(db), "--json", "--streams", "crmOpportunity")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["streams"]["crmOpportunity"]["deleted"] == len(gone)
    assert count(db, "crmOpportunity") == len(leads) - len(gone)
    assert "crmOpportunity:" in result.stderr and f"confirmed {len(gone)} deleted" in result.stderr


def test_the_share_is_the_users_setting_and_a_bad_value_is_one_line(sandbox, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({**config_for(sandbox), "mass_deletion_share": 0.01}))
    db = tmp_path / "holded.duckdb"
    sync(sandbox, db, "--config", str(config), "--streams", "crmOpportunity")
    leads = api(sandbox, "GET", "/crm/v1/leads")
    api(sandbox, "DELETE", f"/crm/v1/leads/{leads[-1]['id']}")
    result = holded(sandbox, "sync", "--db", str(db), "--json", "--config", str(config), "--streams", "crmOpportunity")
    assert json.loads(result.stdout)["streams"]["crmOpportunity"]["deleted"] == 1
    assert "more than the 1% that may vanish" in result.stderr and "confirmed 1 deleted" in result.stderr

    config.write_text(json.dumps({**config_for(sandbox), "mass_deletion_share": 0}))
    refused = holded(sandbox, "sync", "--db", str(db), "--config", str(config))
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "`mass_deletion_share`" in refused.stderr and "Traceback" not in refused.stderr


def _settings(sandbox: Any, **extra: Any) -> Any:
    return parse_settings({**config_for(sandbox), **extra})


def _run(sandbox: Any, specs: list, states: dict, client: HoldedClient | None = None) -> tuple[list, dict]:
    settings = _settings(sandbox, read_ahead=0)
    client = client or HoldedClient(settings.client)
    records, latest = [], dict(states)
    with client:
        engine = SyncEngine(client, [Selected(spec, True) for spec in specs], states, settings.options)
        for out in engine.run():
            if isinstance(out, RecordOut):
                records.append(out.data)
            elif isinstance(out, StateOut):
                latest[out.stream] = out.state
    return records, latest


class _DeletesAfterPageOne(HoldedClient):
    """A real client whose listing of contacts sees a deletion land between page 1 and page 2."""

    victim: str = ""

    def fetch_page(self, path: str, params: Any, page: int, abandon: Any = None) -> Any:
        result = super().fetch_page(path, params, page, abandon)
        if path == CONTACTS and page == 1 and self.victim:
            self.request("DELETE", f"{CONTACTS}/{self.victim}")
            self.victim = ""
        return result


def test_a_record_sliding_onto_a_page_already_read_is_neither_tombstoned_nor_lost(sandbox):
    control(sandbox, "POST", "fill", collection="contacts", count=700)
    contacts_spec = next(s for s in native_streams() if s.name == "contacts")
    _, state = _run(sandbox, [contacts_spec], {})
    listed = api(sandbox, "GET", CONTACTS)  # page 1, in listing order
    victim, slider = listed[0]["id"], api(sandbox, "GET", CONTACTS, params={"page": 2})[0]["id"]
    # The record that slides from page 2 to page 1 was also edited: it must come out as an update.
    api(sandbox, "PUT", f"{CONTACTS}/{slider}", json={"email": "slid@example.com"})

    client = _DeletesAfterPageOne(_settings(sandbox, read_ahead=0).client)
    client.victim = victim
    records, state = _run(sandbox, [contacts_spec], state, client)
    # The victim was listed on page 1 before it went; the slider missed page 2 but Holded still has it.
    assert [r["id"] for r in records if r.get("_ab_cdc_deleted_at")] == []
    assert [r["email"] for r in records if r.get("id") == slider] == ["slid@example.com"]
    # Nothing lost: the next pass tombstones the victim, and only it; then there is nothing left to say.
    after, state = _run(sandbox, [contacts_spec], state)
    assert [(r["id"], bool(r.get("_ab_cdc_deleted_at"))) for r in after] == [(victim, True)]
    again, _ = _run(sandbox, [contacts_spec], state)
    assert again == []


def test_without_a_route_by_id_a_second_listing_confirms_the_deletion(sandbox):
    # Keyed by `sku`, Holded cannot read these records by their key: listings must confirm.
    products = custom_stream({"name": "my_products", "path": "/invoicing/v1/products", "primary_key": "sku"})
    _, state = _run(sandbox, [products], {})
    listed = api(sandbox, "GET", "/invoicing/v1/products")
    api(sandbox, "DELETE", f"/invoicing/v1/products/{listed[0]['id']}")
    first, state = _run(sandbox, [products], state)
    assert first == []  # missing once: held
    second, state = _run(sandbox, [products], state)
    assert [(r["sku"], bool(r.get("_ab_cdc_deleted_at"))) for r in second] == [(listed[0]["sku"], True)]
    third, _ = _run(sandbox, [products], state)
    assert third == []


def test_without_a_route_by_id_listings_that_lose_everything_twice_in_a_row_delete_nothing(sandbox):
    products = custom_stream({"name": "my_products", "path": "/invoicing/v1/products", "primary_key": "sku"})
    _, state = _run(sandbox, [products], {})
    empty = {"match": "/invoicing/v1/products", "method": "GET", "status": 200, "body": []}
    for _ in range(2):
        control(sandbox, "PATCH", "faults", script=[empty])
        records, state = _run(sandbox, [products], state)
        assert records == []  # the listing read again at once had them all


def test_without_a_route_by_id_a_real_mass_deletion_is_confirmed_by_the_next_sync(sandbox):
    products = custom_stream({"name": "my_products", "path": "/invoicing/v1/products", "primary_key": "sku"})
    _, state = _run(sandbox, [products], {})
    listed = api(sandbox, "GET", "/invoicing/v1/products")
    gone = listed[: len(listed) // 2 + 1]  # past the share
    for product in gone:
        api(sandbox, "DELETE", f"/invoicing/v1/products/{product['id']}")
    first, state = _run(sandbox, [products], state)
    assert first == []
    second, _ = _run(sandbox, [products], state)
    assert sorted(r["sku"] for r in second if r.get("_ab_cdc_deleted_at")) == sorted(p["sku"] for p in gone)


def test_an_invoice_whose_contact_was_deleted_is_not_reported_as_changing_hands(sandbox, tmp_path):
    """The contact of a person's invoices goes: the invoices do not move to `company` (a false change)."""
    db = tmp_path / "holded.duckdb"
    sync(sandbox, db)
    invoices = api(sandbox, "GET", "/invoicing/v1/documents/invoice")
    contacts = {c["id"]: c for c in api(sandbox, "GET", CONTACTS)}
    person = next(i["contact"] for i in invoices if contacts.get(i["contact"], {}).get("isperson"))
    api(sandbox, "DELETE", f"{CONTACTS}/{person}")
    result = holded(sandbox, "sync", "--db", str(db), "--json")
    assert result.returncode == 0, result.stderr
    theirs = [i["id"] for i in invoices if i["contact"] == person]
    ids = ", ".join(f"'{i}'" for i in theirs)
    rows = query_rows(db, f"SELECT customer, company FROM accountingInvoice WHERE id IN ({ids})")
    assert len(rows) == len(theirs) and set(rows) == {(None, None)}  # not moved to `company`
    said = " ".join(result.stderr.split())
    assert f"contact {person} is not among Holded's contacts: customer and company left null" in said
    before = requests_made(sandbox)
    again = sync(sandbox, db)["streams"]
    assert sum(s["new"] + s["changed"] + s["deleted"] for s in again.values()) == 0
    # No relisting of contacts for a contact that is simply gone: the listings and nothing else.
    after_first = requests_made(sandbox) - before
    before = requests_made(sandbox)
    sync(sandbox, db)
    assert requests_made(sandbox) - before == after_first


# ------------------------------------------------------------ 2. listings that do not advance


def _identical_pages(sandbox: Any, pages: int = 40) -> list[dict[str, Any]]:
    control(sandbox, "POST", "fill", collection="products", count=500)
    page = api(sandbox, "GET", "/invoicing/v1/products")
    assert len(page) == 500
    route = {"match": "/invoicing/v1/products", "method": "GET", "status": 200, "body": page}
    control(sandbox, "PATCH", "faults", script=[route] * pages)
    return page


def test_given_a_route_answering_the_same_page_the_client_stops_at_the_first_repeat(sandbox):
    page = _identical_pages(sandbox)
    before = requests_made(sandbox)
    seen: list[str] = []
    with pytest.raises(HoldedPaginationError, match=r"GET /invoicing/v1/products: page 2 repeats the 500 records"):
        for record in _client(sandbox, read_ahead=0).iter_records("/invoicing/v1/products"):
            seen.append(record["id"])
    assert seen == [p["id"] for p in page]
    assert requests_made(sandbox) - before == 2


def test_given_forty_identical_pages_holded_sync_counts_distinct_records_and_names_the_route(sandbox, tmp_path):
    _identical_pages(sandbox)
    db = tmp_path / "holded.duckdb"
    result = holded(sandbox, "sync", "--db", str(db), "--json", "--streams", "products")
    summary = json.loads(result.stdout)
    products = summary["streams"]["products"]
    assert products["status"] == "incomplete" and products["new"] == 500  # not 20000
    assert count(db, "products") == 500
    assert "/invoicing/v1/products" in result.stderr and "ignores `page`" in result.stderr
    assert summary["requests"] <= 6  # not 41 (read-ahead may have asked for a page or two more)


def test_a_route_ignoring_page_through_the_switch_stops_instead_of_looping(sandbox):
    control(sandbox, "POST", "fill", collection="products", count=700)
    control(sandbox, "PATCH", "faults", ignore_page=["/invoicing/v1/products"])
    listing = _client(sandbox, read_ahead=2).iter_records("/invoicing/v1/products")
    with pytest.raises(HoldedPaginationError):
        list(listing)
    ids = [r["id"] for r in api(sandbox, "GET", "/invoicing/v1/products", params={"page": 7})]
    assert len(ids) == 700  # every record on every page: what such a route answers


def test_employee_times_are_read_once_because_holded_ignores_page_there(sandbox):
    spec = next(s for s in native_streams() if s.name == "employee_times")
    assert spec.listing is not None and spec.listing.pagination == "none"
    first = api(sandbox, "GET", "/team/v1/employees/times", params={"page": 1})
    assert api(sandbox, "GET", "/team/v1/employees/times", params={"page": 2}) == first  # the quirk
    before = requests_made(sandbox)
    records, _ = _run(sandbox, [spec], {})
    assert requests_made(sandbox) - before == 1
    assert sorted(r["id"] for r in records) == sorted(t["id"] for t in first)


def test_a_shifting_listing_lists_each_record_once(sandbox):
    """A record created while a listing is read pushes one record from page 1 onto page 2: listed once."""
    control(sandbox, "POST", "fill", collection="contacts", count=700)
    client = _client(sandbox, read_ahead=0)
    pages = client.iter_pages(CONTACTS)
    first = next(pages)
    api(sandbox, "POST", CONTACTS, json={"name": "Recién Llegada SL", "isperson": 0})
    rest = [r["id"] for page in pages for r in page.records]
    ids = [r["id"] for r in first.records] + rest
    assert len(ids) == len(set(ids))
    assert len(ids) in (700, 701)  # the new one may land on a page already read; none is listed twice


def test_every_declared_route_by_id_reads_a_listed_record_and_answers_404_for_an_unknown_one(sandbox):
    """Deletions are confirmed through these routes: each must exist and answer 404 for a gone id."""
    checked = []
    with _client(sandbox) as client:
        for spec in native_streams():
            listing = spec.listing
            if listing is None or listing.item is None:
                continue
            records = list(client.iter_records(listing.path, listing.query(None)))
            if not records:
                continue
            read = client.get(listing.item_path(str(records[0]["id"])) or "")
            assert read["id"] == records[0]["id"], spec.name
            with pytest.raises(HoldedNotFoundError):
                client.get(listing.item_path("0" * 24) or "")
            checked.append(spec.name)
    assert {"contacts", "invoices", "leads", "funnels", "projects", "employees", "employee_times"} <= set(checked)


def test_a_document_dated_before_start_date_now_leaves_the_stream_once(sandbox):
    """Read by id, a document whose date moved before `start_date` is gone from the range: a deletion,
    emitted once, and not read again on every later sync."""
    invoices_spec = next(s for s in native_streams() if s.name == "invoices")
    contact = api(sandbox, "GET", CONTACTS)[0]["id"]
    draft = api(sandbox, "POST", "/invoicing/v1/documents/invoice", json={"contactId": contact, "date": 1717192800})
    settings = _settings(sandbox, read_ahead=0, start_date="2024-01-01")

    def run(states: dict) -> tuple[list, dict]:
        records, latest = [], dict(states)
        with HoldedClient(settings.client) as client:
            engine = SyncEngine(client, [Selected(invoices_spec, True)], states, settings.options)
            for out in engine.run():
                if isinstance(out, RecordOut):
                    records.append(out.data)
                elif isinstance(out, StateOut):
                    latest[out.stream] = out.state
        return records, latest

    _, state = run({})
    api(sandbox, "PUT", f"/invoicing/v1/documents/invoice/{draft['id']}", json={"date": 1685570400})  # 2023
    moved, state = run(state)
    assert [(r["id"], bool(r.get("_ab_cdc_deleted_at"))) for r in moved] == [(draft["id"], True)]
    before = requests_made(sandbox)
    again, _ = run(state)
    assert again == [] and requests_made(sandbox) - before == 1  # the listing, no read by id
