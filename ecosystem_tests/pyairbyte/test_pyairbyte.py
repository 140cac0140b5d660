"""What a PyAirbyte user sees with source-holded and destination-holded, counted against the sandbox.

Each expected figure is read from the sandbox through its Holded routes, never hard-coded. Every test runs
once with each Holded API (the `dialect` fixture): an API v1 key reading the ten unified streams, an API v2
token reading `V2_STREAMS`. Runs under .venv-pyairbyte (`make test-pyairbyte`); see conftest.py for the
processes and the offline settings.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import airbyte as ab
import pytest
from airbyte import DuckDBCache

from ecosystem_tests.support import CONTACTS, Sandbox, streams_for

CONTACT_STREAMS = ["genericCompany", "genericContact"]
PHONES = {"v1": ("+34 600 000 001", "+34 600 000 002"), "v2": ("+34 600 000 021", "+34 600 000 022")}


def source_config(sandbox: Sandbox, dialect: str) -> dict[str, Any]:
    # Contact persons (`<companyId>:<personId>`) off: genericContact is then exactly the isperson=1 contacts.
    return {"credentials": sandbox.credentials(dialect), "base_url": sandbox.base_url, "include_contact_persons": False}


def get_source(sandbox: Sandbox, source_exe: str, dialect: str) -> ab.Source:
    return ab.get_source("source-holded", local_executable=source_exe, config=source_config(sandbox, dialect))


def duckdb_cache(directory: Path, name: str) -> DuckDBCache:
    directory.mkdir(parents=True, exist_ok=True)
    return DuckDBCache(db_path=str(directory / f"{name}.duckdb"), cache_dir=directory / f"{name}-files")


def expected_counts(sandbox: Sandbox, dialect: str) -> dict[str, int]:
    """The record count of each stream read with this API, from the sandbox's own Holded listings (contact
    persons off)."""
    counts = sandbox.unified_counts(contact_persons=False)
    return {stream: counts[stream] for stream in streams_for(dialect)}


def connector_logs(exc: BaseException) -> str:
    """The log files a PyAirbyte connector error (and the error it wraps) names, as text."""
    errors = (exc, getattr(exc, "original_exception", None))
    files = {Path(str(f)) for e in errors if (f := getattr(e, "log_file", None))}
    return str(exc) + "".join(f.read_text(errors="replace") for f in files if f.is_file())


def rows(cache: DuckDBCache, stream: str) -> list[dict[str, Any]]:
    return cache[stream].to_pandas().to_dict("records")


@pytest.fixture(scope="module")
def first_read(sandbox, source_exe, dialect, tmp_path_factory) -> tuple[DuckDBCache, Any]:
    """The API's streams read once into a DuckDB cache (the start of the incremental test too)."""
    source = get_source(sandbox, source_exe, dialect)
    source.check()
    source.select_streams(list(streams_for(dialect)))
    cache = duckdb_cache(tmp_path_factory.mktemp(f"incremental-{dialect}"), "holded")
    return cache, source.read(cache=cache)


def test_read_into_duckdb_matches_the_sandbox(sandbox, dialect, first_read) -> None:
    cache, result = first_read
    streams = streams_for(dialect)
    expected = expected_counts(sandbox, dialect)
    assert all(expected.values()), expected  # every stream has data to compare
    assert sorted(result) == sorted(streams)
    assert {stream: len(cache[stream]) for stream in streams} == expected
    assert result.processed_records == sum(expected.values())

    # Values, not only counts. PyAirbyte lower-cases column names: firstName -> firstname.
    contacts = {c["id"]: c for c in sandbox.listing(CONTACTS)}
    people = rows(cache, "genericContact")
    assert {"firstname", "lastname", "phonenumber", "customid"} <= set(people[0])
    for person in people:
        holded = contacts[person["id"]]
        assert holded["isperson"] == 1
        assert " ".join(p for p in (person["firstname"], person["lastname"]) if p) == holded["name"]
        assert person["email"] == (holded["email"] or None)
    for company in rows(cache, "genericCompany"):
        assert contacts[company["id"]]["isperson"] == 0
        assert company["name"] == contacts[company["id"]]["name"]

    # An invoice's contact lands in `customer` (a person) or `company`, never both.
    invoices = sandbox.listing("/invoicing/v1/documents/invoice")
    to_people = Counter(contacts[i["contact"]]["isperson"] == 1 for i in invoices if i.get("contact") in contacts)
    cached = rows(cache, "accountingInvoice")
    assert sum(1 for i in cached if i["customer"]) == to_people[True]
    assert sum(1 for i in cached if i["company"]) == to_people[False]
    assert not any(i["customer"] and i["company"] for i in cached)


def test_second_read_is_incremental(sandbox, source_exe, dialect, first_read) -> None:
    cache, _ = first_read
    streams = streams_for(dialect)
    expected = expected_counts(sandbox, dialect)
    extracted = {s: {r["id"]: r["_airbyte_extracted_at"] for r in rows(cache, s)} for s in CONTACT_STREAMS}
    contacts = sandbox.listing(CONTACTS)
    person = next(c for c in contacts if c["isperson"] == 1)
    company = next(c for c in contacts if c["isperson"] == 0)
    person_phone, company_phone = PHONES[dialect]  # each API's run changes them again
    sandbox.put(f"{CONTACTS}/{person['id']}", {"phone": person_phone})
    sandbox.put(f"{CONTACTS}/{company['id']}", {"phone": company_phone})

    source = get_source(sandbox, source_exe, dialect)
    source.select_streams(list(streams))
    result = source.read(cache=cache)

    # Only the two changed contacts come through; the other streams bring nothing.
    assert result.processed_records == 2
    assert sorted(result) == sorted(streams)
    # The cache merges them by primary key: same totals, new values, only those two rows re-extracted.
    assert {stream: len(cache[stream]) for stream in streams} == expected
    after = {s: {r["id"]: r for r in rows(cache, s)} for s in CONTACT_STREAMS}
    assert after["genericContact"][person["id"]]["phonenumber"] == person_phone
    assert after["genericCompany"][company["id"]]["phonenumber"] == company_phone
    changed = {
        s: sorted(i for i, row in after[s].items() if row["_airbyte_extracted_at"] != extracted[s][i])
        for s in CONTACT_STREAMS
    }
    assert changed == {"genericContact": [person["id"]], "genericCompany": [company["id"]]}


def test_destination_writes_each_contact_once(
    sandbox, target_sandbox, source_exe, destination_exe, dialect, tmp_path
) -> None:
    holded = sandbox.listing(CONTACTS)
    assert target_sandbox.listing(CONTACTS) == []
    source = get_source(sandbox, source_exe, dialect)
    read = source.read(cache=duckdb_cache(tmp_path, "to-write"), streams=CONTACT_STREAMS, force_full_refresh=True)
    destination = ab.get_destination(
        "destination-holded",
        local_executable=destination_exe,
        config={
            "credentials": target_sandbox.credentials(dialect),
            "base_url": target_sandbox.base_url,
            "requests_per_second": 50,
        },
    )
    destination.check()

    # 1. From the cache (lower-cased columns): every contact created, as a person or a company.
    first = destination.write(read)
    assert first.processed_records == len(holded)
    written = target_sandbox.listing(CONTACTS)
    assert len(written) == len(holded)
    by_custom_id = {c["customId"]: c for c in written}  # the destination's matching key
    assert len(by_custom_id) == len(written)
    for contact in holded:
        copy = by_custom_id[contact["customId"] or contact["id"]]
        for name in ("name", "isperson", "email", "phone", "mobile", "code", "billAddress"):
            assert copy[name] == contact[name], (contact["id"], name)
    creates = target_sandbox.control("GET", "stats")["creates"]
    versions = {c["id"]: c["updatedHash"] for c in written}

    # 2. The same records again, and 3. straight from the source without a cache (camelCase fields):
    # every record matched to what step 1 created, nothing created, nothing rewritten.
    again = destination.write(read)
    streamed = destination.write(source, streams=CONTACT_STREAMS, cache=False, state_cache=False)
    assert again.processed_records == streamed.processed_records == len(holded)
    final = target_sandbox.listing(CONTACTS)
    assert {c["id"]: c["updatedHash"] for c in final} == versions
    assert target_sandbox.control("GET", "stats")["creates"] == creates
