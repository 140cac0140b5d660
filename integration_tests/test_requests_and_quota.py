"""Requests are money (DESIGN.md rule 8): every run reports its requests per stream, adding up to what
Holded (the sandbox) counted; on an API v2 token `holded sync` checks the month's quota before it lists
anything; a monthly quota spent mid-run ends the run with the completed streams saved, and the next run
resumes. Real `holded` console script against a sandbox on 127.0.0.1."""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from holded_core import HoldedClient
from holded_core.client import PAGE_SIZE
from holded_core.dialects import dialect_named
from holded_sandbox.testing import connector_config, running_sandbox
from integration_tests.conftest import run_script
from unit_tests.conftest import control

SHARED = {
    ("genericContact", "genericCompany"),
    ("crmPipeline", "crmStage"),
    ("accountingInvoice", "accountingInvoiceItem"),
}


@pytest.fixture
def sandbox() -> Iterator[Any]:
    with running_sandbox(scale=0.3, seed=8, api_key=f"quota-key-{uuid.uuid4().hex[:10]}") as sb:
        yield sb


def counted(sandbox: Any) -> int:
    """Every request the sandbox answered (its own count, 429s included, control routes not)."""
    return sandbox.stats()["requests"]["total"]


def used(sandbox: Any) -> int:
    """The month's usage as the sandbox's quota counts it (what `/v2/usage` says)."""
    return int(control(sandbox, "GET", "usage")["usage"])


def sync(sandbox: Any, db: Path, *args: str, token: str | None = None, config: Path | None = None) -> Any:
    """`holded sync --json` with the v2 token (or the v1 key when `token` is "v1"); returns (result, summary)."""
    env = {"HOLDED_BASE_URL": sandbox.base_url, "HOLDED_API_KEY": "", "HOLDED_API_TOKEN": ""}
    if token == "v1":
        env["HOLDED_API_KEY"] = sandbox.api_key
    elif config is None:
        env["HOLDED_API_TOKEN"] = token or sandbox.api_token
    extra = ("--config", str(config)) if config is not None else ()
    result = run_script("holded", "sync", "--db", str(db), "--json", "--no-progress", *extra, *args, env=env)
    summary = json.loads(result.stdout) if result.stdout.strip() else None
    return result, summary


def assert_adds_up(summary: dict[str, Any], sandbox_counted: int) -> None:
    """The run's total is what Holded counted, and it is the listings' requests plus those outside them;
    each stream carries its listing's count."""
    assert summary["requests"] == sandbox_counted
    listings = summary["listings"]
    assert summary["requests"] == summary["requests_outside_streams"] + sum(entry["requests"] for entry in listings)
    for entry in listings:
        for name in entry["streams"]:
            if name in summary["streams"] and name != "changeEvents":
                stream = summary["streams"][name]
                assert stream["requests"] == entry["requests"], name
                assert set(stream["requests_shared_with"]) == set(entry["streams"]) - {name}


@pytest.mark.parametrize("dialect", ["v1", "v2"])
def test_given_a_sync_then_its_requests_per_stream_add_up_to_what_holded_counted_deletion_confirmations_included(
    sandbox, tmp_path, dialect
):
    db = tmp_path / f"{dialect}.duckdb"
    token = "v1" if dialect == "v1" else None
    before = counted(sandbox)
    first, summary = sync(sandbox, db, token=token)
    assert first.returncode == 0, first.stderr
    assert_adds_up(summary, counted(sandbox) - before)
    assert {tuple(entry["streams"]) for entry in summary["listings"] if len(entry["streams"]) > 1} == SHARED
    if dialect == "v2":  # cursor pages of 100: several pages for contacts and invoices at this scale
        assert summary["streams"]["accountingInvoice"]["requests"] > 1
        assert summary["requests_outside_streams"] == 2  # the basics check and the quota read
    assert f"{summary['requests']} requests in all" in first.stderr  # the summary table's caption

    with HoldedClient(connector_config(sandbox, dialect=dialect)) as client:  # a company deleted in Holded
        company = next(c for c in sandbox.store.all("contacts") if not c.get("isperson"))["id"]
        client.request("DELETE", f"/v2/contacts/{company}" if dialect == "v2" else f"/invoicing/v1/contacts/{company}")
    before = counted(sandbox)
    second, again = sync(sandbox, db, token=token)
    assert second.returncode == 0, second.stderr
    assert again["streams"]["genericCompany"]["deleted"] == 1
    assert_adds_up(again, counted(sandbox) - before)
    # Holded confirmed the deletion by id: one request more for that listing, counted on its streams.
    assert again["streams"]["genericCompany"]["requests"] == summary["streams"]["genericCompany"]["requests"] + 1


def pages_needed(path: str, records: int, dialect: str) -> int:
    """The requests a listing of `records` needs at its route's largest page: v2's cursor pages of the
    resource's maximum `limit` (the last one says `has_more: false`); v1's pages of 500, the first short
    one being the last (so a count that fills its pages exactly needs one empty page more)."""
    if dialect == "v2":
        resource = dialect_named("v2").by_path(path)
        assert resource is not None and resource.page_size, path
        return max(1, math.ceil(records / resource.page_size))
    return records // PAGE_SIZE + 1


@pytest.mark.parametrize("dialect", ["v1", "v2"])
def test_given_syncs_with_nothing_deleted_then_each_listing_costs_exactly_the_pages_its_records_fill(
    sandbox, tmp_path, dialect
):
    """No speculative page (read-ahead past the end), no second listing, no other request: a first sync
    and a second one (whose read-ahead knows the last listing's size) each spend ceil(records / page size)
    per listing (v1: records // 500 + 1), and the run's total is those plus the basics check (and v2's
    quota read)."""
    db = tmp_path / f"{dialect}.duckdb"
    token = "v1" if dialect == "v1" else None
    with HoldedClient(connector_config(sandbox, dialect=dialect)) as client:
        records = {}
        for path in ("/invoicing/v1/contacts", "/invoicing/v1/documents/invoice", "/crm/v1/leads"):
            resource = dialect_named("v1").by_path(path)
            assert resource is not None
            listing = dialect_named(dialect).resource(resource.name).listing
            pages = client.iter_pages(listing.path, pagination=listing.pagination, page_size=listing.page_size)
            records[listing.path] = sum(page.received for page in pages)
    assert max(records.values()) > (100 if dialect == "v2" else PAGE_SIZE)  # several pages at this scale
    for run in ("first", "second"):
        before = counted(sandbox)
        result, summary = sync(sandbox, db, token=token)
        assert result.returncode == 0, result.stderr
        assert_adds_up(summary, counted(sandbox) - before)
        assert summary["requests_outside_streams"] == (2 if dialect == "v2" else 1), run
        for entry in summary["listings"]:
            if entry["path"] in records:
                assert entry["requests"] == pages_needed(entry["path"], records[entry["path"]], dialect), (run, entry)
        listed = {entry["path"] for entry in summary["listings"]}
        assert set(records) <= listed


def set_month_limit(sandbox: Any, limit: int | None) -> None:
    control(sandbox, "PATCH", "faults", rate_limit_per_month=limit)


def test_given_the_last_runs_when_the_quota_left_is_too_small_then_sync_stops_or_fits_what_it_can(sandbox, tmp_path):
    db = tmp_path / "q.duckdb"
    first, summary = sync(sandbox, db)
    assert first.returncode == 0, first.stderr
    assert summary["quota"]["unknown"] and summary["quota"]["estimate"] == 0  # the first run: nothing to go by
    listed = {entry["path"]: entry["requests"] for entry in summary["listings"]}
    second, again = sync(sandbox, db)
    assert second.returncode == 0 and again["quota"]["estimate"] == sum(listed.values()), second.stderr
    assert again["quota"]["unknown"] == [] and f"this sync: about {sum(listed.values())} requests" in second.stderr

    estimate = sum(listed.values())
    set_month_limit(sandbox, used(sandbox) + 2 + estimate - 1)  # after the basics and the usage read: one short
    before = counted(sandbox)
    stopped, nothing = sync(sandbox, db)
    assert stopped.returncode == 2 and stopped.stderr.count("\n") == 1 and nothing is None, stopped.stderr
    assert f"needs about {estimate} requests" in stopped.stderr and "--fit-quota" in stopped.stderr
    assert counted(sandbox) - before == 2  # the basics check and the usage read: no listing

    invoices = listed["/v2/invoices"]
    set_month_limit(sandbox, used(sandbox) + 2 + estimate - invoices)  # everything but the invoices fits
    before = counted(sandbox)
    fitted, fit_summary = sync(sandbox, db, "--fit-quota")
    assert fitted.returncode == 0, fitted.stderr  # what was asked (read what fits) was done
    skipped = {"accountingInvoice", "accountingInvoiceItem", "changeEvents"}
    assert set(fit_summary["skipped"]) == skipped
    assert "skipped: accountingInvoice" in fitted.stderr
    read = {"genericContact", "genericCompany", "genericUser", "genericWorkspace", "crmPipeline", "crmStage",
            "crmOpportunity", "crmEngagement"}  # fmt: skip
    # The run is partial, not complete: the JSON and the summary table say so, and show each skipped stream
    # with the quota as its reason (and the rows its table still holds from before).
    assert fit_summary["status"] == "partial"
    assert {name for name, stream in fit_summary["streams"].items() if stream["status"] == "complete"} == read
    for name in skipped:
        stream = fit_summary["streams"][name]
        assert stream["status"] == "skipped" and stream["reason"].startswith("monthly quota: ") and stream["rows"]
        assert stream["requests"] == 0 and stream["new"] == 0
    table = " ".join(fitted.stderr.split())  # rich wraps long cells
    assert "holded sync partial: 3 streams skipped to fit the monthly quota, in " in table
    assert "complete in" not in table
    assert re.search(r"accountingInvoice - - - [\d,]+ 0 - skipped: monthly quota: about \d+ requests", table), table
    assert counted(sandbox) - before == 2 + estimate - invoices  # it spent what was left, no 429
    assert sandbox.stats()["requests"]["by_status"].get("429", 0) == 0


def test_given_a_token_without_usage_read_when_syncing_then_one_line_says_the_quota_was_not_checked(sandbox, tmp_path):
    token = sandbox.mint_token(["contacts:contacts.read"])
    result, summary = sync(sandbox, tmp_path / "u.duckdb", "--streams", "genericCompany", token=token)
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "developers:usage.read" in line]
    assert len(notes) == 1 and "not checked" in notes[0]
    assert summary["quota"] is None and summary["streams"]["genericCompany"]["rows"] > 0


def test_given_the_monthly_quota_runs_out_mid_sync_then_completed_streams_are_saved_and_the_next_run_resumes(
    sandbox, tmp_path
):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(connector_config(sandbox, dialect="v2", stream_concurrency=1)))  # listings in order
    db = tmp_path / "m.duckdb"
    with HoldedClient(connector_config(sandbox, dialect="v2")) as client:
        contacts_cost = sum(1 for _ in client.iter_pages("/v2/contacts", page_size=100))
    # The basics check, the usage read, the contacts listing and the employees': then the month is spent.
    set_month_limit(sandbox, used(sandbox) + 2 + contacts_cost + 1)
    before = counted(sandbox)
    first, summary = sync(sandbox, db, "--no-events", config=config)
    assert first.returncode == 1, first.stderr
    spent = [line for line in first.stderr.splitlines() if "quota" in line.lower()]
    assert spent[-1].startswith("holded sync: Holded's monthly request quota is spent (until ")
    assert sum("monthly request quota" in line for line in first.stderr.splitlines()) == 1  # said once
    assert summary["quota_spent"] is True and summary["requests"] == counted(sandbox) - before
    assert summary["status"] == "quota_spent"
    assert "holded sync stopped: monthly quota spent, in " in first.stderr  # the summary's title, a sentence
    done = {name for name, stream in summary["streams"].items() if stream["status"] == "complete"}
    assert done == {"genericContact", "genericCompany", "genericUser"}
    # One 429 (the projects listing's first page): the listings after it did not even try.
    assert sandbox.stats()["requests"]["by_status"].get("429") == 1
    with duckdb.connect(str(db), read_only=True) as con:
        saved = {row[0] for row in con.execute("SELECT stream FROM _holded_state").fetchall()}
    assert {"genericContact", "genericCompany", "genericUser"} <= saved

    set_month_limit(sandbox, 100_000)  # a new month
    second, resumed = sync(sandbox, db, "--no-events", config=config)
    assert second.returncode == 0, second.stderr
    for name, stream in resumed["streams"].items():
        if name in done:
            assert stream["new"] == 0, name  # not read as new again: resumed from the saved state
        else:
            assert stream["new"] == stream["rows"] > 0, name
