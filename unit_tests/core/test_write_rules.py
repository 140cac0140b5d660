"""The write rules declared with each model (`ModelMapping.write`) name what exists: they are the only
per-model knowledge the writer has, so a misspelt field would silently turn a rule off."""

from __future__ import annotations

import pytest

from holded_core.mappings import (
    ACCOUNTING_INVOICE,
    ACCOUNTING_INVOICE_ITEM,
    CRM_OPPORTUNITY,
    GENERIC_COMPANY,
    MAPPINGS,
    to_holded,
)
from holded_core.writes import TARGETS, WRITTEN, Target, parent_of, target_of

STREAMS = sorted(TARGETS)
EVERY_TARGET = [target for targets in WRITTEN.values() for target in targets]


def test_given_the_ten_unified_models_then_each_declares_how_it_is_written():
    assert sorted(MAPPINGS) == STREAMS
    # A stream's later written mappings say which of its records they write; the first writes the rest.
    assert all(t.rules.claims is not None for targets in WRITTEN.values() for t in targets[1:])
    assert all(targets[0].rules.claims is None for targets in WRITTEN.values())


def test_given_a_contact_person_id_then_it_is_written_through_its_company():
    person = {"id": "co1:p1", "firstName": "Itziar"}
    assert target_of("genericContact", person).rules.embedded.parent == "genericCompany"
    assert target_of("genericContact", {"id": "p1"}) is TARGETS["genericContact"]
    assert parent_of("genericContact", person) == ("genericCompany", "co1")
    assert parent_of("genericContact", {"id": "p1"}) is None


@pytest.mark.parametrize("target", EVERY_TARGET, ids=lambda t: f"{t.stream}-{t.mapping.children or 'top'}")
def test_given_a_written_model_then_every_unified_field_its_rules_name_is_one_of_its_fields(target: Target):
    rules = target.rules
    named = {*rules.required, *rules.key_fields, *rules.computed, *rules.set_once, *rules.references}
    named |= {rules.custom_id} if rules.custom_id else set()
    named |= {rules.approval.field, rules.approval.declared} if rules.approval else set()
    named |= {rules.embedded.field} if rules.embedded else set()
    assert named <= set(target.mapping.model.model_fields), named - set(target.mapping.model.model_fields)


@pytest.mark.parametrize("target", EVERY_TARGET, ids=lambda t: f"{t.stream}-{t.mapping.children or 'top'}")
def test_given_a_written_model_then_every_holded_field_its_rules_name_is_one_a_field_sends(target: Target):
    rules = target.rules
    sent = {fld.sent_as for fld in target.mapping.fields if fld.write is not None} | {"customFields"}
    named = {*rules.create_only, *rules.update_drops}
    assert named <= sent, named - sent


@pytest.mark.parametrize("target", EVERY_TARGET, ids=lambda t: f"{t.stream}-{t.mapping.children or 'top'}")
def test_given_a_written_model_then_its_references_parent_and_lines_are_written_models(target: Target):
    rules, stream = target.rules, target.stream
    assert all(set(streams) <= set(TARGETS) for streams in rules.references.values())
    if rules.embedded is not None:
        parent = TARGETS[rules.embedded.parent]
        assert parent.rules.embedded is None and target.mapping.children
        assert parent.mapping.resource == target.mapping.resource  # written by rewriting the parent
        assert parent_of(stream, {"id": "p:1"}) == (rules.embedded.parent, "p")
    elif rules.claims is None:
        assert parent_of(stream, {"id": "p1"}) is None
    if rules.approval is not None:
        lines = TARGETS[rules.approval.lines].rules.embedded
        assert lines is not None and lines.parent == stream


def test_given_a_line_then_its_write_form_calls_the_unit_price_subtotal_and_leaves_the_product_out():
    """openapi-v1/invoice.json: a document's `items[]` take the unit price as `subtotal`; product ids are
    not written (no written model resolves them in the target account)."""
    line = {"id": "i:0", "description": "Horas", "quantity": 2, "unitPrice": 50, "taxRate": 21, "product": "p1"}
    assert to_holded(ACCOUNTING_INVOICE_ITEM, line) == {"name": "Horas", "units": 2, "subtotal": 50, "tax": 21}


def test_given_write_paths_then_a_create_sends_the_names_holded_creates_take():
    """README "Records": contact create takes `CustomId`; openapi-v1 "Create Document" takes `invoiceNum`."""
    assert to_holded(GENERIC_COMPANY, {"name": "A SL", "customId": "c-1"}) == {"name": "A SL", "CustomId": "c-1"}
    assert to_holded(ACCOUNTING_INVOICE, {"number": "F-1"}) == {"invoiceNum": "F-1"}
    assert to_holded(CRM_OPPORTUNITY, {"stage": "f1:s2", "pipeline": "f1"}) == {"stageId": "s2", "funnelId": "f1"}
