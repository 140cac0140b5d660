"""One test per Holded behaviour the sandbox reproduces (see holded_sandbox/README.md)."""

from __future__ import annotations

import time
from datetime import datetime
from datetime import time as dt_time
from zoneinfo import ZoneInfo

import requests

from holded_sandbox.routing import HOLDED_404_HTML

CONTACTS = "/invoicing/v1/contacts"
INVOICES = "/invoicing/v1/documents/invoice"
LEADS = "/crm/v1/leads"
FUNNELS = "/crm/v1/funnels"


def _first(api, path):
    return api.get(path).json()[0]


def _new_draft_invoice(api, **extra):
    contact = _first(api, CONTACTS)
    body = {
        "date": 1_735_000_000,
        "contactId": contact["id"],
        "items": [{"name": "Soporte", "units": 1, "subtotal": 100, "tax": 21}],
    }
    answer = api.post(INVOICES, json={**body, **extra}).json()
    return answer, api.get(f"{INVOICES}/{answer['id']}").json()


# --- lists --------------------------------------------------------------------------------


def test_lists_are_bare_arrays_of_500_per_one_based_page(api):
    api.control("POST", "fill", collection="contacts", count=1001)
    pages = [api.get(CONTACTS, params={"page": n}).json() for n in (1, 2, 3, 4)]
    assert [len(p) for p in pages] == [500, 500, 1, 0]  # a page past the end is []
    assert len({c["id"] for page in pages for c in page}) == 1001
    assert api.get(CONTACTS).json() == pages[0]  # no page = page 1
    assert api.get(CONTACTS, params={"page": 1, "limit": 10}).json() == pages[0]  # limit is ignored


def test_team_employees_list_is_wrapped(ro):
    body = ro.get("/team/v1/employees").json()
    assert list(body) == ["employees"] and body["employees"]
    assert ro.get("/team/v1/employees", params={"page": 2}).json() == {"employees": []}


# --- writes -------------------------------------------------------------------------------


def test_write_envelopes_and_status_codes(api):
    resp = api.post(CONTACTS, json={"name": "Envoltorio SL"})
    assert resp.status_code == 201
    rid = resp.json()["id"]
    assert resp.json() == {"status": 1, "info": "Created", "id": rid}
    assert len(rid) == 24 and int(rid, 16) >= 0
    resp = api.put(f"{CONTACTS}/{rid}", json={"email": "a@b.es"})
    assert (resp.status_code, resp.json()) == (200, {"status": 1, "info": "Updated", "id": rid})
    resp = api.delete(f"{CONTACTS}/{rid}")
    assert (resp.status_code, resp.json()) == (200, {"status": 1, "info": "Successfully deleted", "id": rid})
    answer, doc = _new_draft_invoice(api)
    assert set(answer) == {"status", "id", "invoiceNum", "contactId"} and answer["status"] == 1
    assert doc["docNumber"] == answer["invoiceNum"] and doc["contact"] == answer["contactId"]


def test_logical_failure_is_status_0_with_http_200(api):
    resp = api.post(LEADS, json={"name": "Sin embudo", "contactId": _first(api, CONTACTS)["id"]})
    assert (resp.status_code, resp.json()) == (200, {"status": 0, "info": "funnelId needed"})


def test_unknown_id_is_404(ro):
    resp = ro.get(f"{CONTACTS}/000000000000000000000000")
    assert (resp.status_code, resp.json()) == (404, {"status": 0, "info": "Not found"})


def test_unknown_route_is_holded_html_404_page_with_http_200(ro):
    root = ro.sb.base_url.rsplit("/api", 1)[0]
    for resp in (
        ro.get("/invoicing/v1/no-such-thing"),
        ro.get("/invoicing/v2/contacts"),
        ro.request("PATCH", CONTACTS),  # known path, unknown method
        ro.session.get(root + "/whatever", timeout=10),
    ):
        assert resp.status_code == 200
        assert resp.headers["Content-Type"].startswith("text/html")
        assert resp.content == HOLDED_404_HTML


def test_bad_or_missing_key_is_401(ro):
    for headers in ({"key": "wrong"}, {}):
        resp = requests.get(ro.sb.base_url + CONTACTS, headers=headers, timeout=10)
        assert (resp.status_code, resp.json()) == (401, {"status": 0, "info": "Unauthorized: invalid API key"})
    resp = requests.get(
        ro.sb.base_url + CONTACTS, headers={"Authorization": f"Bearer {ro.sb.bearer_token}"}, timeout=10
    )
    assert resp.status_code == 200


def test_keep_alive_survives_every_kind_of_answer(ro):
    """One connection, answers of every shape (JSON, HTML, 401, 404, bodies sent and ignored)."""
    session = ro.session
    for _ in range(3):
        assert ro.get(CONTACTS).status_code == 200
        assert ro.get("/invoicing/v1/nope").status_code == 200
        assert ro.get(f"{CONTACTS}/000000000000000000000000").status_code == 404
        assert session.get(ro.sb.base_url + CONTACTS, headers={"key": "bad"}, timeout=10).status_code == 401
        assert ro.request("PATCH", CONTACTS, json={"ignored": "x" * 5000}).status_code == 200
    assert len(session.adapters["http://"].poolmanager.pools) == 1


# --- record shapes ------------------------------------------------------------------------


def test_timestamps_are_unix_seconds_and_updated_at_only_where_holded_has_it(ro):
    contact, lead = _first(ro, CONTACTS), _first(ro, LEADS)
    task = _first(ro, "/projects/v1/tasks")
    for record in (contact, lead, task):
        assert isinstance(record["createdAt"], int) and isinstance(record["updatedAt"], int)
        assert 1_500_000_000 < record["createdAt"] <= record["updatedAt"] < 2_000_000_000
    assert len(contact["updatedHash"]) == 32 and len(lead["updatedHash"]) == 32
    for path in (INVOICES, FUNNELS, "/crm/v1/events", "/projects/v1/projects"):
        record = _first(ro, path)
        assert "updatedAt" not in record and "createdAt" not in record, path
    employee = ro.get("/team/v1/employees").json()["employees"][0]
    assert "updatedAt" not in employee
    assert isinstance(_first(ro, INVOICES)["date"], int)


def test_loose_types_as_holded_serves_them(ro):
    contacts = ro.get(CONTACTS).json()
    assert {c["isperson"] for c in contacts} == {0, 1}
    assert all(isinstance(c["billAddress"]["postalCode"], str) for c in contacts)
    assert all(c["clientRecord"] == 0 or set(c["clientRecord"]) == {"num", "name"} for c in contacts)
    assert any(c["tradeName"] == 0 for c in contacts)  # 0, not "", when never set
    assert {d["currency"] for d in ro.get(INVOICES).json()} == {"eur"}
    taxes = ro.get("/invoicing/v1/taxes").json()
    assert all(isinstance(t["amount"], str) for t in taxes) and {"21", "10", "4"} <= {t["amount"] for t in taxes}


def test_isperson_written_as_bool_read_as_0_1(api):
    for sent, read in ((True, 1), (False, 0), (1, 1)):
        rid = api.post(CONTACTS, json={"name": "P", "isperson": sent}).json()["id"]
        assert api.get(f"{CONTACTS}/{rid}").json()["isperson"] == read


def test_custom_id_is_written_capitalised_and_read_lowercase(api):
    rid = api.post(CONTACTS, json={"name": "Ref SL", "CustomId": "shop-42"}).json()["id"]
    assert api.get(f"{CONTACTS}/{rid}").json()["customId"] == "shop-42"
    other = api.post(CONTACTS, json={"name": "Ref2 SL", "customId": "ignored"}).json()["id"]
    assert api.get(f"{CONTACTS}/{other}").json()["customId"] == ""


def test_documented_custom_fields_are_corrupted_on_contact_and_document_create(api):
    documented = [{"field": "Sector", "value": "Hostelería"}]
    corrupted = [{"field": "field", "value": "Sector"}, {"field": "value", "value": "Hostelería"}]
    rid = api.post(CONTACTS, json={"name": "CF SL", "customFields": documented}).json()["id"]
    assert api.get(f"{CONTACTS}/{rid}").json()["customFields"] == corrupted
    api.put(f"{CONTACTS}/{rid}", json={"customFields": documented})
    assert api.get(f"{CONTACTS}/{rid}").json()["customFields"] == corrupted
    _, doc = _new_draft_invoice(api, customFields=documented)
    assert doc["customFields"] == corrupted


def test_single_key_custom_fields_round_trip(api):
    rid = api.post(
        CONTACTS, json={"name": "CF2 SL", "customFields": [{"Sector": "Hostelería"}, {"Origen": "Web"}]}
    ).json()["id"]
    assert api.get(f"{CONTACTS}/{rid}").json()["customFields"] == [
        {"field": "Sector", "value": "Hostelería"},
        {"field": "Origen", "value": "Web"},
    ]
    answer, _ = _new_draft_invoice(api, customFields=[{"Pedido": "PO-1"}])
    assert api.get(f"{INVOICES}/{answer['id']}").json()["customFields"] == [{"field": "Pedido", "value": "PO-1"}]


def test_document_update_accepts_the_documented_custom_fields_shape(api):
    answer, _ = _new_draft_invoice(api)
    api.put(f"{INVOICES}/{answer['id']}", json={"customFields": [{"field": "Pedido", "value": "PO-9"}]})
    assert api.get(f"{INVOICES}/{answer['id']}").json()["customFields"] == [{"field": "Pedido", "value": "PO-9"}]


def test_updates_are_partial(api):
    contact = _first(api, CONTACTS)
    api.put(f"{CONTACTS}/{contact['id']}", json={"email": "nuevo@correo.es", "billAddress": {"city": "Soria"}})
    after = api.get(f"{CONTACTS}/{contact['id']}").json()
    assert after["email"] == "nuevo@correo.es" and after["billAddress"]["city"] == "Soria"
    assert after["name"] == contact["name"] and after["phone"] == contact["phone"]
    assert after["billAddress"]["address"] == contact["billAddress"]["address"]  # nested objects merge too
    assert after["updatedAt"] >= contact["updatedAt"] and after["updatedHash"] != contact["updatedHash"]


def test_silent_no_ops_answer_success(api):
    contact = _first(api, CONTACTS)
    resp = api.put(f"{CONTACTS}/{contact['id']}", json={"socialNetworks": {"website": "https://nuevo.es"}})
    assert resp.json()["status"] == 1
    assert api.get(f"{CONTACTS}/{contact['id']}").json()["socialNetworks"] == contact["socialNetworks"]
    funnel = _first(api, FUNNELS)
    labels = [{"labelId": "x", "labelName": "Nuevo", "labelColor": "#000000"}]
    assert api.put(f"{FUNNELS}/{funnel['id']}", json={"labels": labels}).json()["status"] == 1
    assert api.get(f"{FUNNELS}/{funnel['id']}").json()["labels"] == funnel["labels"]
    rid = api.post(
        "/crm/v1/events", json={"name": "Visita", "funnelId": funnel["id"], "startDate": 1_735_000_000}
    ).json()["id"]
    assert "funnelId" not in api.get(f"/crm/v1/events/{rid}").json()


# --- CRM ----------------------------------------------------------------------------------


def test_lead_create_needs_funnel_and_contact(api):
    funnel, contact = _first(api, FUNNELS), _first(api, CONTACTS)
    assert api.post(LEADS, json={"contactId": contact["id"]}).json() == {"status": 0, "info": "funnelId needed"}
    assert api.post(LEADS, json={"funnelId": funnel["id"]}).json() == {"status": 0, "info": "contactId needed"}
    resp = api.post(LEADS, json={"funnelId": funnel["id"], "contactId": contact["id"], "name": "Ok"})
    assert resp.status_code == 201 and resp.json()["status"] == 1


def test_lead_stage_by_id_or_exact_name_default_first(api):
    funnel, contact = _first(api, FUNNELS), _first(api, CONTACTS)
    stages = funnel["stages"]
    base = {"funnelId": funnel["id"], "contactId": contact["id"], "name": "Etapas"}
    by_name = api.post(LEADS, json={**base, "stageId": stages[2]["name"]}).json()["id"]
    by_id = api.post(LEADS, json={**base, "stageId": stages[1]["stageId"]}).json()["id"]
    default = api.post(LEADS, json=base).json()["id"]
    assert api.get(f"{LEADS}/{by_name}").json()["stageId"] == stages[2]["stageId"]
    assert api.get(f"{LEADS}/{by_id}").json()["stageId"] == stages[1]["stageId"]
    assert api.get(f"{LEADS}/{default}").json()["stageId"] == stages[0]["stageId"]


def test_lead_stage_move_route(api):
    lead = _first(api, LEADS)
    funnel = api.get(f"{FUNNELS}/{lead['funnelId']}").json()
    target = funnel["stages"][-1]
    assert api.put(f"{LEADS}/{lead['id']}/stages", json={"stageId": target["name"]}).json()["status"] == 1
    assert api.get(f"{LEADS}/{lead['id']}").json()["stageId"] == target["stageId"]
    assert api.put(f"{LEADS}/{lead['id']}/stages", json={"stageId": "nope"}).json()["status"] == 0
    assert api.put(f"{LEADS}/{lead['id']}/dates", json={"date": 1_800_000_000}).json()["status"] == 1
    assert api.get(f"{LEADS}/{lead['id']}").json()["dueDate"] == 1_800_000_000


def test_lead_notes_and_tasks_live_inside_the_lead(api):
    lead = _first(api, LEADS)
    path = f"{LEADS}/{lead['id']}"
    note = api.post(path + "/notes", json={"title": "Llamada", "desc": "Interesado"})
    assert note.status_code == 200 and note.json()["status"] == 1
    api.put(path + "/notes", json={"noteId": note.json()["id"], "desc": "Muy interesado"})
    task_id = api.post(path + "/tasks", json={"name": "Enviar oferta"}).json()["id"]
    api.put(path + "/tasks", json={"taskId": task_id, "name": "Enviar oferta final"})
    after = api.get(path).json()
    assert {"eventId": note.json()["id"], "type": "note", "title": "Llamada", "desc": "Muy interesado"}.items() <= next(
        e for e in after["events"] if e["eventId"] == note.json()["id"]
    ).items()
    assert {"taskId": task_id, "taskName": "Enviar oferta final", "taskStatus": 0} in after["tasks"]
    assert api.request("DELETE", path + "/tasks", json={"taskId": task_id}).json()["info"] == "Successfully deleted"
    assert task_id not in [t["taskId"] for t in api.get(path).json()["tasks"]]
    assert api.post(path + "/notes", json={"desc": "sin título"}).json() == {"status": 0, "info": "title needed"}


def test_funnel_update_replaces_stages(api):
    funnel = _first(api, FUNNELS)
    kept = funnel["stages"][0]
    stages = [kept, {"name": "Demo", "key": "demo", "desc": ""}]
    assert api.put(f"{FUNNELS}/{funnel['id']}", json={"stages": stages}).json()["status"] == 1
    after = api.get(f"{FUNNELS}/{funnel['id']}").json()["stages"]
    assert [s["name"] for s in after] == [kept["name"], "Demo"]
    assert after[0]["stageId"] == kept["stageId"] and len(after[1]["stageId"]) == 24


def test_events_take_duration_and_read_start_end(api):
    rid = api.post("/crm/v1/events", json={"name": "Demo", "startDate": 1_735_000_000, "duration": 5400}).json()["id"]
    event = api.get(f"/crm/v1/events/{rid}").json()
    assert (event["startDate"], event["endDate"]) == (1_735_000_000, 1_735_005_400) and "duration" not in event


# --- documents ----------------------------------------------------------------------------


def test_document_totals_are_computed_from_lines(api):
    items = [
        {"name": "Portátil", "units": 2, "subtotal": 500, "discount": 10, "tax": 21},
        {"name": "Libro", "units": 3, "subtotal": 19.99, "tax": 4},
        {"name": "Asesoría", "units": 1, "subtotal": 200, "tax": 21, "taxes": ["p_ret_15"]},
    ]
    contact = _first(api, CONTACTS)
    rid = api.post(
        "/invoicing/v1/documents/purchase",
        json={"date": 1_735_000_000, "contactId": contact["id"], "items": items, "status": 1},
    ).json()["id"]
    doc = api.get(f"/invoicing/v1/documents/purchase/{rid}").json()
    assert doc["subtotal"] == round(900 + 59.97 + 200, 2)
    assert doc["tax"] == round(900 * 0.21 + 59.97 * 0.04 + 200 * 0.21, 2)
    assert doc["total"] == round(doc["subtotal"] + doc["tax"] - 30, 2)  # IRPF 15% of 200 retained
    assert [p["price"] for p in doc["products"]] == [500, 19.99, 200] and doc["products"][2]["retention"] == 15
    assert doc["status"] == 0 and doc["paymentsPending"] == doc["total"]  # a `status` sent is ignored


def test_pay_moves_status_and_payments(api):
    answer, doc = _new_draft_invoice(api, approveDoc=True)
    path = f"{INVOICES}/{answer['id']}/pay"
    first = api.post(path, json={"date": 1_735_100_000, "amount": 50}).json()
    assert first["status"] == 1 and first["invoiceId"] == answer["id"] and first["invoiceNum"] == answer["invoiceNum"]
    partial = api.get(f"{INVOICES}/{answer['id']}").json()
    assert (partial["status"], partial["paymentsTotal"], partial["paymentsPending"]) == (2, 50, 71)
    api.post(path, json={"date": 1_735_200_000, "amount": 71})
    paid = api.get(f"{INVOICES}/{answer['id']}").json()
    assert (paid["status"], paid["paymentsPending"]) == (1, 0) and len(paid["paymentsDetail"]) == 2
    payment = api.get(f"/invoicing/v1/payments/{first['paymentId']}").json()
    assert payment["amount"] == 50 and payment["contactId"] == doc["contact"]


def test_approved_document_cannot_be_edited_or_deleted(api):
    answer, _ = _new_draft_invoice(api, approveDoc=True)
    path = f"{INVOICES}/{answer['id']}"
    for resp in (api.put(path, json={"desc": "cambio"}), api.delete(path)):
        assert resp.status_code == 200 and resp.json()["status"] == 0
    assert api.get(path).json()["desc"] == "" and api.get(path).json()["draft"] == 0
    draft, _ = _new_draft_invoice(api)
    assert api.put(f"{INVOICES}/{draft['id']}", json={"desc": "ok"}).json()["status"] == 1
    assert api.delete(f"{INVOICES}/{draft['id']}").json()["status"] == 1


def test_approve_doc_on_update_leaves_a_draft_a_draft(api):
    """Holded's "Update Document" takes no approveDoc and v1 has no approve route (openapi-v1/invoice.json)."""
    answer, _ = _new_draft_invoice(api)
    path = f"{INVOICES}/{answer['id']}"
    assert api.put(path, json={"approveDoc": True, "desc": "aprobar"}).json()["status"] == 1
    assert (api.get(path).json()["draft"], api.get(path).json()["desc"]) == (1, "aprobar")


def test_numbering_series_overrides_the_number_of_sales_documents_behind_its_switch(api):
    """README "what integrators report": a series overrides the number sent on sales documents; purchases keep
    the supplier's number. Off by default."""
    kept, _ = _new_draft_invoice(api, invoiceNum="F-001")
    assert kept["invoiceNum"] == "F-001"
    api.control("PATCH", "faults", series_overrides_number=True)
    answer, doc = _new_draft_invoice(api, invoiceNum="F-002")
    series = next(s for s in api.get("/invoicing/v1/numberingseries/invoice").json() if s["id"] == doc["numSerieId"])
    assert doc["docNumber"] == answer["invoiceNum"] != "F-002"
    assert doc["docNumber"].startswith("F") and doc["docNumber"].endswith(str(series["last"]).zfill(4))
    contact = _first(api, CONTACTS)
    purchase = api.post("/invoicing/v1/documents/purchase", json={"date": 1_735_000_000, "contactId": contact["id"],
                                                                  "invoiceNum": "PROV-77"}).json()  # fmt: skip
    assert purchase["invoiceNum"] == "PROV-77"
    refused = requests.patch(f"{api.sb.control_url}/faults", json={"series_overrides_number": "yes"}, timeout=10)
    assert refused.status_code == 400 and "series_overrides_number" in refused.json()["error"]


def test_document_list_filters(ro):
    docs = ro.get(INVOICES).json()
    dates = sorted(d["date"] for d in docs)
    low, high = dates[len(dates) // 4], dates[3 * len(dates) // 4]
    ranged = ro.get(INVOICES, params={"starttmp": str(low), "endtmp": str(high)}).json()
    assert ranged and {d["id"] for d in ranged} == {d["id"] for d in docs if low <= d["date"] <= high}
    contact = docs[0]["contact"]
    assert {d["contact"] for d in ro.get(INVOICES, params={"contactid": contact}).json()} == {contact}
    for paid in ("0", "1", "2"):
        chosen = ro.get(INVOICES, params={"paid": paid}).json()
        assert [d["id"] for d in chosen] == [d["id"] for d in docs if str(d["status"]) == paid]
    ids = [d["id"] for d in docs]
    assert [d["id"] for d in ro.get(INVOICES, params={"sort": "created-asc"}).json()] == ids
    assert [d["id"] for d in ro.get(INVOICES, params={"sort": "created-desc"}).json()] == ids[::-1]
    assert ro.get("/invoicing/v1/documents/estimate", params={"billed": "1"}).status_code == 200
    assert ro.get("/invoicing/v1/documents/nodoc").json()["status"] == 0


def test_contact_list_filters(api):
    contacts = api.get(CONTACTS).json()
    with_phone = next(c for c in contacts if c["phone"])
    with_mobile = next(c for c in contacts if c["mobile"])
    assert [c["id"] for c in api.get(CONTACTS, params={"phone": with_phone["phone"]}).json()] == [with_phone["id"]]
    assert with_mobile["id"] in [c["id"] for c in api.get(CONTACTS, params={"mobile": with_mobile["mobile"]}).json()]
    a = api.post(CONTACTS, json={"name": "A", "CustomId": "ref-a"}).json()["id"]
    b = api.post(CONTACTS, json={"name": "B", "CustomId": "ref-b"}).json()["id"]
    assert {c["id"] for c in api.get(CONTACTS, params={"customId": "ref-a,ref-b"}).json()} == {a, b}
    assert {c["id"] for c in api.get(CONTACTS, params={"customId": ["ref-a", "ref-b"]}).json()} == {a, b}
    assert api.get(CONTACTS, params={"phone": "+34 000"}).json() == []


# --- team and accounting --------------------------------------------------------------------


def test_employee_create_needs_name_last_name_and_email(api):
    path = "/team/v1/employees"
    assert api.post(path, json={"lastName": "Pérez", "email": "a@b.es"}).json() == {"status": 0, "info": "name needed"}
    assert api.post(path, json={"name": "Ana", "email": "a@b.es"}).json() == {"status": 0, "info": "lastName needed"}
    assert api.post(path, json={"name": "Ana", "lastName": "Pérez"}).json() == {"status": 0, "info": "email needed"}
    resp = api.post(path, json={"name": "Ana", "lastName": "Pérez", "email": "ana@tecnoiberica.es"})
    assert resp.status_code == 201 and api.get(f"{path}/{resp.json()['id']}").json()["lastName"] == "Pérez"


def test_daily_ledger_needs_a_range_and_balances(ro):
    assert ro.get("/accounting/v1/dailyledger").json()["status"] == 0
    lines: list[dict] = []
    for page in range(1, 100):
        params = {"starttmp": 0, "endtmp": 2_000_000_000, "page": page}
        batch = ro.get("/accounting/v1/dailyledger", params=params).json()
        lines += batch
        if len(batch) < 500:
            break
    assert lines and round(sum(x["debit"] for x in lines), 2) == round(sum(x["credit"] for x in lines), 2)
    accounts = ro.get("/accounting/v1/chartofaccounts", params={"includeEmpty": 1}).json()
    assert {a["num"] for a in accounts} >= {43000000, 47700000, 70000000}


# --- calendar days --------------------------------------------------------------------------

NEW_YEAR_MADRID = 1_704_063_600  # 2024-01-01T00:00 in Madrid, still 2023-12-31 in UTC


def test_a_document_dated_new_year_in_madrid_is_numbered_in_that_year_with_a_midnight_due_date(api):
    contact = next(c for c in api.get(CONTACTS).json() if c["defaults"].get("dueDays"))
    answer, doc = _new_draft_invoice(api, date=NEW_YEAR_MADRID, contactId=contact["id"])
    assert answer["invoiceNum"].startswith("F24")  # the Madrid year, not 2023 (its UTC year)
    days = (doc["dueDate"] - NEW_YEAR_MADRID) / 86_400
    assert doc["date"] == NEW_YEAR_MADRID and days == contact["defaults"]["dueDays"]


def test_a_payment_without_a_date_is_dated_today_at_midnight_in_madrid(api):
    rid = api.post("/invoicing/v1/payments", json={"amount": 10, "desc": "Cobro"}).json()["id"]
    stored = api.get(f"/invoicing/v1/payments/{rid}").json()["date"]
    local = datetime.fromtimestamp(stored, ZoneInfo("Europe/Madrid"))
    assert local.time() == dt_time(0) and 0 <= time.time() - stored < 86_400 + 3_600


def test_ledger_ranges_are_start_inclusive_end_exclusive(ro):
    """shared/holded-api/README.md: Ledger date filters behave as [starttmp, endtmp)."""
    lines = ro.get("/accounting/v1/dailyledger", params={"starttmp": 0, "endtmp": 2_000_000_000}).json()
    stamp = lines[len(lines) // 2]["timestamp"]
    before = [line["timestamp"] for line in lines if line["timestamp"] < stamp]
    assert before and any(line["timestamp"] == stamp for line in lines)
    from_there = ro.get("/accounting/v1/dailyledger", params={"starttmp": stamp, "endtmp": stamp + 86_400}).json()
    assert from_there and min(line["timestamp"] for line in from_there) == stamp
    ending_there = ro.get("/accounting/v1/dailyledger", params={"starttmp": 0, "endtmp": stamp}).json()
    assert [line["timestamp"] for line in ending_there] == before
