"""Calendar days are days in the account's time zone; instants stay UTC.

Holded keeps a day as the unix seconds of its 00:00 in Madrid: 1 January 2024 is 1704063600, which is
still 31 December in UTC (shared/holded-api/README.md: Calendar dates are midnight in Madrid).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from holded_cli.tables import table_for
from holded_core.errors import HoldedConfigError
from holded_core.mappings import MAPPINGS, to_holded, to_unified
from holded_core.settings import parse_settings
from holded_core.streams import unified_schema
from singer_holded.catalog import catalog_entry

NEW_YEAR_MADRID = 1704063600  # 2024-01-01T00:00 Europe/Madrid = 2023-12-31T23:00Z
NEW_YEAR_CANARY = 1704067200  # 2024-01-01T00:00 Atlantic/Canary = 2024-01-01T00:00Z
JULY_FIRST_MADRID = 1719784800  # 2024-07-01T00:00 Europe/Madrid (summer time, UTC+2)
INVOICE = {"id": "a" * 24, "date": NEW_YEAR_MADRID, "dueDate": 1706655600, "products": []}  # due 2024-01-31
LEAD = {"id": "b" * 24, "dueDate": JULY_FIRST_MADRID, "createdAt": NEW_YEAR_MADRID, "updatedAt": NEW_YEAR_MADRID}
PROJECT = {"id": "c" * 24, "name": "Migración", "date": NEW_YEAR_MADRID, "dueDate": JULY_FIRST_MADRID}
EVENT = {"id": "d" * 24, "name": "Llamada", "startDate": NEW_YEAR_MADRID, "endDate": NEW_YEAR_MADRID + 1800}
DAY_FIELDS = {
    "accountingInvoice": ("issueDate", "dueDate"),
    "crmOpportunity": ("closeDate",),
    "genericWorkspace": ("startDate", "dueDate"),
}
INSTANT_FIELDS = {"crmEngagement": ("startTime", "endTime"), "crmOpportunity": ("createdAt", "updatedAt")}
CONFIG = {"credentials": {"auth_type": "api_key", "api_key": "unit-test-key"}}


def _read(stream: str, record: dict, **kw) -> dict:
    (out,) = to_unified(MAPPINGS[stream][0], record, **kw)
    return out


@pytest.fixture(params=["America/Los_Angeles", "Pacific/Kiritimati"])
def machine_zone(request, monkeypatch) -> Iterator[str]:
    """The process's own zone set far from Madrid (UTC-8 and UTC+14): it must play no part."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    assert time.strftime("%z", time.localtime(NEW_YEAR_MADRID)) in ("-0800", "+1400")
    yield request.param
    monkeypatch.undo()
    time.tzset()


def test_given_holded_date_1704063600_when_read_then_issue_date_is_2024_01_01(machine_zone):
    invoice = _read("accountingInvoice", INVOICE)
    assert (invoice["issueDate"], invoice["dueDate"]) == ("2024-01-01", "2024-01-31")


def test_given_day_fields_of_leads_and_projects_when_read_then_days_in_madrid(machine_zone):
    assert _read("crmOpportunity", LEAD)["closeDate"] == "2024-07-01"  # 2024-06-30T22:00Z
    project = _read("genericWorkspace", PROJECT)
    assert (project["startDate"], project["dueDate"]) == ("2024-01-01", "2024-07-01")


def test_given_instants_when_read_then_they_stay_utc_date_times(machine_zone):
    lead = _read("crmOpportunity", LEAD)
    assert lead["createdAt"] == lead["updatedAt"] == "2023-12-31T23:00:00Z"
    event = _read("crmEngagement", EVENT)
    assert (event["startTime"], event["endTime"]) == ("2023-12-31T23:00:00Z", "2023-12-31T23:30:00Z")


def test_given_unset_days_when_read_then_null():
    invoice = _read("accountingInvoice", {**INVOICE, "date": 0, "dueDate": None})
    assert invoice["issueDate"] is None and invoice["dueDate"] is None


def test_given_a_day_when_written_then_holded_gets_midnight_in_madrid(machine_zone):
    body = to_holded(MAPPINGS["accountingInvoice"][0], {"issueDate": "2024-01-01", "dueDate": "2024-07-01"})
    assert body == {"date": NEW_YEAR_MADRID, "dueDate": JULY_FIRST_MADRID}
    assert to_holded(MAPPINGS["crmOpportunity"][0], {"closeDate": "2024-01-01"}) == {"dueDate": NEW_YEAR_MADRID}
    project = to_holded(MAPPINGS["genericWorkspace"][0], {"startDate": "2024-01-01", "dueDate": "2024-07-01"})
    assert project == {"date": NEW_YEAR_MADRID, "dueDate": JULY_FIRST_MADRID}


def test_given_a_date_time_for_a_day_when_written_then_its_day_in_the_account_zone():
    mapping = MAPPINGS["accountingInvoice"][0]
    # How earlier versions wrote 1 January in Madrid: the same day, not 31 December.
    assert to_holded(mapping, {"issueDate": "2023-12-31T23:00:00Z"}) == {"date": NEW_YEAR_MADRID}
    assert to_holded(mapping, {"issueDate": "2024-01-01T18:30:00"}) == {"date": NEW_YEAR_MADRID}  # no offset


def test_given_a_canary_account_when_read_and_written_then_days_shift_an_hour():
    invoice = _read("accountingInvoice", INVOICE, timezone="Atlantic/Canary")
    assert invoice["issueDate"] == "2023-12-31"  # Madrid's midnight is 23:00 the day before in the Canaries
    assert (
        _read("accountingInvoice", {**INVOICE, "date": NEW_YEAR_CANARY}, timezone="Atlantic/Canary")["issueDate"]
        == "2024-01-01"
    )
    body = to_holded(MAPPINGS["accountingInvoice"][0], {"issueDate": "2024-01-01"}, timezone="Atlantic/Canary")
    assert body == {"date": NEW_YEAR_CANARY}
    settings = parse_settings({**CONFIG, "timezone": "Atlantic/Canary", "start_date": "2024-01-01"})
    assert (settings.options.timezone, settings.options.start_date) == ("Atlantic/Canary", NEW_YEAR_CANARY)


def test_given_another_machine_zone_in_a_fresh_process_then_the_same_days():
    code = (
        "import json\n"
        "from holded_core.mappings import MAPPINGS, to_holded, to_unified\n"
        "m = MAPPINGS['accountingInvoice'][0]\n"
        f"read = next(to_unified(m, {{'id': 'x', 'date': {NEW_YEAR_MADRID}}}))['issueDate']\n"
        "print(json.dumps([read, to_holded(m, {'issueDate': '2024-01-01'})['date']]))\n"
    )
    for zone in ("America/Los_Angeles", "Pacific/Kiritimati", "Asia/Tokyo"):
        out = subprocess.run(
            [sys.executable, "-c", code], env={**os.environ, "TZ": zone}, capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout) == ["2024-01-01", NEW_YEAR_MADRID], zone


def test_given_a_date_only_start_date_then_starttmp_is_its_midnight_in_the_account_zone(machine_zone):
    settings = parse_settings({**CONFIG, "start_date": "2024-01-01"})
    assert settings.options.start_date == NEW_YEAR_MADRID  # the 1 January invoice is listed
    invoices = next(s for s in settings.streams() if s.name == "accountingInvoice")
    assert invoices.listing.query(settings.options.start_date)["starttmp"] == str(NEW_YEAR_MADRID)
    assert parse_settings({**CONFIG, "start_date": "2024-01-01T00:00:00Z"}).options.start_date == NEW_YEAR_CANARY
    assert parse_settings({**CONFIG, "start_date": "2024-01-01T00:00:00"}).options.start_date == NEW_YEAR_MADRID
    assert parse_settings(CONFIG).options.timezone == "Europe/Madrid"


@pytest.mark.parametrize("zone", ["Europe/Madird", "Madrid", "CET+1", "../etc/passwd", 5])
def test_given_an_unknown_timezone_then_one_line_config_error_naming_the_field_and_fix(zone):
    with pytest.raises(HoldedConfigError) as caught:
        parse_settings({**CONFIG, "timezone": zone})
    message = str(caught.value)
    assert message.startswith("`timezone`") and "\n" not in message
    assert "Europe/Madrid" in message and "IANA" in message


def test_given_a_bad_start_date_then_one_line_config_error():
    with pytest.raises(HoldedConfigError, match="`start_date` '01/01/2024' is not a date"):
        parse_settings({**CONFIG, "start_date": "01/01/2024"})


def test_schemas_duckdb_columns_and_singer_catalog_say_date_for_days_and_date_time_for_instants():
    for stream, names in DAY_FIELDS.items():
        spec = next(s for s in parse_settings(CONFIG).streams() if s.name == stream)
        columns = {c.name: c.sql_type for c in table_for(spec).columns}
        singer = catalog_entry(spec)["schema"]["properties"]
        for name in names:
            assert unified_schema(stream)["properties"][name]["format"] == "date", (stream, name)
            assert singer[name]["format"] == "date" and columns[name] == "DATE", (stream, name)
    for stream, names in INSTANT_FIELDS.items():
        spec = next(s for s in parse_settings(CONFIG).streams() if s.name == stream)
        columns = {c.name: c.sql_type for c in table_for(spec).columns}
        for name in names:
            assert unified_schema(stream)["properties"][name]["format"] == "date-time", (stream, name)
            assert columns[name] == "TIMESTAMPTZ", (stream, name)


def test_the_source_and_destination_specs_offer_the_timezone():
    from destination_holded.spec import SPEC as DESTINATION
    from source_holded.spec import SPEC as SOURCE

    for spec in (SOURCE, DESTINATION):
        prop = spec["connectionSpecification"]["properties"]["timezone"]
        assert prop["default"] == "Europe/Madrid" and prop["type"] == "string"
