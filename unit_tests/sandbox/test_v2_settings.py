"""API v2 contact groups, warehouses, expense accounts, sales channels, payment methods and remittances
over the same records as v1."""

from __future__ import annotations

import pytest


def _v1_ids(v2, path: str) -> set[str]:
    return {r["id"] for r in v2.v1.get(path).json()}


def _paged_ids(v2, path: str) -> list[str]:
    ids, cursor = [], None
    while True:
        page = v2.get(path, params={"limit": 1, **({"cursor": cursor} if cursor else {})}).json()
        ids += [item["id"] for item in page["items"]]
        if not page["has_more"]:
            assert page["cursor"] is None
            return ids
        assert page["cursor"] == page["items"][-1]["id"]
        cursor = page["cursor"]


def _forbidden(v2, path: str, permission: str, method: str = "GET", **kwargs) -> None:
    other = v2.with_permissions("contacts:contacts.read" if "contacts" not in permission else "crm:deals.read")
    resp = other.request(method, path, **kwargs)
    assert resp.status_code == 403
    assert resp.json()["detail"] == f"Insufficient permissions: {permission} required."


def test_v2_contact_groups(v2):
    ids = _paged_ids(v2, "/contact-groups")
    assert set(ids) == _v1_ids(v2, "/invoicing/v1/contacts/groups") and len(ids) == len(set(ids)) > 1
    group = v2.get(f"/contact-groups/{ids[0]}").json()
    assert set(group) == {"id", "name", "description", "color"}
    assert v2.post("/contact-groups", json={"color": "#000"}).json()["detail"] == "name is required."
    rid = v2.post("/contact-groups", json={"name": "Mayoristas", "description": "B2B", "color": "#111"}).json()["id"]
    assert v2.put(f"/contact-groups/{rid}", json={"description": "Canal B2B"}).json() == {"id": rid}
    v1 = v2.v1.get(f"/invoicing/v1/contacts/groups/{rid}").json()
    assert (v1["name"], v1["desc"], v1["color"]) == ("Mayoristas", "Canal B2B", "#111")
    assert v2.delete(f"/contact-groups/{rid}").status_code == 204
    assert v2.get(f"/contact-groups/{rid}").status_code == 404
    _forbidden(v2, "/contact-groups", "contacts:contacts.read")


def test_v2_warehouses_are_one_page_and_patched(v2):
    page = v2.get("/warehouses", params={"limit": 1}).json()
    assert page["has_more"] is False and page["cursor"] is None
    assert {w["id"] for w in page["items"]} == _v1_ids(v2, "/invoicing/v1/warehouses") and len(page["items"]) > 1
    first = v2.get(f"/warehouses/{page['items'][0]['id']}").json()
    assert first == page["items"][0] and isinstance(first["default"], bool) and "postal_code" in first["address"]
    body = {"name": "Almacén Sur", "email": "sur@x.es", "address": {"city": "Sevilla", "postal_code": "41001"}}
    rid = v2.post("/warehouses", json=body).json()["id"]
    assert v2.request(
        "PATCH", f"/warehouses/{rid}", json={"phone": "+34 954", "address": {"province": "Sevilla"}}
    ).json() == {"id": rid}
    v1 = v2.v1.get(f"/invoicing/v1/warehouses/{rid}").json()
    assert v1["phone"] == "+34 954" and v1["address"]["city"] == "Sevilla" and v1["address"]["province"] == "Sevilla"
    assert v1["address"]["postalCode"] == "41001"
    assert v2.put(f"/warehouses/{rid}", json={"name": "x"}).status_code == 404  # the catalogue has PATCH only
    assert v2.delete(f"/warehouses/{rid}").status_code == 204
    _forbidden(v2, "/warehouses", "inventory:warehouses.read")
    _forbidden(v2, f"/warehouses/{first['id']}", "inventory:warehouses.write", "PATCH", json={"name": "x"})


@pytest.mark.parametrize(
    ("path", "v1_path", "scope"),
    [
        ("/expenses-accounts", "/invoicing/v1/expensesaccounts", "accounting:expenses-accounts"),
        ("/sales-channels", "/invoicing/v1/saleschannels", "sales:sales-channels"),
    ],
)
def test_v2_expense_accounts_and_sales_channels(v2, path, v1_path, scope):
    ids = _paged_ids(v2, path)
    assert set(ids) == _v1_ids(v2, v1_path) and ids == sorted(ids)
    one = v2.get(f"{path}/{ids[0]}").json()
    assert set(one) == {"id", "name", "description", "color", "account_num"} and one["account_num"] > 0
    assert v2.post(path, json={"name": "Nuevo"}).json()["detail"] == "account_num is required."
    rid = v2.post(path, json={"name": "Nuevo", "account_num": 62900009, "color": "#123456"}).json()["id"]
    assert v2.put(f"{path}/{rid}", json={"name": "Renombrado"}).json() == {"id": rid}
    v1 = v2.v1.get(f"{v1_path}/{rid}").json()
    assert (v1["name"], v1["accNum"], v1["color"]) == ("Renombrado", 62900009, "#123456")
    assert v2.delete(f"{path}/{rid}").status_code == 204
    _forbidden(v2, path, f"{scope}.read")
    _forbidden(v2, path, f"{scope}.write", "POST", json={"name": "x", "account_num": 1})


def test_v2_payment_methods_are_read_only(v2):
    ids = _paged_ids(v2, "/payment-methods")
    assert set(ids) == _v1_ids(v2, "/invoicing/v1/paymentmethods")
    method = v2.get(f"/payment-methods/{ids[0]}").json()
    assert isinstance(method["due_days"], int) and set(method) == {"id", "name", "due_days", "banking_account_id"}
    assert v2.post("/payment-methods", json={"name": "x"}).status_code == 404  # v1 has no writes
    _forbidden(v2, "/payment-methods", "accounting:payment-methods.read")


def test_v2_remittances(v2):
    ids = _paged_ids(v2, "/treasury/remittances")
    assert set(ids) == _v1_ids(v2, "/invoicing/v1/remittances") and ids
    one = v2.get(f"/treasury/remittances/{ids[0]}").json()
    v1 = v2.v1.get(f"/invoicing/v1/remittances/{ids[0]}").json()
    assert one["total"] == f"{v1['total']:.2f}" and len(one["documents"]) == len(v1["documents"])
    assert one["documents"][0]["document_id"] == v1["documents"][0]["documentId"]
    same = v2.get("/treasury/remittances", params={"status": one["status"], "start_date": one["date"],
                                                    "end_date": one["date"]}).json()["items"]  # fmt: skip
    assert one["id"] in [r["id"] for r in same] and all(r["date"] == one["date"] for r in same)
    assert v2.get("/treasury/remittances", params={"start_date": "2024/01/01"}).status_code == 400
    _forbidden(v2, "/treasury/remittances", "accounting:remittances.read")
