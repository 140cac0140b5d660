"""One declarative mapping per unified model, Holded <-> unified, serving read and write.

A `Field` is declared once: the unified field name(s), the Holded path, and its two conversions
(`read`: Holded value -> unified value; `write`: unified value -> Holded value, None when read-only).
A `ModelMapping` says which Holded resource feeds the model (named as in `holded_core.dialects`, so a
model is declared once for every API version), which of its records belong to it
(`select`), whether the model's records are embedded children of the listed ones (`children`), and
its fields, and how the model is written (`WriteRules`: required fields, natural key, references,
children, guards and the few body hooks Holded's quirks call for). The source reads through
`to_unified`; the destination writes through `to_holded` and the model's `WriteRules`
(`holded_core.writes` runs them, with no branch of its own per model).

Holded's timestamps are of two kinds: instants (`createdAt`, an event's start) become ISO 8601 UTC
date-times (`ts`), and calendar days (an invoice's `date`, a lead's `dueDate`, a project's `date`)
become `YYYY-MM-DD` in the account's time zone (`day_field`; see `holded_core.dates`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from holded_core import models
from holded_core.dates import DEFAULT_TIMEZONE, account_zone, day_of, midnight, parse_day
from holded_core.identity import identity

# ----------------------------------------------------------------------------------- context


@dataclass(slots=True)
class ReadContext:
    """What a conversion may need besides the value itself."""

    record: Mapping[str, Any]  # the Holded record the value comes from (the child, for children)
    parent: Mapping[str, Any] | None = None  # the listed record, for embedded children
    position: int = 0  # the child's index in its parent's list
    default_currency: str = "EUR"
    is_person: Callable[[str], bool | None] = lambda _id: None  # contact id -> person? (None: unknown)
    timezone: ZoneInfo = field(default_factory=account_zone)  # the account's zone: calendar days are days there


Reader = Callable[[Any, ReadContext], Any]
Writer = Callable[..., Any]


def _same(value: Any, _ctx: ReadContext | None = None) -> Any:
    return value


@dataclass(frozen=True)
class Field:
    names: tuple[str, ...]  # unified field names (several when one Holded value splits, e.g. a name)
    path: str | None  # dotted Holded path; None for values computed from the context
    read: Reader = _same
    write: Writer | None = _same  # unified value(s) -> Holded value; None: read-only
    custom_field: str | None = None  # set when the value is a Holded custom field (field mappings)
    zoned: bool = False  # a calendar day: `write` also takes the account's zone (see `day_field`)
    # Where Holded's write body takes the value when it is not `path` (a contact's `CustomId`, a line's
    # `subtotal`, a document's `invoiceNum`: the names Holded's creates take for what reads return at `path`).
    write_path: str | None = None

    @property
    def name(self) -> str:
        return self.names[0]

    @property
    def sent_as(self) -> str | None:
        """The Holded path a write sends the value to."""
        return self.write_path or self.path


def f(name: str, path: str | None, read: Reader = _same, write: Writer | None = _same) -> Field:
    return Field((name,), path, read, write)


def day_field(name: str, path: str) -> Field:
    """A field Holded keeps as a calendar day: `YYYY-MM-DD` in the account's zone, both directions."""
    return Field((name,), path, day, day_to_holded, zoned=True)


# -------------------------------------------------------------------------------- converters


def _seconds(value: Any) -> int | None:
    """Holded's unix seconds; its unset dates (0, null, '') -> None."""
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None


def ts(value: Any, _ctx: ReadContext | None = None) -> str | None:
    """An instant: unix seconds -> ISO 8601 UTC; Holded's unset dates (0, null, '') -> None."""
    seconds = _seconds(value)
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_ts(value: str | None) -> int | None:
    """An instant: ISO 8601 -> unix seconds (UTC when the value has no offset, never the machine's zone)."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return int((parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)).timestamp())


def day(value: Any, ctx: ReadContext) -> str | None:
    """A calendar day: Holded's unix seconds of 00:00 in the account's zone -> `YYYY-MM-DD` in that zone.

    Args:
        value: Holded's timestamp, e.g. an invoice's `date` `1704063600`; 0, null or '' when unset.
        ctx: carries the account's zone (`timezone` setting, Europe/Madrid by default).

    Returns:
        `"2024-01-01"` for the example (not 2023-12-31, its UTC day), or None when unset.

    Source: shared/holded-api/README.md: Calendar dates are midnight in Madrid.
    """
    seconds = _seconds(value)
    return None if seconds is None else day_of(seconds, ctx.timezone)


def day_to_holded(value: Any, zone: ZoneInfo) -> int | None:
    """A calendar day -> what Holded stores for it: unix seconds of 00:00 of that day in the account's zone.

    Args:
        value: `YYYY-MM-DD` (or a date-time: its day in the account's zone, see `dates.parse_day`).
        zone: the account's zone; the machine's own zone plays no part.

    Returns:
        Unix seconds (`1704063600` for 2024-01-01 in Europe/Madrid), or None for an empty value.

    Raises:
        ValueError: the value is not a date.

    Source: shared/holded-api/README.md: Calendar dates are midnight in Madrid.
    """
    if value is None or value == "":
        return None
    return midnight(parse_day(value, zone), zone)


class BadValue(ValueError):
    """A Holded value that does not fit its unified field (reported, and the field left null)."""


def text(value: Any, _ctx: ReadContext | None = None) -> str | None:
    """Holded's empty strings and 0 placeholders (tradeName: 0) read as None."""
    if type(value) is str:  # nearly every value: the one test it needs first (a read makes millions of these)
        return value or None
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, (dict, list)):
        raise BadValue(f"expected text, got {type(value).__name__}")
    return str(value)


def number(value: Any, _ctx: ReadContext | None = None) -> float | None:
    kind = type(value)
    if kind is float or kind is int:  # JSON's numbers, first (`bool` is not `int` here: it is refused below)
        return float(value)
    if value is None or value == "":
        return None
    if isinstance(value, (bool, dict, list)):
        raise BadValue(f"expected a number, got {type(value).__name__}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise BadValue(f"expected a number, got {str(value)[:40]!r}") from None


def integer(value: Any, _ctx: ReadContext | None = None) -> int | None:
    num = number(value)
    return None if num is None else int(num)


def ref(value: Any, _ctx: ReadContext | None = None) -> str | None:
    """A reference to another record's id; Holded writes '' or 0 for none."""
    return text(value)


def strings(value: Any, _ctx: ReadContext | None = None) -> list[str]:
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        raise BadValue(f"expected a list, got {type(value).__name__}")
    return [str(v) for v in value]


def split_name(value: Any, _ctx: ReadContext | None = None) -> tuple[str | None, str | None]:
    """Holded keeps one `name`; the first word is the first name, the rest the last name."""
    name = text(value)
    if not name:
        return None, None
    first, _, last = name.strip().partition(" ")
    return first, last or None


def join_name(first: str | None, last: str | None) -> str | None:
    joined = " ".join(part for part in (first, last) if part)
    return joined or None


def lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else value


def upper_currency(value: Any, ctx: ReadContext) -> str:
    return (text(value) or ctx.default_currency).upper()


def address(value: Any, _ctx: ReadContext | None = None) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    out = {
        "street": text(value.get("address")),
        "city": text(value.get("city")),
        "postalCode": text(value.get("postalCode")),
        "province": text(value.get("province")),
        "country": text(value.get("country")),
        "countryCode": text(value.get("countryCode")),
    }
    return out if any(out.values()) else None


def address_to_holded(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not value:
        return None
    keys = {"street": "address", "city": "city", "postalCode": "postalCode", "province": "province"}
    keys |= {"country": "country", "countryCode": "countryCode"}
    return {holded: value[unified] for unified, holded in keys.items() if value.get(unified) is not None}


def child_id(parent_key: str, child_key: str | None) -> Reader:
    """Embedded children get `<parentId>:<childId>` (their position when they have no id)."""

    def read(_value: Any, ctx: ReadContext) -> str:
        parent_id = str((ctx.parent or {}).get(parent_key, ""))
        own = ctx.record.get(child_key) if child_key else None
        return f"{parent_id}:{own if own else ctx.position}"

    return read


def parent_ref(key: str) -> Reader:
    return lambda _value, ctx: text((ctx.parent or {}).get(key))


def stage_ref(_value: Any, ctx: ReadContext) -> str | None:
    """A lead's stage as the crmStage id `<funnelId>:<stageId>`."""
    funnel, stage = text(ctx.record.get("funnelId")), text(ctx.record.get("stageId"))
    return f"{funnel}:{stage}" if funnel and stage else None


def stage_from_ref(value: str | None) -> str | None:
    """A crmStage id `<funnelId>:<stageId>` -> the `stageId` a lead is written with (a bare id as it is)."""
    return value.split(":", 1)[1] if value and ":" in value else (value or None)


def contact_as(kind: str) -> Reader:
    """An invoice's contact goes to `customer` (a person) or `company` by the contact's isperson.

    A contact Holded no longer has (deleted since) cannot be told: both fields are left null and the
    reason reported, rather than guessing one and reporting a change that is not so."""

    def read(value: Any, ctx: ReadContext) -> str | None:
        contact = text(value)
        if not contact:
            return None
        person = ctx.is_person(contact)
        if person is None:
            if kind == "person":  # said once, for the pair of fields
                raise BadValue(f"contact {contact} is not among Holded's contacts: customer and company left null")
            return None
        return contact if (kind == "person") == person else None

    return read


def lead_status(value: Any, _ctx: ReadContext | None = None) -> str | None:
    return {0: "open", 1: "won", 2: "lost"}.get(integer(value) if value is not None else None)


def lead_status_to_holded(value: str | None) -> int | None:
    return {"open": 0, "won": 1, "lost": 2}.get(value or "")


def event_status(value: Any, _ctx: ReadContext | None = None) -> str | None:
    return {0: "planned", 1: "completed"}.get(integer(value) if value is not None else None)


def invoice_status(value: Any, ctx: ReadContext) -> str | None:
    """`draft`, else what is owed: `unpaid`, `partially_paid` or `paid` from `paymentsTotal` and
    `paymentsPending`, which win over Holded's `status`. That field is a stored badge that imported
    documents keep stale (it can say paid while `paymentsPending` is above zero; shared/holded-api/
    README.md, "`status` is a stored badge"); it is read only when the payment fields are absent."""
    if ctx.record.get("draft") in (1, True):
        return "draft"
    pending, paid = number(ctx.record.get("paymentsPending")), number(ctx.record.get("paymentsTotal"))
    if pending is None or paid is None:
        return {0: "unpaid", 1: "paid", 2: "partially_paid"}.get(integer(value) if value is not None else None)
    if abs(paid) < 0.005:
        return "unpaid"
    return "paid" if abs(pending) < 0.005 else "partially_paid"


def line_amount(_value: Any, ctx: ReadContext) -> float | None:
    """A line's net amount: units x price less its discount, rounded to cents like Holded's totals."""
    price, units = number(ctx.record.get("price")), number(ctx.record.get("units"))
    if price is None or units is None:
        return None
    discount = number(ctx.record.get("discount")) or 0.0
    return round(price * units * (1 - discount / 100), 2)


def line_tax(_value: Any, ctx: ReadContext) -> float | None:
    amount, rate = line_amount(None, ctx), number(ctx.record.get("tax"))
    return None if amount is None or rate is None else round(amount * rate / 100, 2)


def project_status(value: Any, _ctx: ReadContext | None = None) -> str | None:
    return {0: "active", 1: "active", 2: "completed", 3: "archived"}.get(integer(value) or 0)


def stage_ids(value: Any, ctx: ReadContext) -> list[str]:
    funnel = ctx.record.get("id")
    return [f"{funnel}:{s.get('stageId')}" for s in value or [] if isinstance(s, dict) and s.get("stageId")]


def line_ids(value: Any, ctx: ReadContext) -> list[str]:
    return [f"{ctx.record.get('id')}:{i}" for i in range(len(value or []))]


def position(_value: Any, ctx: ReadContext) -> int:
    return ctx.position


def const(value: Any) -> Reader:
    return lambda _v, _ctx: value


def opportunity_currency(_value: Any, ctx: ReadContext) -> str:
    return ctx.default_currency  # Holded leads carry no currency: the account default from config


def is_person(record: Mapping[str, Any]) -> bool:
    return str(record.get("isperson", "0")) in ("1", "True", "true")


# -------------------------------------------------------------------------------- write rules


class Rejected(Exception):
    """The record cannot be written as it is; the message says why and what to change.

    Raised by the writer (`holded_core.writes`) and by the write hooks declared with the models below."""


Shaper = Callable[[dict[str, Any], Mapping[str, Any], bool], None]  # (body, unified record, creating) -> None
Guard = Callable[[Mapping[str, Any]], str | None]  # a record -> why it cannot be written, or None
NaturalKey = Callable[[Mapping[str, Any]], str | None]  # a unified record -> its natural key, or None


@dataclass(frozen=True)
class Approval:
    """A document Holded approves only as it creates it, with its lines (a write rule of its model).

    Holded's API v1 takes `approveDoc: true` on a document create and has no approve route, and its
    update takes no approval flag (shared/holded-api/openapi-v1/invoice.json, "Create Document" and
    "Update Document"); an approved document cannot be edited (shared/holded-api/README.md, "Writes"),
    so its lines must be in the create. Documents created without it are drafts that Holded's UI hides
    from the sales lists (README "what integrators report", iamsamuelfraga/mcp-holded issue 51).

    Attributes:
        field: the unified boolean field; False asks for approval (a record that is not a draft).
        flag: the create body's approval flag.
        lines: the child stream whose records are the document's lines (written `Embedded` in it; the
            create body takes them in that child's list, `Embedded.write_as`).
        declared: the unified field listing the record's own line ids, when the record carries it.
    """

    field: str
    flag: str
    lines: str
    declared: str

    def asked(self, record: Mapping[str, Any]) -> bool:
        """Whether `record` asks to be approved (its `field` is false; absent or null asks nothing)."""
        value = record.get(self.field)
        return value is not None and value in (False, 0)

    def missing(self, record: Mapping[str, Any], lines: Sequence[Mapping[str, Any]] | None) -> str | None:
        """Why the document cannot be approved as it is created with `lines`, or None when it can.

        Args:
            record: the document's unified record; `lines`: its line records from the same push (None
                when it came alone).

        Returns:
            None when every line the record declares came with it, or (declaring none: an empty list is
            taken as not filled in) at least one came; else the reason, naming the missing lines. A
            document with no line at all is not approved: lines pushed later could not be added to it.
        """
        declared = record.get(self.declared)
        arrived = {identity(line.get("id")) for line in lines or ()}
        if isinstance(declared, list) and declared:
            absent = [str(d) for d in declared if identity(d) not in arrived]
            return f"its {self.lines} {', '.join(absent)} were not in this push" if absent else None
        return None if lines else f"none of its lines ({self.lines} records) were in this push"


@dataclass(frozen=True)
class Embedded:
    """A model Holded keeps inside another's records and writes only by rewriting the parent's list.

    Funnels embed their stages and there is no stage endpoint: stages change by updating the funnel;
    a document's lines live in its `products[]`, written back as `items[]`, with no stable line id
    (shared/holded-api/README.md, "Writes"; openapi-v1/invoice.json "Update Document" for `items`).
    The list read is the model's `ModelMapping.children`.

    Attributes:
        parent: the parent's stream (written first; a child waits for it).
        field: the child's unified field holding its parent's key (else the head of its id
            `<parent>:<child>`); it also names the parent in messages.
        own_id: the Holded key of an item's own id in the list (a stage's `stageId`); None when Holded
            keeps none, and an item is its position (the record's `position`, else its id's tail).
        write_as: the parent's write-body key for the list, when not the list read (`items`).
        listed: an item as listed, turned into the write form the parent's update takes back (the
            siblings of the item written are sent again as they are).
    """

    parent: str
    field: str
    own_id: str | None = None
    write_as: str | None = None
    listed: Callable[[Mapping[str, Any]], dict[str, Any]] = dict


@dataclass(frozen=True)
class WriteRules:
    """How a unified model is written to Holded: the write half of its `ModelMapping`.

    The writer (`holded_core.writes.Writer`) runs the same steps for every model; every difference
    between models is one of these attributes. Fields named "unified" are the model's; "Holded" ones
    are keys of the write body (`to_holded`).

    Attributes:
        noun: how messages name one record (`the invoice is approved`, `no such line`).
        required: unified fields a create needs (Holded's own create requirements, e.g. an employee's
            `name, lastName, email` and a lead's funnel and contact: README "Writes").
        natural_key: the unified record -> a key matched by value before a create (an identity:
            trimmed, NFC, case-folded), for models Holded gives no external id of ours.
        key_fields: unified fields that are the record's identity in Holded (a contact's `customId`):
            compared as identities, so a change of case, spaces or Unicode form in them is no change.
            Other fields (an e-mail, a name) are compared as values: a case change is written.
        custom_id: the unified field that is Holded's `customId` (contacts: README "Records", its one
            native external reference, filterable on list). Set by the create (from the record's key
            when empty) under the field's `write_path`, matched on, and refused on update: it is the
            matching key.
        references: unified field -> the streams it may point at; resolved to this account's Holded
            ids before anything is compared or sent (a reference to an `Embedded` model resolves its
            parent, then the item in it).
        computed: unified fields Holded derives itself (an invoice's status and totals: README
            "Writes"): never written; a difference is noted in the result.
        set_once: unified fields written only by the create: Holded's update does not take them, and
            Holded may keep another value (a numbering series replaces a sales document's number:
            README "what integrators report"; nubiia-dev/mcp-holded src/tools/documents.ts). Read back
            after the create and reported; a later difference is noted, never written again.
        create_only: Holded fields the create request takes; the rest of the body follows in an update
            of the new record (openapi-v1: `POST /funnels` takes `name` only, `POST /leads` its list).
        update_drops: Holded fields an update never sends: set by the create only (a lead's
            `funnelId` and `contactId`: openapi-v1 crm.json, `PUT /leads/{leadId}` takes neither).
        create_values: Holded fields every create sends (a contact is a person or a company by
            `isperson`: README "Records").
        single_key_custom_fields: the operations (`create`, `update`) on which custom fields are sent
            as one single-key object per field, `[{"<name>": "<value>"}]`: Holded corrupts the
            documented `[{field, value}]` list on contact create and update and on document create
            (README "Writes"). Elsewhere the documented form is sent.
        approval: approved only as it is created, with its lines (see `Approval`).
        embedded: written through its parent's list (see `Embedded`).
        refuse: record -> why it cannot be written at all (before anything is read), or None.
        claims: for a stream's second (or later) written mapping: record -> whether this mapping writes it
            (a company's contact person, id `<companyId>:<personId>`, in `genericContact`); the stream's
            first mapping writes the rest.
        matches: Holded's matched record -> why this record must not be written over it, or None
            (persons and companies share Holded's contacts).
        locked: Holded's current record -> the state in which Holded refuses to change it
            (`approved`: an approved document cannot be edited or deleted, nor its lines; README
            "Writes"), or None.
        shape: body hooks, run in order on every body after the generic steps: `(body, record,
            creating)`, for what a field declaration cannot say (an event's `duration`).
        create_notes: record -> what a create cannot reproduce, said in the result rather than
            dropped silently (an invoice said to be paid), or None.
    """

    noun: str = "record"
    required: tuple[str, ...] = ()
    natural_key: NaturalKey | None = None
    key_fields: tuple[str, ...] = ()
    custom_id: str | None = None
    references: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    computed: tuple[str, ...] = ()
    set_once: tuple[str, ...] = ()
    create_only: tuple[str, ...] = ()
    update_drops: tuple[str, ...] = ()
    create_values: Mapping[str, Any] = field(default_factory=dict, hash=False)
    single_key_custom_fields: tuple[str, ...] = ()
    approval: Approval | None = None
    embedded: Embedded | None = None
    refuse: Guard | None = None
    claims: Callable[[Mapping[str, Any]], bool] | None = None
    matches: Guard | None = None
    locked: Guard | None = None
    shape: tuple[Shaper, ...] = ()
    create_notes: tuple[Guard, ...] = ()


def by_field(name: str) -> NaturalKey:
    """A natural key: one unified field, compared as an identity (trimmed, NFC, case-folded)."""
    return lambda unified: identity(unified.get(name))


def event_key(unified: Mapping[str, Any]) -> str | None:
    """A CRM event's natural key: its title (as an identity) and start; None without a title."""
    title = identity(unified.get("title"))
    return f"{title}|{unified.get('startTime')}" if title else None


def is_contact_person(record: Mapping[str, Any]) -> bool:
    """A company's contact person: its id is `<companyId>:<personId>`, as the stream reads it from the
    company's `contactPersons[]` (a person of its own is a contact, id without a colon)."""
    return ":" in str(record.get("id") or "")


def person_with_company(record: Mapping[str, Any]) -> str | None:
    """A `genericContact` with `company` set and an id without a colon: refused, naming the fix.

    Holded ties a person to a company only as the company's contact person (`contactPersons[]`, id
    `<companyId>:<personId>`); a person of its own (`isperson` 1) has no company. Written as a person of its
    own, the `company` would be dropped without a word; written as a contact person, the key could not
    be kept in Holded (a contact person has no `customId` nor custom fields) and its `mobile`, `taxId`,
    `customId`, `tags` and `address` would be lost. So the user says which one is meant.

    Returns:
        The reason, or None for any other record.
    """
    company = record.get("company")
    if company in (None, "") or is_contact_person(record):
        return None
    key = str(record.get("id") or "")
    return (
        f"company is {company!r} but the id {key!r} has no colon: Holded links a person to a company only as "
        f"the company's contact person, written with the id '<companyId>:<personId>' (e.g. '{company}:{key}'; "
        "Holded's API v2 only); for a person of its own, leave company empty"
    )


def person_key(unified: Mapping[str, Any]) -> str | None:
    """A contact person's natural key within its company: its whole name (as an identity)."""
    return identity(join_name(unified.get("firstName"), unified.get("lastName")))


def contact_kind(person: bool) -> Guard:
    """Persons and companies share Holded's contacts (`isperson` tells them apart: README "Records"): a
    company record must never match (and rewrite) a person, nor the other way round, whatever key
    matched them."""

    def guard(found: Mapping[str, Any]) -> str | None:
        if is_person(found) == person:
            return None
        kinds = ("person", "company") if person else ("company", "person")
        return (
            f"it matches Holded contact {found.get('id')} (customId {found.get('customId')!r}), which is a "
            f"{kinds[1]} in Holded while this record is a {kinds[0]}: give it another id or customId"
        )

    return guard


def website_at_create(body: dict[str, Any], record: Mapping[str, Any], creating: bool) -> None:
    """A contact's website is sent by the create only: Holded ignores `socialNetworks` on update
    (README "Writes", silent no-ops), so the field is declared read-only and written here."""
    if creating and record.get("website"):
        body["socialNetworks"] = {"website": record["website"]}


def event_duration(body: dict[str, Any], record: Mapping[str, Any], _creating: bool) -> None:
    """Holded's event write body takes a `duration` (seconds) where reads return `endDate` (README
    "Writes", CRM events)."""
    start, end = from_ts(record.get("startTime")), from_ts(record.get("endTime"))
    if start is not None and end is not None:
        body["duration"] = max(0, end - start)


def invoice_contact(body: dict[str, Any], record: Mapping[str, Any], creating: bool) -> None:
    """An invoice's `customer` (a person) or `company` is one Holded `contactId`, set by the create
    (openapi-v1/invoice.json: "Create Document" takes `contactId`, "Update Document" does not).

    Raises:
        Rejected: a create with neither.
    """
    if creating:
        contact = record.get("customer") or record.get("company")
        if not contact:
            raise Rejected("an invoice needs its customer (a person) or company")
        body["contactId"] = contact


def approved(document: Mapping[str, Any]) -> str | None:
    """`approved` when Holded's document is not a draft: it cannot be edited or deleted (README "Writes")."""
    return "approved" if document.get("draft") in (0, False) else None


def paid_status(record: Mapping[str, Any]) -> str | None:
    """Holded derives a document's `status` from its payments and ignores it on write (README "Writes")."""
    if record.get("status") in ("paid", "partially_paid"):
        return f"status {record['status']!r} is not written: Holded derives it from payments"
    return None


def line_as_item(line: Mapping[str, Any]) -> dict[str, Any]:
    """A line as read (`products[]`) turned back into the write form (`items[]`, the unit price as
    `subtotal`: openapi-v1/invoice.json, "Update Document"). A line read through API v2 keeps its
    `lineId` (v2's `line_id`), so Holded keeps that line (shared/holded-api/v2/README.md, "Shapes")."""
    item = {k: line.get(k) for k in ("name", "desc", "units", "tax", "taxes", "discount", "retention", "sku", "lineId")}
    item["subtotal"] = line.get("price")
    return {k: v for k, v in item.items() if v is not None}


# ----------------------------------------------------------------------------------- mapping


@dataclass(frozen=True)
class ModelMapping:
    """One unified model over one Holded resource, both directions: the whole declaration of a model.

    Attributes:
        stream: the unified stream (`genericContact`...).
        model: its pydantic model (`holded_core.models`).
        resource: the Holded resource its records come from and are written to, named as in
            `holded_core.dialects` (`contacts`, `leads`...), so one declaration serves every API version.
        fields: its fields, each with its Holded path and its two conversions (`Field`).
        select: which listed records are this model's (persons and companies share `contacts`:
            `isperson`, README "Records").
        children: the records are the listed records' embedded list at this path (funnel `stages`,
            document `products`: README "Records"); None for top-level records.
        custom_fields: Holded path of the custom-field list, if the object keeps one (contacts, leads,
            documents, funnels: README "Writes"); the writer keeps its external id there.
        cursor: unified field Holded maintains as a modification time (contacts and leads: README
            "Records").
        description: one line for the catalog.
        write: how the model is written (`WriteRules`); None for a model the writer does not write
            (a company's contact persons).
    """

    stream: str
    model: type[models.UnifiedRecord]
    resource: str
    fields: tuple[Field, ...]
    select: Callable[[Mapping[str, Any]], bool] = lambda _r: True
    children: str | None = None
    custom_fields: str | None = "customFields"
    cursor: str | None = None
    description: str = ""
    write: WriteRules | None = None

    def fields_by_name(self) -> dict[str, Field]:
        return {name: fld for fld in self.fields for name in fld.names}


# The custom field in which the destination keeps a record's source key; bookkeeping, never data.
EXTERNAL_ID = "holded-connector-id"


def custom_fields_of(value: Any) -> dict[str, Any]:
    """Holded's `[{field, value}]` list (and the single-key form) -> {name: value}."""
    out: dict[str, Any] = {}
    for item in value or []:
        if not isinstance(item, dict):
            continue
        if "field" in item:
            out[str(item["field"])] = item.get("value")
        elif len(item) == 1:
            ((name, val),) = item.items()
            out[str(name)] = val
    out.pop(EXTERNAL_ID, None)
    return out


def get_path(record: Mapping[str, Any], path: str) -> Any:
    return _dig(record, tuple(path.split(".")))


def _dig(node: Any, parts: tuple[str, ...]) -> Any:
    for part in parts:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


@dataclass(frozen=True, slots=True)
class _Step:
    """A field ready to run: its Holded path split once, not per record (the mapping is the hot path)."""

    names: tuple[str, ...]
    key: str | None  # a top-level key (most fields)
    parts: tuple[str, ...] | None  # a nested path
    read: Reader
    label: str


Mapper = Callable[[Mapping[str, Any], ReadContext], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class _Plan:
    """A mapping's fields ready to run: the steps, and the same steps compiled into one function."""

    steps: tuple[_Step, ...]
    fast: Mapper  # every field of one record; raises where a value does not fit (then `steps` say which)


_plans: dict[tuple[int, int], tuple[tuple[Field, ...], _Plan]] = {}


def _plan(mapping: ModelMapping, extra: tuple[Field, ...]) -> _Plan:
    cache_key = (id(mapping), id(extra))
    cached = _plans.get(cache_key)
    if cached is not None and cached[0] is extra:  # `is`: an id can be reused once its object is gone
        return cached[1]
    steps = []
    for fld in _with_overrides(mapping.fields, extra):
        parts = tuple(fld.path.split(".")) if fld.path else None
        key = parts[0] if parts and len(parts) == 1 else None
        steps.append(_Step(fld.names, key, None if key else parts, fld.read, fld.path or fld.name))
    plan = _Plan(tuple(steps), _compile(tuple(steps)))
    _plans[cache_key] = (extra, plan)
    return plan


def _compile(steps: tuple[_Step, ...]) -> Mapper:
    """The steps as one generated function `(record, ctx) -> {name: value}`, in the steps' order.

    Running the steps in a loop cost about as much per unified record as the conversions themselves (a
    read emits about three unified records per Holded record). The generated code holds no text of the
    declarations (names, paths and readers are bound as variables), so a user's field mapping cannot
    inject any. A value that does not fit raises out of it; `to_unified` then runs the steps one by one
    to name the field and leave it null.
    """
    env: dict[str, Any] = {"_dig": _dig}
    body = ["def fast(record, ctx):", "    get = record.get"]
    entries = []
    for i, step in enumerate(steps):
        if step.key is not None:
            env[f"K{i}"] = step.key
            value = f"get(K{i})"
        elif step.parts:
            env[f"P{i}"] = step.parts
            value = f"_dig(record, P{i})"
        else:
            value = "None"
        if step.read is not _same:
            env[f"R{i}"] = step.read
            value = f"R{i}({value}, ctx)"
        targets = []
        for j, name in enumerate(step.names):
            env[f"N{i}_{j}"] = name
            targets.append(f"v{i}_{j}")
            entries.append(f"N{i}_{j}: v{i}_{j}")
        # Several names take a tuple of as many values (a wrong length raises, as `zip(strict=True)` does).
        body.append(f"    {', '.join(targets)} = {value}")
    body.append(f"    return {{{', '.join(entries)}}}")
    exec(compile("\n".join(body), "<holded_core.mappings plan>", "exec"), env)  # no user text in the source: see above
    return env["fast"]


def to_unified(
    mapping: ModelMapping,
    listed: Mapping[str, Any],
    *,
    default_currency: str = "EUR",
    is_person_lookup: Callable[[str], bool | None] | None = None,
    extra_fields: tuple[Field, ...] = (),
    include_raw: bool = False,
    problems: list[str] | None = None,
    timezone: str | ZoneInfo = DEFAULT_TIMEZONE,
    received: Mapping[str, Any] | None = None,
    received_children: str | None = None,
) -> Iterator[dict[str, Any]]:
    """The unified records one listed Holded record yields (0, 1, or one per embedded child).

    A value that does not fit its field leaves the field null and appends the reason to `problems`.
    `timezone` is the account's zone, in which Holded's calendar days are read.

    `raw` (with `include_raw`) is the Holded record as received: `received` when the mappings read a
    translation of it (API v2's record, `listed` being its v1 shape), else `listed`; an embedded child's
    is the element at the same index of `received`'s list `received_children` (v2's `lines` for v1's
    `products`; default: the mapping's own `children` name).
    """
    if not mapping.select(listed):
        return
    lookup = is_person_lookup or _unknown
    zone = account_zone(timezone)
    if mapping.children:
        items = get_path(listed, mapping.children) or []
        sources = [(child, listed, i) for i, child in enumerate(items) if isinstance(child, dict)]
    else:
        sources = [(listed, None, 0)]
    plan = _plan(mapping, extra_fields)
    consumed = {fld.custom_field for fld in extra_fields if fld.custom_field}
    custom_path = mapping.custom_fields
    for record, parent, index in sources:
        ctx = ReadContext(record, parent, index, default_currency, lookup, zone)
        try:
            out = plan.fast(record, ctx)
        except (BadValue, TypeError, ValueError):
            out = _mapped_one_by_one(plan.steps, record, ctx, problems)
        if custom_path:
            custom = custom_fields_of(record.get(custom_path))
            out["customFields"] = {k: v for k, v in custom.items() if k not in consumed} if consumed else custom
        else:
            out["customFields"] = {}
        if include_raw:
            out["raw"] = _raw(record, parent, index, received, received_children or mapping.children)
        yield out


def _mapped_one_by_one(
    steps: tuple[_Step, ...], record: Mapping[str, Any], ctx: ReadContext, problems: list[str] | None
) -> dict[str, Any]:
    """A record whose compiled mapping raised: each field on its own, a value that does not fit left null
    (None for each of its names) and its reason appended to `problems`."""
    out: dict[str, Any] = {}
    for step in steps:
        value = record.get(step.key) if step.key is not None else (_dig(record, step.parts) if step.parts else None)
        try:
            converted = step.read(value, ctx)
            if len(step.names) > 1:
                converted = tuple(converted)
                if len(converted) != len(step.names):
                    raise ValueError(f"{len(converted)} values for {len(step.names)} fields")
        except (BadValue, TypeError, ValueError) as exc:
            if problems is not None:
                problems.append(f"{step.label}: {exc}")
            converted = None if len(step.names) == 1 else (None,) * len(step.names)
        if len(step.names) == 1:
            out[step.names[0]] = converted
        else:
            out.update(zip(step.names, converted, strict=True))
    return out


def _raw(
    record: Mapping[str, Any], parent: Mapping[str, Any] | None, index: int, received: Any, children: str | None
) -> dict[str, Any]:
    """A unified record's `raw`: the Holded record as received (see `to_unified`)."""
    if not isinstance(received, Mapping):
        return dict(record)
    if parent is None:
        return dict(received)
    items = received.get(children) if children else None
    if isinstance(items, list) and index < len(items) and isinstance(items[index], Mapping):
        return dict(items[index])
    return dict(record)


def to_holded(
    mapping: ModelMapping,
    record: Mapping[str, Any],
    extra_fields: tuple[Field, ...] = (),
    *,
    timezone: str | ZoneInfo = DEFAULT_TIMEZONE,
) -> dict[str, Any]:
    """The Holded body for the unified fields present in `record` (the write half of each declaration).

    Only fields present and non-null are sent: Holded's updates are partial, so an absent field keeps
    its value. Custom fields come back as {name: value}; the caller picks Holded's wire form for them.
    Calendar days are sent as 00:00 of the day in `timezone`, the account's zone.
    """
    zone = account_zone(timezone)
    body: dict[str, Any] = {}
    for fld in _with_overrides(mapping.fields, extra_fields):
        if fld.write is None or fld.sent_as is None or not all(name in record for name in fld.names):
            continue
        values = [record[name] for name in fld.names]
        if all(v is None for v in values):
            continue
        value = fld.write(*values, zone) if fld.zoned else fld.write(*values)
        if value is None:
            continue
        node = body
        *parents, leaf = fld.sent_as.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    if mapping.custom_fields:
        custom = dict(record.get("customFields") or {})
        for fld in extra_fields:
            if fld.custom_field and record.get(fld.name) is not None:
                custom[fld.custom_field] = record[fld.name]
        if custom:
            body["customFields"] = custom
    return body


def _unknown(_contact_id: str) -> bool | None:
    return None


def _with_overrides(fields: tuple[Field, ...], extra: tuple[Field, ...]) -> tuple[Field, ...]:
    """Built-in fields, with any the user re-mapped replaced, then the user's new fields."""
    if not extra:
        return fields
    overridden = {fld.name for fld in extra}
    kept = []
    for fld in fields:
        if overridden.isdisjoint(fld.names) or len(fld.names) > 1:
            kept.append(fld)
    return (*kept, *extra)


# --------------------------------------------------------------------------- the ten models

# Contact create takes `CustomId` (capital C); reads return `customId` (README "Records").
CUSTOM_ID = Field(("customId",), "customId", text, write_path="CustomId")
CREATED_UPDATED = (f("createdAt", "createdAt", ts, None), f("updatedAt", "updatedAt", ts, None))
NO_TIMES = (f("createdAt", None, const(None), None), f("updatedAt", None, const(None), None))

PERSON_FIELDS = (
    f("id", "id", text, None),
    *CREATED_UPDATED,
    Field(("firstName", "lastName"), "name", split_name, join_name),
    f("email", "email", text),
    f("phoneNumber", "phone", text),
    f("mobile", "mobile", text),
    f("company", None, const(None), None),
    f("jobTitle", None, const(None), None),
    f("taxId", "code", text),
    CUSTOM_ID,
    f("role", "type", text),
    f("tags", "tags", strings),
    f("address", "billAddress", address, address_to_holded),
)

CONTACT_PERSON_FIELDS = (
    f("id", None, child_id("id", "personId"), None),
    *NO_TIMES,
    Field(("firstName", "lastName"), "name", split_name, join_name),
    f("email", "email", text),
    f("phoneNumber", "phone", text),
    f("mobile", None, const(None), None),
    f("company", None, parent_ref("id"), None),
    f("jobTitle", "job", text),
    f("taxId", None, const(None), None),
    f("customId", None, const(None), None),
    f("role", None, const("contactPerson"), None),
    f("tags", None, const([]), None),
    f("address", None, const(None), None),
)

CONTACT_STREAMS = ("genericCompany", "genericContact")


# Persons and companies are both Holded contacts, written alike but for their kind (`replace`d below).
CONTACT_WRITES = WriteRules(
    noun="contact",
    key_fields=("customId",),
    custom_id="customId",
    single_key_custom_fields=("create", "update"),
    shape=(website_at_create,),
)


GENERIC_CONTACT = ModelMapping(
    "genericContact",
    models.GenericContact,
    "contacts",
    PERSON_FIELDS,
    select=is_person,
    cursor="updatedAt",
    description="People: Holded contacts with isperson=1",
    write=replace(
        CONTACT_WRITES,
        required=("firstName",),
        create_values={"isperson": True},
        matches=contact_kind(person=True),
        refuse=person_with_company,
    ),
)

# Contact persons embedded in companies; part of the genericContact stream when enabled.
CONTACT_PERSONS = ModelMapping(
    "genericContact",
    models.GenericContact,
    "contacts",
    CONTACT_PERSON_FIELDS,
    select=lambda r: not is_person(r),
    children="contactPersons",
    custom_fields=None,
    description="Contact persons of companies (`contactPersons[]`), id `<companyId>:<personId>`",
    # Written by rewriting the company's list where the dialect takes it: API v2's contact PUT takes
    # `contact_persons[]{person_id, name, job, phone, email}` (shared/holded-api/v2/README.md, "Shapes";
    # the contacts spec: "contact_persons[{person_id}] links existing persons"); API v1's contact writes
    # take none (openapi-v1/invoice.json), so its dialect declares them unwritable and they are refused.
    write=WriteRules(
        noun="contact person",
        required=("firstName",),
        natural_key=person_key,
        claims=is_contact_person,
        embedded=Embedded("genericCompany", "company", own_id="personId"),
    ),
)

GENERIC_COMPANY = ModelMapping(
    "genericCompany",
    models.GenericCompany,
    "contacts",
    (
        f("id", "id", text, None),
        *CREATED_UPDATED,
        f("name", "name", text),
        f("tradeName", "tradeName", text),
        f("email", "email", text),
        f("phoneNumber", "phone", text),
        f("mobile", "mobile", text),
        f("website", "socialNetworks.website", text, None),  # Holded ignores socialNetworks on update
        f("taxId", "code", text),
        CUSTOM_ID,
        f("role", "type", text),
        f("tags", "tags", strings),
        f("address", "billAddress", address, address_to_holded),
    ),
    select=lambda r: not is_person(r),
    cursor="updatedAt",
    description="Companies: Holded contacts with isperson=0",
    write=replace(
        CONTACT_WRITES, required=("name",), create_values={"isperson": False}, matches=contact_kind(person=False)
    ),
)

GENERIC_USER = ModelMapping(
    "genericUser",
    models.GenericUser,
    "employees",
    (
        f("id", "id", text, None),
        *NO_TIMES,
        f("firstName", "name", text),
        f("lastName", "lastName", text),
        f("email", "email", text),
        f("phoneNumber", "mobile", text),
        f("userId", "holdedUserId", text, None),
    ),
    custom_fields=None,
    description="Team employees",
    write=WriteRules(
        required=("firstName", "lastName", "email"),
        natural_key=by_field("email"),
        create_only=("name", "lastName", "email"),
    ),
)

GENERIC_WORKSPACE = ModelMapping(
    "genericWorkspace",
    models.GenericWorkspace,
    "projects",
    (
        f("id", "id", text, None),
        *NO_TIMES,
        f("name", "name", text),
        f("description", "desc", text),
        f("status", "status", project_status, None),
        f("company", "contactId", ref, None),
        day_field("startDate", "date"),
        day_field("dueDate", "dueDate"),
        f("tags", "tags", strings),
    ),
    custom_fields=None,
    description="Projects",
    write=WriteRules(required=("name",), natural_key=by_field("name"), create_only=("name",)),
)

CRM_PIPELINE = ModelMapping(
    "crmPipeline",
    models.CrmPipeline,
    "funnels",
    (
        f("id", "id", text, None),
        *NO_TIMES,
        f("name", "name", text),
        f("stages", "stages", stage_ids, None),
    ),
    description="CRM funnels",
    write=WriteRules(required=("name",), natural_key=by_field("name"), create_only=("name",)),
)

CRM_STAGE = ModelMapping(
    "crmStage",
    models.CrmStage,
    "funnels",
    (
        f("id", None, child_id("id", "stageId"), None),
        *NO_TIMES,
        f("pipeline", None, parent_ref("id"), None),
        f("name", "name", text),
        f("type", None, const("open"), None),  # Holded stages carry no won/lost flag
        f("key", "key", text),
        f("description", "desc", text),
        f("position", None, position, None),
    ),
    children="stages",
    custom_fields=None,
    description="Funnel stages (`stages[]`), id `<funnelId>:<stageId>`",
    write=WriteRules(
        noun="stage",
        required=("name",),
        natural_key=by_field("name"),
        embedded=Embedded("crmPipeline", "pipeline", own_id="stageId"),
    ),
)

CRM_OPPORTUNITY = ModelMapping(
    "crmOpportunity",
    models.CrmOpportunity,
    "leads",
    (
        f("id", "id", text, None),
        *CREATED_UPDATED,
        f("name", "name", text),
        f("amount", "value", number),
        f("currency", None, opportunity_currency, None),
        f("pipeline", "funnelId", ref),
        Field(("stage",), "stageId", stage_ref, stage_from_ref),  # a crmStage id; moved by a sub-route (dialects)
        f("contact", "contactId", ref),
        f("company", None, const(None), None),
        f("owner", "userId", ref, None),
        f("status", "status", lead_status, lead_status_to_holded),
        f("probability", "potential", number),
        day_field("closeDate", "dueDate"),
    ),
    cursor="updatedAt",
    description="CRM leads",
    write=WriteRules(
        required=("name", "pipeline", "contact"),
        references={"pipeline": ("crmPipeline",), "contact": CONTACT_STREAMS, "stage": ("crmStage",)},
        create_only=("funnelId", "contactId", "name", "value", "potential", "dueDate", "stageId", "customFields"),
        update_drops=("funnelId", "contactId"),
    ),
)

CRM_ENGAGEMENT = ModelMapping(
    "crmEngagement",
    models.CrmEngagement,
    "crm_events",
    (
        f("id", "id", text, None),
        *NO_TIMES,
        f("type", "kind", text),
        f("direction", None, const(None), None),  # unknown in Holded
        f("status", "status", event_status, None),
        f("title", "name", text),
        f("description", "desc", text),
        f("startTime", "startDate", ts, from_ts),
        f("endTime", "endDate", ts, None),
        f("contact", "contactId", ref),
        f("company", None, const(None), None),
        f("opportunity", "leadId", ref),
        f("owner", "userId", ref),
    ),
    custom_fields=None,
    description="CRM events",
    write=WriteRules(
        required=("title",),
        natural_key=event_key,
        references={"contact": CONTACT_STREAMS, "opportunity": ("crmOpportunity",)},
        shape=(event_duration,),
    ),
)

INVOICES = "invoices"

ACCOUNTING_INVOICE = ModelMapping(
    "accountingInvoice",
    models.AccountingInvoice,
    INVOICES,
    (
        f("id", "id", text, None),
        *NO_TIMES,
        Field(("number",), "docNumber", text, write_path="invoiceNum"),  # the create's name (set once)
        f("customer", "contact", contact_as("person"), None),
        f("company", "contact", contact_as("company"), None),
        day_field("issueDate", "date"),
        day_field("dueDate", "dueDate"),
        f("status", "status", invoice_status, None),  # from the payment fields; Holded ignores it on write
        f("currency", "currency", upper_currency, lower),
        f("subtotal", "subtotal", number, None),
        f("taxAmount", "tax", number, None),
        f("total", "total", number, None),
        f("paidAmount", "paymentsTotal", number, None),
        f("pendingAmount", "paymentsPending", number, None),
        f("draft", "draft", lambda v, _c: None if v is None else bool(integer(v)), None),
        f("description", "desc", text),
        f("notes", "notes", text),
        f("lines", "products", line_ids, None),
    ),
    description="Invoices (documents of type invoice)",
    write=WriteRules(
        noun="invoice",
        required=("issueDate",),
        references={"customer": ("genericContact",), "company": ("genericCompany",)},
        computed=("status", "draft", "subtotal", "taxAmount", "total", "paidAmount", "pendingAmount"),
        set_once=("number",),
        single_key_custom_fields=("create",),
        approval=Approval("draft", "approveDoc", "accountingInvoiceItem", "lines"),
        locked=approved,
        shape=(invoice_contact,),
        create_notes=(paid_status,),
    ),
)

ACCOUNTING_INVOICE_ITEM = ModelMapping(
    "accountingInvoiceItem",
    models.AccountingInvoiceItem,
    INVOICES,
    (
        f("id", None, child_id("id", None), None),
        *NO_TIMES,
        f("invoice", None, parent_ref("id"), None),
        f("position", None, position, None),
        f("description", "name", text),
        f("quantity", "units", number),
        Field(("unitPrice",), "price", number, write_path="subtotal"),  # `items[]` call the unit price `subtotal`
        f("discount", "discount", number),
        f("amount", None, line_amount, None),
        f("taxRate", "tax", number),
        f("taxAmount", None, line_tax, None),
        f("product", "productId", ref, None),  # not written: products are no written model to resolve it in
        f("sku", "sku", text),
    ),
    children="products",
    custom_fields=None,
    description="Invoice lines (`products[]`, no stable line id in Holded), id `<invoiceId>:<position>`",
    write=WriteRules(
        noun="line",
        embedded=Embedded("accountingInvoice", "invoice", write_as="items", listed=line_as_item),
    ),
)

MAPPINGS: dict[str, tuple[ModelMapping, ...]] = {
    "genericContact": (GENERIC_CONTACT, CONTACT_PERSONS),
    "genericCompany": (GENERIC_COMPANY,),
    "genericUser": (GENERIC_USER,),
    "genericWorkspace": (GENERIC_WORKSPACE,),
    "crmPipeline": (CRM_PIPELINE,),
    "crmStage": (CRM_STAGE,),
    "crmOpportunity": (CRM_OPPORTUNITY,),
    "crmEngagement": (CRM_ENGAGEMENT,),
    "accountingInvoice": (ACCOUNTING_INVOICE,),
    "accountingInvoiceItem": (ACCOUNTING_INVOICE_ITEM,),
}
