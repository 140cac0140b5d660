"""The writer on the sandbox: matching keys compared as identities, NFC text, NFC-only differences unchanged."""

from __future__ import annotations

import unicodedata

from holded_core.writes import Writer

CONTACTS = "/invoicing/v1/contacts"
COMPOSED = "José Pérez SL"
DECOMPOSED = unicodedata.normalize("NFD", COMPOSED)


def _company(client, **fields):
    answer = client.request("POST", CONTACTS, json={"isperson": 0, **fields})
    return client.get(f"{CONTACTS}/{answer['id']}")


def test_given_holded_text_decomposed_when_the_record_has_it_composed_then_unchanged_and_nothing_sent(make_client):
    client = make_client()
    holded = _company(client, name=DECOMPOSED, email="jose@perez.es")
    assert holded["name"] == DECOMPOSED  # Holded keeps the form it was given
    result = Writer(client).apply("genericCompany", {"id": holded["id"], "name": COMPOSED}, "upsert")
    assert (result.status, result.changes) == ("unchanged", {})
    assert client.get(f"{CONTACTS}/{holded['id']}")["name"] == DECOMPOSED  # no write reached Holded


def test_given_a_case_difference_in_a_name_then_it_is_written_and_in_composed_form(make_client):
    client = make_client()
    holded = _company(client, name=COMPOSED)
    shouted = unicodedata.normalize("NFD", "JOSÉ PÉREZ SL")  # a new case, typed decomposed
    result = Writer(client).apply("genericCompany", {"id": holded["id"], "name": shouted}, "upsert")
    assert result.status == "updated" and result.changes == {"name": [COMPOSED, shouted]}
    assert client.get(f"{CONTACTS}/{holded['id']}")["name"] == "JOSÉ PÉREZ SL"  # sent NFC
    assert unicodedata.is_normalized("NFC", client.get(f"{CONTACTS}/{holded['id']}")["name"])


def test_given_a_custom_id_differing_only_in_case_and_spaces_then_it_matches_and_changes_nothing(sandbox, make_client):
    client = make_client()
    company = next(c for c in sandbox.store.all("contacts") if not c["isperson"] and c.get("customId"))
    before = len(list(client.iter_records(CONTACTS)))
    record = {"id": "erp-import-1", "customId": f"  {company['customId'].lower()} ", "name": company["name"]}
    result = Writer(client).apply("genericCompany", record, "upsert")
    assert (result.status, result.holded_id) == ("unchanged", company["id"])
    assert len(list(client.iter_records(CONTACTS))) == before  # nothing created


def test_given_a_company_whose_custom_id_is_a_persons_in_another_case_then_it_is_refused(sandbox, make_client):
    client = make_client()
    person = next(c for c in sandbox.store.all("contacts") if c["isperson"] and c.get("customId"))
    record = {"id": "co-x", "name": "Otra SL", "customId": person["customId"].lower()}
    result = Writer(client).apply("genericCompany", record, "upsert")
    assert result.status == "rejected" and "is a person in Holded" in (result.reason or "")
    assert sandbox.store.get("contacts", person["id"])["name"] == person["name"]


def test_given_a_matching_key_in_another_case_in_the_same_push_then_the_second_updates_the_first(make_client):
    client = make_client()
    writer = Writer(client, matching_keys={"genericCompany": "email"})
    first = writer.apply("genericCompany", {"id": "erp-1", "name": "Prueba SL", "email": "ana.prueba@example.com"},
                         "upsert")  # fmt: skip
    second = writer.apply("genericCompany", {"id": "erp-2", "name": "Prueba SL", "email": "Ana.Prueba@Example.COM",
                                             "phoneNumber": "600000002"}, "upsert")  # fmt: skip
    assert first.status == "created" and second.status == "updated" and second.holded_id == first.holded_id
    # The e-mail's new case is the user's: written, like any other change of value.
    assert second.changes["email"] == ["ana.prueba@example.com", "Ana.Prueba@Example.COM"]
    matches = [c for c in client.iter_records(CONTACTS)
               if (c.get("email") or "").casefold() == "ana.prueba@example.com"]  # fmt: skip
    assert [(c["id"], c["phone"]) for c in matches] == [(first.holded_id, "600000002")]


def test_given_natural_keys_in_another_case_or_form_then_the_existing_record_matches(sandbox, make_client):
    client = make_client()
    writer = Writer(client)
    employee = sandbox.store.all("employees")[0]
    user = {"id": "hr-1", "firstName": employee["name"], "lastName": employee["lastName"],
            "email": f" {employee['email'].upper()} "}  # fmt: skip
    assert writer.apply("genericUser", user, "upsert").holded_id == employee["id"]
    funnel = sandbox.store.all("funnels")[0]
    pipeline = {"id": "crm-9", "name": unicodedata.normalize("NFD", funnel["name"].upper())}
    assert writer.apply("crmPipeline", pipeline, "upsert").holded_id == funnel["id"]


def test_given_a_key_with_spaces_around_it_then_it_matches_and_is_written_without_them(make_client):
    client = make_client()
    writer = Writer(client, matching_keys={"genericCompany": "email"})
    created = writer.apply("genericCompany", {"id": "sp-1", "name": "Espacios SL", "email": " ADMIN@espacios.es "},
                           "upsert")  # fmt: skip
    assert created.status == "created"
    assert client.get(f"{CONTACTS}/{created.holded_id}")["email"] == "ADMIN@espacios.es"
    again = writer.apply("genericCompany", {"id": "sp-2", "name": "Espacios SL", "email": "ADMIN@espacios.es  "},
                         "upsert")  # fmt: skip
    assert (again.status, again.holded_id) == ("unchanged", created.holded_id)
