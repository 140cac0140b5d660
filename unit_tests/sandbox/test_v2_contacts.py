"""API v2 contacts over the same store as v1: shapes, writes, search, filters, bulk delete."""

from __future__ import annotations

V1 = "/invoicing/v1/contacts"


def test_a_contact_created_in_v1_reads_in_v2_with_the_same_id(v2):
    body = {"name": "Uno SL", "email": "uno@uno.es", "isperson": 0, "code": "B12345674"}
    rid = v2.v1.post(V1, json=body).json()["id"]
    got = v2.get(f"/contacts/{rid}").json()
    assert got["id"] == rid and got["name"] == "Uno SL" and got["email"] == "uno@uno.es"
    assert got["is_person"] is False and got["code"] == got["vat_number"] == "B12345674"
    assert got["created_at"].endswith("Z") and got["updated_at"] >= got["created_at"]


def test_a_contact_created_in_v2_reads_in_v1_with_the_same_id(v2):
    body = {
        "name": "Dos SL",
        "is_person": True,
        "trade_name": "Dos",
        "bill_address": {"city": "Madrid", "postal_code": "28001", "country_code": "ES"},
        "custom_fields": [{"field": "Origen", "value": "web"}],
        "custom_id": "ext-2",
        "website": "dos.es",
    }
    resp = v2.post("/contacts", json=body)
    assert resp.status_code == 201 and list(resp.json()) == ["id"]
    rid = resp.json()["id"]
    v1 = v2.v1.get(f"{V1}/{rid}").json()
    assert v1["isperson"] == 1 and v1["tradeName"] == "Dos" and v1["customId"] == "ext-2"
    assert v1["billAddress"]["postalCode"] == "28001" and v1["billAddress"]["city"] == "Madrid"
    assert v1["customFields"] == [{"field": "Origen", "value": "web"}]  # not split as v1 create splits it
    got = v2.get(f"/contacts/{rid}").json()
    assert got["bill_address"]["postal_code"] == "28001" and got["website"] == "dos.es"
    assert got["custom_fields"] == [{"field": "Origen", "value": "web"}] and got["custom_id"] == "ext-2"


def test_create_without_name_is_422(v2):
    resp = v2.post("/contacts", json={"email": "x@y.es"})
    assert resp.status_code == 422 and resp.json()["detail"] == "name is required."


def test_contact_put_is_a_full_replace_answering_status_1(v2):
    body = {"name": "Tres", "email": "t@t.es", "phone": "+34 600", "custom_id": "c3"}
    rid = v2.post("/contacts", json=body).json()["id"]
    resp = v2.put(f"/contacts/{rid}", json={"name": "Tres bis", "mobile": "+34 700"})
    assert (resp.status_code, resp.json()) == (200, {"status": 1})
    got = v2.get(f"/contacts/{rid}").json()
    assert got["name"] == "Tres bis" and got["mobile"] == "+34 700"
    assert got["email"] == "" and got["phone"] == ""  # left out: reset
    assert got["custom_id"] == "c3"  # the external reference is kept when left out
    assert v2.v1.get(f"{V1}/{rid}").json()["email"] == ""


def test_put_keeps_a_contact_person_named_by_person_id(v2):
    rid = v2.post("/contacts", json={"name": "Cuatro", "contact_persons": [{"name": "Ana"}]}).json()["id"]
    person = v2.get(f"/contacts/{rid}").json()["contact_persons"][0]
    v2.put(f"/contacts/{rid}", json={"name": "Cuatro", "contact_persons": [{"person_id": person["person_id"]}]})
    assert v2.get(f"/contacts/{rid}").json()["contact_persons"] == [person]


def test_delete_is_204_and_gone_in_both_dialects(v2):
    rid = v2.post("/contacts", json={"name": "Cinco"}).json()["id"]
    resp = v2.delete(f"/contacts/{rid}")
    assert resp.status_code == 204 and resp.content == b""
    assert v2.get(f"/contacts/{rid}").status_code == 404
    assert v2.v1.get(f"{V1}/{rid}").status_code == 404


def test_search_is_a_prefix_ignoring_case_and_accents(v2):
    ids = [v2.post("/contacts", json={"name": n}).json()["id"] for n in ("Ángela Ruiz", "angelines SL", "Mángel")]
    found = [c["id"] for c in v2.all("/contacts/search", name="ANGEL")]
    assert found == ids[:2]
    assert v2.get("/contacts/search").status_code == 400


def test_exact_filters(v2):
    body = {"name": "Seis", "email": "seis@x.es", "phone": "+34 911", "code": "X1"}
    rid = v2.post("/contacts", json=body).json()["id"]
    for key, value in (("email", "seis@x.es"), ("phone", "+34 911"), ("code", "X1")):
        assert [c["id"] for c in v2.all("/contacts", **{key: value})] == [rid]
    assert v2.all("/contacts", email="seis@x.e") == []  # exact, not a prefix
    v2.put(f"/contacts/{rid}", json={"name": "Seis", "custom_id": "ext-6", "mobile": "+34 655"})
    assert [c["id"] for c in v2.all("/contacts", custom_id="ext-6")] == [rid]
    assert [c["id"] for c in v2.all("/contacts", mobile="+34 655")] == [rid]


def test_bulk_delete(v2):
    ids = [v2.post("/contacts", json={"name": f"Bulk {i}"}).json()["id"] for i in range(3)]
    resp = v2.post("/contacts/bulk-delete", json={"contact_ids": [*ids[:2], "0" * 24]})
    assert resp.status_code == 204  # an unknown id is ignored
    assert [v2.get(f"/contacts/{i}").status_code for i in ids] == [404, 404, 200]
    assert v2.post("/contacts/bulk-delete", json={"contact_ids": ["zz"]}).status_code == 400
    assert v2.post("/contacts/bulk-delete", json={}).status_code == 422
