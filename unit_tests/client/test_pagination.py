"""Pagination exactly as Holded v1 does it: 1-based pages of 500, stop at the first short page."""

from __future__ import annotations

import pytest

from holded_core import PAGE_SIZE
from unit_tests.conftest import control


def _requests_made(sandbox) -> int:
    return control(sandbox, "GET", "stats")["requests"]["total"]


@pytest.mark.parametrize("count", [0, 499, 500, 501, 1000])
def test_every_record_once_sequential(sandbox, make_client, count):
    control(sandbox, "POST", "fill", collection="contacts", count=count)
    client = make_client(read_ahead=0)
    before = _requests_made(sandbox)
    ids = [record["id"] for record in client.iter_records("/invoicing/v1/contacts")]
    assert len(ids) == count
    assert len(set(ids)) == count
    # Full pages force one more request to learn the list ended; a short page ends it at once.
    assert _requests_made(sandbox) - before == count // PAGE_SIZE + 1


@pytest.mark.parametrize("count", [0, 499, 500, 501, 1000])
def test_read_ahead_returns_the_same_records(sandbox, make_client, count):
    control(sandbox, "POST", "fill", collection="contacts", count=count)
    sequential = [r["id"] for r in make_client(read_ahead=0).iter_records("/invoicing/v1/contacts")]
    ahead = [r["id"] for r in make_client(read_ahead=3).iter_records("/invoicing/v1/contacts")]
    assert ahead == sequential


def test_pages_are_lazy(sandbox, make_client):
    control(sandbox, "POST", "fill", collection="contacts", count=1200)
    client = make_client(read_ahead=0)
    before = _requests_made(sandbox)
    records = client.iter_records("/invoicing/v1/contacts")
    assert _requests_made(sandbox) == before  # nothing fetched until iterated
    next(records)
    assert _requests_made(sandbox) - before == 1
    records.close()


def test_read_ahead_stops_after_early_close(sandbox, make_client):
    control(sandbox, "POST", "fill", collection="contacts", count=5000)
    client = make_client(read_ahead=2)
    before = _requests_made(sandbox)
    pages = client.iter_pages("/invoicing/v1/contacts")
    first = next(pages)
    assert first.number == 1 and len(first.records) == PAGE_SIZE
    pages.close()
    # At most the pages already in flight were requested, never the whole list.
    assert _requests_made(sandbox) - before <= 3


def test_employees_wrapper_is_unwrapped(sandbox, make_client):
    employees = list(make_client().iter_records("/team/v1/employees"))
    assert employees and all("id" in e for e in employees)
