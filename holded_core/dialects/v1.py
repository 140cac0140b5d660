"""Holded API v1 (deprecated, still served): every resource the connector reads or writes.

Routes and query parameters: shared/holded-api/openapi-v1/; pages of 500 with `?page=N`, the first
short page the last; what integrators report of the live API (a route that ignores `page`, day-level
dates at Madrid midnight): shared/holded-api/README.md. The writer's bodies are v1's, so no row declares a
write translation; the rows a write needs say their exact filters, sub-routes and what v1 cannot write.
"""

from __future__ import annotations

from holded_core.dialects import Resource, table

DOC_TYPES = {
    "invoice": "invoices",
    "salesreceipt": "sales_receipts",
    "creditnote": "credit_notes",
    "receiptnote": "receipt_notes",
    "salesorder": "sales_orders",
    "proform": "proformas",
    "waybill": "waybills",
    "estimate": "estimates",
    "purchase": "purchases",
    "purchaseorder": "purchase_orders",
    "purchaserefund": "purchase_refunds",
}


def _r(name: str, path: str, **kw: object) -> Resource:
    return Resource(name, path, module=path.split("/")[1], **kw)  # type: ignore[arg-type]


V1 = table(
    "v1",
    # Writes: `customId` is an exact list filter (README "Lists and pagination"); contact persons have no
    # write route (openapi-v1/invoice.json has none under contacts, and its contact update takes none).
    _r(
        "contacts",
        "/invoicing/v1/contacts",
        cursor="updatedAt",
        filters=(("customId", "customId"),),
        unwritable=("contactPersons",),
    ),
    _r("contact_groups", "/invoicing/v1/contacts/groups"),
    _r("products", "/invoicing/v1/products"),
    _r("services", "/invoicing/v1/services"),
    _r("warehouses", "/invoicing/v1/warehouses"),
    _r("taxes", "/invoicing/v1/taxes", primary_key=("key",)),
    _r("treasuries", "/invoicing/v1/treasury"),
    _r("expense_accounts", "/invoicing/v1/expensesaccounts"),
    _r("sales_channels", "/invoicing/v1/saleschannels"),
    _r("payments", "/invoicing/v1/payments", dated=True),
    _r("payment_methods", "/invoicing/v1/paymentmethods", by_id=False),
    _r("remittances", "/invoicing/v1/remittances"),
    *(_r(name, f"/invoicing/v1/documents/{doc_type}", dated=True) for doc_type, name in DOC_TYPES.items()),
    _r("funnels", "/crm/v1/funnels"),
    # A lead's stage moves through `PUT /leads/{id}/stages {stageId}` (openapi-v1 crm.json; README "Writes").
    _r("leads", "/crm/v1/leads", cursor="updatedAt", routes=(("stageId", "stages"),)),
    _r("crm_events", "/crm/v1/events"),
    _r("booking_locations", "/crm/v1/bookings/locations", by_id=False),
    _r("bookings", "/crm/v1/bookings", cursor="updatedAt"),
    _r("projects", "/projects/v1/projects"),
    _r("project_tasks", "/projects/v1/tasks", cursor="updatedAt"),
    _r("project_times", "/projects/v1/projects/times", by_id=False),
    _r("employees", "/team/v1/employees"),
    # Holded ignores `page` on employee time tracking (shared/holded-api/README.md, reported quirks).
    _r("employee_times", "/team/v1/employees/times", pagination="none"),
    _r("chart_of_accounts", "/accounting/v1/chartofaccounts", by_id=False),
    _r("daily_ledger", "/accounting/v1/dailyledger", primary_key=("entryNumber", "line"), needs_range=True),
)
