"""Holded's webhook objects and the resource each one is read again from: one row per object.

Holded sends signed webhooks for 18 objects, 58 events `<object>.<action>` (shared/holded-api/v2/README.md,
"Webhooks"; the catalogue of francodesystems/n8n-nodes-holded `nodes/Holded/v2/WebhookEvents.ts`). A
payload is a small summary, so the receiver (`holded_core.inbound`) reads the object again by id from the
resource named here, in whichever dialect the credential speaks (resources are named the same in every
dialect), and feeds every selected stream built from that resource's listing: the unified streams whose
mappings read it (`contacts` feeds genericContact and genericCompany, `invoices` feeds accountingInvoice and
accountingInvoiceItem) and the Holded-native stream of the same name. Leads, funnels, CRM events, projects,
tasks, employees and the ledger send no events: those streams keep needing `holded sync`.

Adding an object Holded starts sending is one row here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HookObject:
    """One of Holded's webhook objects.

    Attributes:
        name: the object as Holded's event names spell it (`invoice` in `invoice.update`).
        resource: the resource (`holded_core.dialects`) the object is read again from by id, or None where
            the connector reads none (then its deliveries are stored, acknowledged and counted as ignored).
        actions: the actions Holded sends for it.
        note: why the row is as it is, where it is not obvious.
    """

    name: str
    resource: str | None
    actions: tuple[str, ...] = ("create", "update", "delete")
    note: str = ""


_APPROVABLE = ("create", "update", "delete", "approve")

WEBHOOK_OBJECTS: dict[str, HookObject] = {
    row.name: row
    for row in (
        HookObject("invoice", "invoices", _APPROVABLE),
        HookObject("creditnote", "credit_notes", _APPROVABLE),
        HookObject("salesreceipt", "sales_receipts", _APPROVABLE),
        HookObject("purchase", "purchases", _APPROVABLE),
        HookObject("purchaserefund", "purchase_refunds", _APPROVABLE, "API v2 lists no purchase refunds"),
        HookObject("receiptnote", "receipt_notes", _APPROVABLE),
        HookObject("proform", "proformas"),
        HookObject("estimate", "estimates"),
        HookObject("salesorder", "sales_orders"),
        HookObject("waybill", "waybills"),
        HookObject("service", "services"),
        HookObject("receipt", None, note="neither API lists receipts: nothing to read it again from"),
        HookObject("purchaseorder", "purchase_orders"),
        HookObject("payment", "payments"),
        HookObject("contact", "contacts"),
        HookObject("product", "products"),
        HookObject("warehouse", "warehouses"),
        HookObject("stock", "products", ("update",), "a product's stock changed: the product is read again"),
    )
}
