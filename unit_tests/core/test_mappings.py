"""The declarative mappings, spot-checked on Holded-shaped records."""

from __future__ import annotations

import pytest

from holded_core.errors import HoldedConfigError
from holded_core.fieldmap import FieldMapping, extra_fields, parse_field_mappings
from holded_core.mappings import MAPPINGS, from_ts, to_unified
from holded_core.models import MODELS

COMPANY = {
    "id": "61fc58de675bb4b3138fcc23",
    "name": "Reformas Costa Brava S.Coop.",
    "tradeName": 0,
    "code": "F28978823",
    "email": "admin@rcb.es",
    "phone": "+34 923 606 371",
    "isperson": 0,
    "type": "client",
    "billAddress": {"address": "Avda. Industria 61", "city": "Salamanca", "postalCode": "37049", "country": "España"},
    "socialNetworks": {"website": "www.rcb.es"},
    "customFields": [{"field": "Sector", "value": "Construcción"}, {"Cuenta": "430009"}],
    "contactPersons": [{"personId": "65fa7f098d2707d7fe692199", "name": "Itziar Aguilar", "job": "Compras"}],
    "createdAt": 1643927774,
    "updatedAt": 1714247765,
}
PERSON = {"id": "62332193b2a548e5f8985df3", "name": "Adrián Hernández Méndez", "isperson": 1, "updatedAt": 0}


def _one(stream, record, **kw):
    out = [r for m in MAPPINGS[stream] for r in to_unified(m, record, **kw)]
    return out


def test_company_fields_and_custom_fields():
    (company,) = _one("genericCompany", COMPANY)
    assert company["name"] == "Reformas Costa Brava S.Coop."
    assert company["tradeName"] is None  # Holded's 0 placeholder
    assert company["website"] == "www.rcb.es"
    assert company["address"]["postalCode"] == "37049"
    assert company["customFields"] == {"Sector": "Construcción", "Cuenta": "430009"}
    assert company["createdAt"] == "2022-02-03T22:36:14Z"
    MODELS["genericCompany"].model_validate(company)


def test_person_and_contact_persons_are_generic_contacts():
    (person,) = _one("genericContact", PERSON)
    assert (person["firstName"], person["lastName"]) == ("Adrián", "Hernández Méndez")
    assert person["updatedAt"] is None  # 0 means unset
    (contact_person,) = _one("genericContact", COMPANY)
    assert contact_person["id"] == "61fc58de675bb4b3138fcc23:65fa7f098d2707d7fe692199"
    assert contact_person["company"] == COMPANY["id"] and contact_person["jobTitle"] == "Compras"
    assert _one("genericCompany", PERSON) == []


def test_invoice_contact_goes_to_customer_or_company():
    invoice = {"id": "i" * 24, "contact": "p" * 24, "products": [], "date": 1674130089, "currency": "eur"}
    kinds = {"p" * 24: True, "c" * 24: False}
    (as_person,) = _one("accountingInvoice", invoice, is_person_lookup=kinds.get)
    assert as_person["customer"] == "p" * 24 and as_person["company"] is None
    (as_company,) = _one("accountingInvoice", {**invoice, "contact": "c" * 24}, is_person_lookup=kinds.get)
    assert as_company["customer"] is None and as_company["company"] == "c" * 24
    assert as_person["currency"] == "EUR" and as_person["issueDate"] == "2023-01-19"  # 13:08 in Madrid


def test_invoice_lines_amounts_and_tax_rates():
    invoice = {
        "id": "i" * 24,
        "products": [
            {"name": "Monitor", "price": 308.82, "units": 4, "tax": 21, "discount": 0, "productId": "q" * 24},
            {"name": "Horas", "price": 45, "units": 1.5, "tax": 21, "discount": 10},
        ],
    }
    lines = _one("accountingInvoiceItem", invoice)
    assert [line["id"] for line in lines] == ["i" * 24 + ":0", "i" * 24 + ":1"]
    assert lines[0]["amount"] == 1235.28 and lines[0]["taxAmount"] == 259.41 and lines[0]["taxRate"] == 21
    assert lines[1]["amount"] == 60.75 and lines[1]["quantity"] == 1.5
    (inv,) = _one("accountingInvoice", invoice)
    assert inv["lines"] == ["i" * 24 + ":0", "i" * 24 + ":1"]


def test_lead_pipeline_stage_and_default_currency():
    lead = {"id": "l" * 24, "funnelId": "f" * 24, "stageId": "s" * 24, "value": 20100, "status": 2, "userId": "u" * 24}
    (opp,) = _one("crmOpportunity", lead, default_currency="USD")
    assert opp["pipeline"] == "f" * 24 and opp["stage"] == f"{'f' * 24}:{'s' * 24}"
    assert opp["currency"] == "USD" and opp["status"] == "lost" and opp["owner"] == "u" * 24


def test_funnel_stages_are_children_with_parent_ids():
    funnel = {"id": "f" * 24, "name": "Ventas", "stages": [{"stageId": "a" * 24, "name": "Nuevo", "key": "nuevo"}]}
    (pipeline,) = _one("crmPipeline", funnel)
    (stage,) = _one("crmStage", funnel)
    assert pipeline["stages"] == [stage["id"]] == [f"{'f' * 24}:{'a' * 24}"]
    assert stage["pipeline"] == "f" * 24 and stage["type"] == "open" and stage["position"] == 0


def test_a_value_that_does_not_fit_is_reported_and_nulled():
    problems: list[str] = []
    lead = {"id": "l" * 24, "value": "mucho", "name": {"oops": 1}}
    (opp,) = [r for m in MAPPINGS["crmOpportunity"] for r in to_unified(m, lead, problems=problems)]
    assert opp["amount"] is None and opp["name"] is None
    assert any("value" in p and "number" in p for p in problems)
    assert any("name" in p for p in problems)


def test_field_mappings_custom_field_and_path():
    mappings = parse_field_mappings(
        [
            {"stream": "genericCompany", "field": "sector", "holded_custom_field": "Sector"},
            {"stream": "genericCompany", "field": "taxId", "holded_path": "billAddress.postalCode"},
        ],
        list(MAPPINGS),
    )
    (company,) = [
        r
        for r in to_unified(
            MAPPINGS["genericCompany"][0], COMPANY, extra_fields=extra_fields("genericCompany", mappings)
        )
    ]
    assert company["sector"] == "Construcción"
    assert "Sector" not in company["customFields"]  # it has a field of its own now
    assert company["taxId"] == "37049"  # the built-in declaration was replaced


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([{"stream": "nope", "field": "x", "holded_path": "a"}], "not a unified stream"),
        ([{"stream": "genericCompany", "holded_path": "a"}], "field is required"),
        ([{"stream": "genericCompany", "field": "x"}], "exactly one of"),
        ([{"stream": "genericCompany", "field": "id", "holded_path": "a"}], "reserved"),
        ({"stream": "genericCompany"}, "must be a list"),
    ],
)
def test_field_mapping_mistakes(raw, message):
    with pytest.raises(HoldedConfigError, match=message):
        parse_field_mappings(raw, list(MAPPINGS))


def test_round_trip_of_dates():
    assert from_ts("2023-01-19T12:08:09Z") == 1674130089


def test_every_unified_record_carries_the_common_fields():
    for stream, mappings in MAPPINGS.items():
        names = {name for field in mappings[0].fields for name in field.names}
        assert {"id", "createdAt", "updatedAt"} <= names, stream
        assert isinstance(FieldMapping(stream, "x", path="a"), FieldMapping)


def test_field_names_and_paths_are_data_never_code():
    # The mappings run as generated functions: a user's field name must reach them as a value only.
    odd = 'x"}; raise SystemExit  # {'
    mappings = parse_field_mappings(
        [{"stream": "genericCompany", "field": odd, "holded_path": "billAddress.city"}], list(MAPPINGS)
    )
    extras = extra_fields("genericCompany", mappings)
    (company,) = to_unified(MAPPINGS["genericCompany"][0], COMPANY, extra_fields=extras)
    assert company[odd] == "Salamanca"
    assert company["name"] == "Reformas Costa Brava S.Coop."


def test_a_split_name_field_that_does_not_fit_is_reported_with_the_others_kept():
    problems: list[str] = []
    person = {**PERSON, "name": ["Adrián", "Hernández"], "email": "a@b.es"}
    (contact,) = _one("genericContact", person, problems=problems)
    assert contact["firstName"] is None and contact["lastName"] is None
    assert contact["email"] == "a@b.es" and contact["id"] == PERSON["id"]
    assert problems == ["name: expected text, got list"]
