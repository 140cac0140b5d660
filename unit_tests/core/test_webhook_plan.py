"""Which streams Holded's webhooks keep, the default events, the `webhooks` setting and the reconciliation
schedule (`holded_core.webhook_plan`): pure decisions, no request."""

from __future__ import annotations

import pytest

from holded_core.adapter import select_streams
from holded_core.errors import HoldedConfigError
from holded_core.settings import parse_settings
from holded_core.webhook_plan import (
    DEFAULT_RECONCILE_EVERY,
    WebhookSync,
    by_area,
    default_events,
    kept_by_webhooks,
    parse_events,
    reconcile,
    webhook_sync,
)

DAY = 86400.0
NOW = 1_800_000_000.0
KEPT = ["genericContact", "genericCompany", "accountingInvoice", "accountingInvoiceItem"]


@pytest.fixture
def settings():
    return parse_settings({"credentials": {"auth_type": "api_token", "token": "pat_unit-test-token"}})


def test_given_the_ten_unified_streams_then_webhooks_keep_only_those_read_from_contacts_and_invoices(settings):
    kept = [spec.name for spec in settings.unified() if kept_by_webhooks(spec)]
    assert kept == KEPT
    native = {spec.name: kept_by_webhooks(spec) for spec in settings.streams() if spec.kind == "native"}
    assert native["products"] and native["estimates"] and native["payments"]
    assert not native["leads"] and not native["employees"] and not native["daily_ledger"]


def test_given_the_default_selection_then_the_default_events_are_every_contact_and_invoice_event(settings):
    assert default_events(settings.unified()) == [
        "invoice.create", "invoice.update", "invoice.delete", "invoice.approve",
        "contact.create", "contact.update", "contact.delete",
    ]  # fmt: skip
    assert default_events([s for s in settings.unified() if s.name == "crmOpportunity"]) == []


def test_given_objects_and_events_then_they_expand_in_catalogue_order_and_an_unknown_name_is_one_line():
    assert parse_events(["stock", "invoice.approve", "stock.update"]) == ["invoice.approve", "stock.update"]
    assert len(parse_events(["all"])) == 58
    with pytest.raises(HoldedConfigError, match=r"--events: 'lead' is not a Holded webhook event.*none for leads"):
        parse_events(["lead"])
    assert by_area(["contact.create", "stock.update", "invoice.create"]) == {
        "Sales": ["invoice.create"], "Contacts": ["contact.create"], "Inventory": ["stock.update"],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "flags", "expected"),
    [
        ({}, {}, WebhookSync(False, DEFAULT_RECONCILE_EVERY)),
        ({"webhooks": {"enabled": True, "reconcile_every": "12h"}}, {}, WebhookSync(True, 12 * 3600)),
        ({"webhooks": {"enabled": True}}, {"enabled": False}, WebhookSync(False, DAY)),
        ({}, {"enabled": True, "every": "7d"}, WebhookSync(True, 7 * DAY)),
        ({"webhooks": {"reconcile_every": 90}}, {}, WebhookSync(False, 90)),
    ],
)
def test_given_the_setting_and_flags_then_flags_win(raw, flags, expected):
    assert webhook_sync(raw, **flags) == expected


def test_given_a_wrong_duration_flag_then_the_error_names_the_flag():
    with pytest.raises(HoldedConfigError, match=r"^--reconcile-every '0m' is not a duration"):
        webhook_sync({}, enabled=True, every="0m")
    with pytest.raises(HoldedConfigError, match=r"^`webhooks` must be an object"):
        webhook_sync({"webhooks": True})


def test_given_webhooks_on_when_the_last_listing_is_recent_then_those_streams_are_left_and_the_events_skip_them(
    settings,
):
    selection = select_streams(settings, None)
    listed = {name: NOW - 3600 for name in KEPT}
    plan = reconcile(selection, settings.unified(), listed, WebhookSync(True, DAY), NOW)
    assert [item.name for item in plan.from_webhooks] == KEPT
    assert {item.next_listing for item in plan.from_webhooks} == {NOW - 3600 + 0.9 * DAY}
    assert set(plan.selection.names) == {spec.name for spec in settings.unified()} - set(KEPT) | {"changeEvents"}
    events = [spec.name for spec in plan.selection.event_specs(settings.unified()) or ()]
    assert events == [spec.name for spec in settings.unified() if spec.name not in KEPT]
    assert plan.reconciling == []


def test_given_webhooks_on_when_a_stream_is_due_or_never_listed_then_it_is_listed(settings):
    selection = select_streams(settings, None)
    listed = {"genericContact": NOW - 0.9 * DAY, "genericCompany": NOW - 0.89 * DAY, "accountingInvoice": NOW - 60}
    plan = reconcile(selection, settings.unified(), listed, WebhookSync(True, DAY), NOW)
    # Due at 90% of a day (a daily schedule that starts a little early still reconciles daily); never listed: due.
    assert plan.reconciling == ["genericContact", "accountingInvoiceItem"]
    assert [item.name for item in plan.from_webhooks] == ["genericCompany", "accountingInvoice"]
    events = {spec.name for spec in plan.selection.event_specs(settings.unified()) or ()}
    assert "genericContact" in events and "accountingInvoiceItem" in events
    assert "genericCompany" not in events and "accountingInvoice" not in events


def test_given_webhooks_off_or_forced_then_everything_is_listed(settings):
    selection = select_streams(settings, None)
    listed = {name: NOW for name in KEPT}
    assert reconcile(selection, settings.unified(), listed, WebhookSync(False, DAY), NOW).selection == selection
    forced = reconcile(selection, settings.unified(), listed, WebhookSync(True, DAY), NOW, force=True)
    assert forced.selection.names == selection.names and forced.from_webhooks == []
    assert forced.reconciling == KEPT


def test_given_only_change_events_then_a_model_kept_by_webhooks_waits_under_its_own_key(settings):
    selection = select_streams(settings, ["crmOpportunity", "changeEvents"])
    listed = {"changeEvents:genericContact": NOW - 60}  # its stream's own listing does not count for its events
    plan = reconcile(selection, settings.unified(), listed, WebhookSync(True, DAY), NOW)
    assert [item.name for item in plan.from_webhooks] == ["changeEvents:genericContact"]
    events = {spec.name for spec in plan.selection.event_specs(settings.unified()) or ()}
    assert "genericContact" not in events and "genericCompany" in events
