"""Where the sandbox knowingly answers differently from the type declared in Holded's OpenAPI files.

Key: "<module> <METHOD> <OpenAPI path>: <field path>". The field path is dotted and steps through
arrays implicitly: for a list route it is relative to one item ("billAddress.postalCode"), and
"shippingAddresses.postalCode" means the field of every shipping address; "$" is the whole body.
Value: why.

The conformance test (unit_tests/test_sandbox_conformance.py) relaxes exactly these fields. Every
entry is either a money amount the spec declares `integer` (Holded serves cents: 12.5) or a field
whose real type README.md documents (postalCode is a string, clientRecord is 0 or {num, name}).
"""

from __future__ import annotations

MONEY = "money amount: Holded serves EUR with cents (e.g. 119.95); the spec's `integer` is an artefact"


def _both(module: str, list_path: str, item_path: str, fields: dict[str, str]) -> dict[str, str]:
    """The same deviation on a list route and on its get-by-id route."""
    out = {}
    for path in (list_path, item_path):
        for field, why in fields.items():
            out[f"{module} GET {path}: {field}"] = why
    return out


ROOT_IS_A_LIST = (
    "the whole body ($): a list route answers a bare JSON array like every Holded list (README), "
    "the spec declares a single object"
)

KNOWN_SPEC_DEVIATIONS: dict[str, str] = {
    "invoicing GET /expensesaccounts: $": ROOT_IS_A_LIST,
    "invoicing GET /paymentmethods: $": ROOT_IS_A_LIST,
    "invoicing GET /remittances: $": ROOT_IS_A_LIST,
    **_both(
        "invoicing",
        "/contacts",
        "/contacts/{contactId}",
        {
            "billAddress.postalCode": "Spanish postal codes are strings with leading zeros ('08001'); README: a string",
            "shippingAddresses.postalCode": "Spanish postal codes are strings with leading zeros; README: a string",
            "clientRecord": "README: 0 when unset, else an object {num, name} (the client's ledger account)",
            "supplierRecord": "README: 0 when unset, else an object {num, name} (the supplier's ledger account)",
            "tradeName": "README: may be 0 (not a string) when the trade name was never set",
        },
    ),
    "invoicing GET /products: price": MONEY,
    "invoicing GET /products: cost": MONEY,
    **_both(
        "invoicing",
        "/documents/{docType}",
        "/documents/{docType}/{documentId}",
        {
            "products.price": MONEY,
            "products.costPrice": MONEY,
            "products.units": "units may be fractional (1.5 hours); the spec's `integer` is an artefact",
            "products.weight": "the product's weight in kg, decimal (products declare weight as a number)",
            "paymentsTotal": MONEY,
        },
    ),
    "invoicing GET /treasury: balance": MONEY,
    "invoicing GET /treasury/{treasuryId}: balance": MONEY,
    "invoicing GET /payments: amount": MONEY,
    "invoicing GET /payments/{paymentId}: amount": MONEY,
    **_both(
        "projects",
        "/projects",
        "/projects/{projectId}",
        {
            "expenses.subtotal": MONEY,
            "expenses.total": MONEY,
            "estimates.subtotal": MONEY,
            "sales.total": MONEY,
        },
    ),
    "projects GET /projects/{projectId}/summary: economicStatus.quoted": MONEY,
    "projects GET /projects/{projectId}/summary: economicStatus.collected": MONEY,
    "projects GET /projects/{projectId}/summary: profitability.expenses.documents": MONEY,
}
