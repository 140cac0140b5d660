"""The ten unified models (DESIGN.md), as pydantic models; their JSON schemas are generated from them.

Every record has `id` (Holded's id; embedded children `<parentId>:<childId>`), `createdAt` and
`updatedAt` (ISO 8601 UTC, null where Holded keeps none), `customFields` (name -> value, after the
user's field mapping) and optionally `raw` (the Holded record as received). Reference fields hold the
referenced unified record's id. Extra fields (from field mappings) are allowed.

Two kinds of time: instants (`Timestamp`, JSON schema `format: date-time`) and calendar days (`Day`,
`format: date`, `YYYY-MM-DD` in the account's time zone; Holded keeps them as 00:00 of the day in
Madrid, shared/holded-api/README.md: Calendar dates are midnight in Madrid).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from holded_core.dates import account_zone, parse_day


def _iso_day(value: str | None) -> str | None:
    """A day as ISO 8601 text: `YYYY-MM-DD`, or a date-time the writer takes as its day in the account's zone."""
    if value is not None:
        parse_day(value, account_zone())  # ValueError: not a date
    return value


# An instant: ISO 8601 UTC, e.g. "2025-01-15T10:00:00Z".
Timestamp = Annotated[str | None, Field(json_schema_extra={"format": "date-time"})]
# A calendar day in the account's time zone, e.g. "2024-01-01" (a date-time is accepted on write and
# taken as its day in that zone).
Day = Annotated[str | None, Field(json_schema_extra={"format": "date"}), AfterValidator(_iso_day)]


class UnifiedRecord(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    createdAt: Timestamp = None
    updatedAt: Timestamp = None
    customFields: dict[str, Any] = Field(default_factory=dict)
    raw: dict[str, Any] | None = None


class Address(BaseModel):
    model_config = ConfigDict(extra="allow")

    street: str | None = None
    city: str | None = None
    postalCode: str | None = None
    province: str | None = None
    country: str | None = None
    countryCode: str | None = None


class GenericContact(UnifiedRecord):
    """A person: a Holded contact with isperson=1, or a company's contact person."""

    firstName: str | None = None
    lastName: str | None = None
    email: str | None = None
    phoneNumber: str | None = None
    mobile: str | None = None
    company: str | None = Field(default=None, description="genericCompany id (contact persons)")
    jobTitle: str | None = None
    taxId: str | None = None
    customId: str | None = None
    role: str | None = Field(default=None, description="Holded type: client, supplier, debtor, creditor, lead")
    tags: list[str] = Field(default_factory=list)
    address: Address | None = None


class GenericCompany(UnifiedRecord):
    name: str | None = None
    tradeName: str | None = None
    email: str | None = None
    phoneNumber: str | None = None
    mobile: str | None = None
    website: str | None = None
    taxId: str | None = None
    customId: str | None = None
    role: str | None = None
    tags: list[str] = Field(default_factory=list)
    address: Address | None = None


class GenericUser(UnifiedRecord):
    firstName: str | None = None
    lastName: str | None = None
    email: str | None = None
    phoneNumber: str | None = None
    userId: str | None = Field(default=None, description="Holded user id that CRM owner fields point at")


class GenericWorkspace(UnifiedRecord):
    name: str | None = None
    description: str | None = None
    status: str | None = None
    company: str | None = None
    startDate: Day = Field(default=None, description="the project's start day (Holded `date`)")
    dueDate: Day = None
    tags: list[str] = Field(default_factory=list)


class CrmPipeline(UnifiedRecord):
    name: str | None = None
    stages: list[str] = Field(default_factory=list, description="crmStage ids, in pipeline order")


class CrmStage(UnifiedRecord):
    pipeline: str | None = None
    name: str | None = None
    type: str | None = Field(default="open", description="open, won or lost")
    key: str | None = None
    description: str | None = None
    position: int | None = None


class CrmOpportunity(UnifiedRecord):
    name: str | None = None
    amount: float | None = None
    currency: str | None = None
    pipeline: str | None = None
    stage: str | None = None
    contact: str | None = None
    company: str | None = None
    owner: str | None = None
    status: str | None = None
    probability: float | None = None
    closeDate: Day = Field(default=None, description="the lead's expected close day (Holded `dueDate`)")


class CrmEngagement(UnifiedRecord):
    type: str | None = None
    direction: str | None = None
    status: str | None = None
    title: str | None = None
    description: str | None = None
    startTime: Timestamp = None
    endTime: Timestamp = None
    contact: str | None = None
    company: str | None = None
    opportunity: str | None = None
    owner: str | None = None


class AccountingInvoice(UnifiedRecord):
    number: str | None = None
    customer: str | None = Field(default=None, description="genericContact id when the contact is a person")
    company: str | None = Field(default=None, description="genericCompany id when the contact is a company")
    issueDate: Day = Field(default=None, description="the invoice's day (Holded `date`), which sets its fiscal year")
    dueDate: Day = None
    status: str | None = None
    currency: str | None = None
    subtotal: float | None = None
    taxAmount: float | None = None
    total: float | None = None
    paidAmount: float | None = None
    pendingAmount: float | None = None
    draft: bool | None = None
    description: str | None = None
    notes: str | None = None
    lines: list[str] = Field(default_factory=list, description="accountingInvoiceItem ids")


class AccountingInvoiceItem(UnifiedRecord):
    invoice: str | None = None
    position: int | None = None
    description: str | None = None
    quantity: float | None = None
    unitPrice: float | None = None
    discount: float | None = None
    amount: float | None = None
    taxRate: float | None = None
    taxAmount: float | None = None
    product: str | None = None
    sku: str | None = None


MODELS: dict[str, type[UnifiedRecord]] = {
    "genericContact": GenericContact,
    "genericCompany": GenericCompany,
    "genericUser": GenericUser,
    "genericWorkspace": GenericWorkspace,
    "crmPipeline": CrmPipeline,
    "crmStage": CrmStage,
    "crmOpportunity": CrmOpportunity,
    "crmEngagement": CrmEngagement,
    "accountingInvoice": AccountingInvoice,
    "accountingInvoiceItem": AccountingInvoiceItem,
}
