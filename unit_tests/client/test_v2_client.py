"""The one client, speaking Holded API v2 to the sandbox's v2: chosen by the credential, cursor pages at
the resource's max size, each refusal its own error, the quota respected, no token in any output.

Facts: shared/holded-api/v2/README.md ("Transport", "Auth, permissions, errors", "Rate limits and quota").
"""

from __future__ import annotations

import math

import pytest

from holded_core import HoldedClient, parse_config
from holded_core.errors import (
    HoldedAuthError,
    HoldedConfigError,
    HoldedMissingPermissionError,
    HoldedPaginationError,
    HoldedQuotaError,
)
from holded_sandbox.testing import connector_config
from unit_tests.conftest import control

CONTACTS_V2 = "/v2/contacts"


def _v2(sandbox, **overrides) -> HoldedClient:
    return HoldedClient(connector_config(sandbox, dialect="v2", **{"max_retry_seconds": 20, **overrides}))


def _requests(sandbox) -> int:
    return control(sandbox, "GET", "stats")["requests"]["total"]


def test_given_a_pat_token_then_the_config_speaks_v2_and_a_v1_key_v1(sandbox):
    assert parse_config(connector_config(sandbox, dialect="v2")).dialect == "v2"
    assert parse_config(connector_config(sandbox)).dialect == "v1"
    # A pat_ token sent as a static bearer is v2 too; api_version can say so explicitly.
    bearer = {"credentials": {"auth_type": "bearer", "token": sandbox.api_token}, "base_url": sandbox.base_url}
    assert parse_config(bearer).dialect == "v2"
    with pytest.raises(HoldedConfigError, match="`api_version` is v1 but `credentials` is an API v2 token"):
        parse_config(connector_config(sandbox, dialect="v2", api_version="v1"))


def test_cursor_pages_at_the_max_size_list_every_contact_once_with_the_v1_ids(sandbox):
    control(sandbox, "POST", "fill", collection="contacts", count=250)
    with _v2(sandbox) as client:
        before = _requests(sandbox)
        ids = [c["id"] for c in client.iter_records(CONTACTS_V2, pagination="cursor", page_size=100)]
        assert _requests(sandbox) - before == math.ceil(250 / 100)  # 3 pages of at most 100, no extra probe
    assert len(ids) == len(set(ids)) == 250
    with HoldedClient(connector_config(sandbox)) as v1:
        assert set(ids) == {c["id"] for c in v1.iter_records("/invoicing/v1/contacts")}  # the same ids


def test_a_cursor_that_comes_back_stops_the_listing_and_names_the_route(sandbox):
    control(sandbox, "POST", "fill", collection="contacts", count=30)
    with _v2(sandbox) as client:
        first = client.get(CONTACTS_V2, {"limit": 10})
        # New records each time, but always the same cursor: Holded would answer page 2 for ever.
        pages = [{"items": first["items"][i : i + 2], "cursor": first["cursor"], "has_more": True} for i in (0, 2, 4)]
        script = [{"match": CONTACTS_V2, "method": "GET", "status": 200, "body": page} for page in pages]
        control(sandbox, "PATCH", "faults", script=script)
        with pytest.raises(HoldedPaginationError, match=r"GET /v2/contacts: page 2 .*already used cursor"):
            list(client.iter_records(CONTACTS_V2, pagination="cursor", page_size=10))


def test_given_a_token_without_the_permission_then_the_error_names_it(sandbox):
    token = control(sandbox, "POST", "tokens", permissions=["sales:invoices.read"])["token"]
    config = connector_config(sandbox, dialect="v2")
    config["credentials"]["token"] = token
    with HoldedClient(config) as client, pytest.raises(HoldedMissingPermissionError) as caught:
        client.get(CONTACTS_V2)
    assert caught.value.permission == "contacts:contacts.read"
    assert "tick `contacts:contacts.read` on the API token" in str(caught.value)
    assert token not in str(caught.value)


def test_given_an_unknown_token_or_a_v1_key_on_v2_then_the_credential_is_refused(sandbox):
    for secret in ("pat_unknown0123456789", sandbox.api_key):
        config = {"credentials": {"auth_type": "bearer", "token": secret}, "base_url": sandbox.base_url}
        with HoldedClient(config) as client, pytest.raises(HoldedAuthError, match="Access denied") as caught:
            client.get(CONTACTS_V2)
        assert secret not in str(caught.value)


def test_given_the_monthly_quota_spent_then_one_request_and_a_quota_error_not_retries(sandbox):
    with _v2(sandbox) as client:
        used = client.usage().used
        control(sandbox, "PATCH", "faults", rate_limit_per_month=used + 1)  # this request is the last one
        assert client.get(CONTACTS_V2, {"limit": 1})["items"]
        before = _requests(sandbox)
        with pytest.raises(HoldedQuotaError, match="monthly request quota is spent") as caught:
            client.get(CONTACTS_V2, {"limit": 1})
        assert _requests(sandbox) - before == 1  # not retried in a loop
        assert caught.value.reset is not None and client.stats.retries == 0


def test_the_client_keeps_what_holded_says_of_its_windows_and_reads_the_quota(sandbox):
    control(sandbox, "PATCH", "faults", rate_limit_per_minute=500, rate_limit_per_month=10_000)
    with _v2(sandbox) as client:
        client.get(CONTACTS_V2, {"limit": 1})
        limit, remaining, reset = client.stats.rate_limit["minute"]
        assert limit == 500 and 0 <= remaining < 500 and reset is not None
        usage = client.usage()
    assert usage.limit == 10_000 and usage.used >= 2 and usage.remaining == 10_000 - usage.used
    assert usage.period and any(route.startswith("api_contacts") for route in usage.by_route)


def test_v1_calls_and_v2_calls_count_against_the_same_month(sandbox):
    with _v2(sandbox) as v2, HoldedClient(connector_config(sandbox)) as v1:
        before = v2.usage().used
        v1.get("/invoicing/v1/taxes")
        v1.get("/invoicing/v1/taxes")
        after = v2.usage()
    assert after.used == before + 3  # two v1 calls and the first usage read
    assert after.by_route.get("api_v1_legacy_1", 0) >= 2


def test_no_pat_token_appears_in_errors_logs_or_reprs(sandbox, caplog):
    import logging

    token = sandbox.api_token
    with caplog.at_level(logging.DEBUG), _v2(sandbox, max_retries=1, max_retry_seconds=2) as client:
        control(sandbox, "PATCH", "faults", script=[{"status": 503}, {"status": 503}])
        texts = [repr(client), repr(client.config), client.config.model_dump_json()]
        try:
            client.get(CONTACTS_V2)
        except Exception as exc:  # the 503s exhaust the retries
            texts.append(str(exc))
        texts.append(caplog.text)
    assert all(token not in text for text in texts)


def test_the_client_reads_every_v2_list_the_unified_models_need_with_the_v1_ids(sandbox):
    """Each unified model's resource, as the v2 dialect declares it (route, cursor pages, the largest
    page), lists the same records as its v1 listing: the same ids, each once."""
    from holded_core.dialects.v1 import V1
    from holded_core.dialects.v2 import V2
    from holded_core.mappings import MAPPINGS

    resources = sorted({mappings[0].resource for mappings in MAPPINGS.values()})
    assert resources == ["contacts", "crm_events", "employees", "funnels", "invoices", "leads", "projects"]
    with _v2(sandbox) as v2, HoldedClient(connector_config(sandbox)) as v1:
        for name in resources:
            r2, r1 = V2.resource(name), V1.resource(name)
            ids2 = [r["id"] for r in v2.iter_records(r2.path, pagination=r2.pagination, page_size=r2.page_size)]
            ids1 = [r["id"] for r in v1.iter_records(r1.path, r1.listing.query(None))]
            assert len(ids2) == len(set(ids2)) and sorted(ids2) == sorted(ids1), name


def test_a_v2_route_is_read_with_cursors_by_default_and_never_cut_at_its_first_page(sandbox):
    control(sandbox, "POST", "fill", collection="contacts", count=120)
    with _v2(sandbox) as client:
        assert len(list(client.iter_records(CONTACTS_V2))) == 120  # /v2/: cursor pages unless told otherwise
        with pytest.raises(HoldedPaginationError, match="cursor page with more after it"):
            list(client.iter_records(CONTACTS_V2, pagination="page"))


def test_given_a_problem_json_refusal_then_the_error_carries_holded_detail_and_no_token(sandbox):
    """v2 errors are problem+json `{type, title, status, detail}` (README "Auth, permissions, errors"): the
    detail, not the generic title, is what the writer reports as the record's rejection."""
    from holded_core.errors import HoldedRequestError

    with _v2(sandbox) as client, pytest.raises(HoldedRequestError) as caught:
        client.request("POST", "/v2/leads", json={"name": "Sin embudo"})
    assert caught.value.status_code == 422
    assert caught.value.holded_message == "funnel_id is required."
    assert "funnel_id is required." in str(caught.value) and sandbox.api_token not in str(caught.value)
