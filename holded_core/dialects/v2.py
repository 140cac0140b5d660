"""Holded API v2 (current): the same resources as v1, under `/v2/`, with cursor pages and permissions.

Routes, query parameters and permission scopes: shared/holded-api/v2/endpoints.md; page sizes and
pagination: shared/holded-api/v2/README.md ("Transport": contacts, documents, ledger entries and
products up to 100 a page; funnels, leads, events and employees up to 200; warehouses unpaginated).
Where the sources name no scope the resource has `permission=None` (read with whatever the token has).
v1's `purchase_refunds` has no v2 list route in the catalogue, so v2 does not offer it.
"""

from __future__ import annotations

from holded_core.dialects import Resource, table


def _r(name: str, path: str, permission: str | None, page_size: int | None = 100, **kw: object) -> Resource:
    area = permission.split(":", 1)[0] if permission else "v2"
    pagination = kw.pop("pagination", "cursor")
    return Resource(
        name, f"/v2{path}", permission=permission, module=area, pagination=pagination, page_size=page_size, **kw
    )  # type: ignore[arg-type]


V2 = table(
    "v2",
    _r("contacts", "/contacts", "contacts:contacts", cursor="updated_at"),
    _r("contact_groups", "/contact-groups", "contacts:contacts"),
    _r("products", "/products", "inventory:products"),
    _r("services", "/services", "sales:services"),
    _r("warehouses", "/warehouses", "inventory:warehouses", page_size=None, pagination="none"),
    _r("taxes", "/taxes", "accounting:taxes", primary_key=("key",)),
    _r("treasuries", "/treasury/accounts", "accounting:banks"),
    _r("expense_accounts", "/expenses-accounts", None),
    _r("sales_channels", "/sales-channels", None),
    _r("payments", "/payments", "accounting:payments", dated=True),
    _r("payment_methods", "/payment-methods", None),
    _r("remittances", "/treasury/remittances", None),
    _r("invoices", "/invoices", "sales:invoices", dated=True),
    _r("sales_receipts", "/sales-receipts", "sales:receipts", dated=True),
    _r("credit_notes", "/credit-notes", None, dated=True),
    _r("receipt_notes", "/receipt-notes", None, dated=True),
    _r("sales_orders", "/sales-orders", "sales:orders", dated=True),
    _r("proformas", "/proformas", "sales:proforms", dated=True),
    _r("waybills", "/waybills", None, dated=True),
    _r("estimates", "/estimates", "sales:estimates", dated=True),
    _r("purchases", "/purchases", "accounting:purchases", dated=True),
    _r("purchase_orders", "/purchase-orders", None, dated=True),
    _r("funnels", "/funnels", "crm:funnels", page_size=200, cursor="updated_at"),
    _r("leads", "/leads", "crm:deals", page_size=200, cursor="updated_at"),
    _r("crm_events", "/events", "crm:events", page_size=200, cursor="updated_at"),
    _r("booking_locations", "/booking-locations", None),
    _r("bookings", "/bookings", None),
    _r("projects", "/projects", "projects:projects"),
    _r("project_tasks", "/tasks", "projects:projects", cursor="updated_at"),
    _r("project_times", "/project-times", "projects:projects"),
    _r("employees", "/employees", "team:employees", page_size=200),
    _r("employee_times", "/employee-times", None),
    _r("chart_of_accounts", "/accounting-accounts", "accounting:chart-of-accounts"),
    _r("daily_ledger", "/ledger-entries", "accounting:daily-ledger", needs_range=True, by_id=False),
)
