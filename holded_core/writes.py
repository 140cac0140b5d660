"""Reverse ETL: unified records written to Holded through the same mappings the source reads with.

`Writer.apply(stream, record, op)` creates, updates, upserts or deletes one record and says what it
did. It never creates twice: every create is preceded by a match (the record's own Holded id, the
contact's `customId`, an external-id custom field, or a natural key, from an index of the target
listing built once per sync), and a create whose answer was lost is looked up again before any retry.
An update sends only the fields that differ from Holded's current values, so writing the same input
twice changes nothing the second time. Anything Holded would refuse or silently ignore is rejected
with its reason before sending.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from holded_core.client import HoldedClient
from holded_core.dates import DEFAULT_TIMEZONE, account_zone, parse_day
from holded_core.errors import HoldedAmbiguousWriteError, HoldedError, HoldedNotFoundError
from holded_core.fieldmap import FieldMapping, extra_fields
from holded_core.mappings import (
    EXTERNAL_ID,
    MAPPINGS,
    ModelMapping,
    from_ts,
    is_person,
    stage_from_ref,
    to_holded,
    to_unified,
)
from holded_core.models import MODELS
from holded_core.secrets import get_logger

logger = get_logger(__name__)

OPS = ("create", "update", "upsert", "delete")


class Rejected(Exception):
    """The record cannot be written as it is; the message says why and what to change."""


@dataclass
class WriteResult:
    stream: str
    key: str
    op: str
    status: str  # created | updated | unchanged | deleted | rejected | planned
    holded_id: str | None = None
    reason: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)  # field -> [Holded's value, the new value]


@dataclass(frozen=True)
class Target:
    stream: str
    path: str  # Holded list / create path
    required: tuple[str, ...] = ()  # unified fields a create needs
    natural_key: Callable[[Mapping[str, Any]], str | None] | None = None  # on the unified form: match by value
    custom_fields: bool = False  # Holded keeps custom fields on this object (external id possible)
    create_only: tuple[str, ...] = ()  # Holded fields its create takes; the rest follow in an update
    computed: tuple[str, ...] = ()  # unified fields Holded derives itself: never written, a difference is noted

    @property
    def mapping(self) -> ModelMapping:
        return MAPPINGS[self.stream][0]


def _lower(value: Any) -> str | None:
    return str(value).strip().lower() if value else None


TARGETS: dict[str, Target] = {
    t.stream: t
    for t in (
        Target("genericContact", "/invoicing/v1/contacts", ("firstName",), custom_fields=True),
        Target("genericCompany", "/invoicing/v1/contacts", ("name",), custom_fields=True),
        Target("genericUser", "/team/v1/employees", ("firstName", "lastName", "email"),
               natural_key=lambda u: _lower(u.get("email")), create_only=("name", "lastName", "email")),
        Target("genericWorkspace", "/projects/v1/projects", ("name",), natural_key=lambda u: _lower(u.get("name")),
               create_only=("name",)),
        Target("crmPipeline", "/crm/v1/funnels", ("name",), natural_key=lambda u: _lower(u.get("name")),
               custom_fields=True, create_only=("name",)),
        Target("crmOpportunity", "/crm/v1/leads", ("name", "pipeline", "contact"), custom_fields=True,
               create_only=("funnelId", "contactId", "name", "value", "potential", "dueDate", "stageId",
                            "customFields")),
        Target("crmEngagement", "/crm/v1/events", ("title",),
               natural_key=lambda u: f"{u.get('title')}|{u.get('startTime')}" if u.get("title") else None),
        Target("accountingInvoice", "/invoicing/v1/documents/invoice", ("issueDate",), custom_fields=True,
               computed=("status", "draft", "subtotal", "taxAmount", "total", "paidAmount", "pendingAmount")),
    )
}  # fmt: skip
CHILDREN = {"crmStage": "crmPipeline", "accountingInvoiceItem": "accountingInvoice"}
CONTACTS = ("genericCompany", "genericContact")
# Reference fields, resolved to the target account's ids before anything is compared or sent.
REFERENCES: dict[str, dict[str, tuple[str, ...]]] = {
    "crmOpportunity": {"pipeline": ("crmPipeline",), "contact": CONTACTS, "stage": ("crmStage",)},
    "crmEngagement": {"contact": CONTACTS, "opportunity": ("crmOpportunity",)},
    "accountingInvoice": {"customer": ("genericContact",), "company": ("genericCompany",)},
}


def field_names(stream: str, field_mappings: tuple[FieldMapping, ...] = ()) -> dict[str, str]:
    """Lower-cased -> canonical unified field names, mapped fields included (PyAirbyte lower-cases columns)."""
    model = MODELS.get(stream)
    names = [*(model.model_fields if model else ()), *(m.field for m in field_mappings if m.stream == stream)]
    return {name.lower(): name for name in names}


class Index:
    """One target listing, read once per sync: Holded records by id, external id and natural key."""

    def __init__(
        self, client: HoldedClient, target: Target, matching_key: str | None = None, timezone: str = DEFAULT_TIMEZONE
    ) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        self.stale: set[str] = set()  # ids written in this sync, re-read on next use
        self.matching_key = matching_key
        self.timezone = timezone  # the account's zone: a day matching key compares as a day there
        for record in client.iter_records(target.path):
            self.add(record, target)

    def add(self, record: Mapping[str, Any], target: Target) -> None:
        rid = str(record.get("id"))
        self.by_id[rid] = dict(record)
        self.stale.discard(rid)
        for key in self._keys(record, target):
            self.by_key.setdefault(key, rid)

    def _keys(self, record: Mapping[str, Any], target: Target) -> list[str]:
        keys = []
        if record.get("customId"):
            keys.append(f"custom:{record['customId']}")
        for item in record.get("customFields") or []:
            if isinstance(item, dict) and item.get("field") == EXTERNAL_ID and item.get("value"):
                keys.append(f"ext:{item['value']}")
        if target.natural_key is not None or self.matching_key:
            unified = next(iter(to_unified(target.mapping, record, timezone=self.timezone)), None) or {}
            natural = target.natural_key(unified) if target.natural_key is not None else None
            if natural:
                keys.append(f"nat:{natural}")
            if self.matching_key and unified.get(self.matching_key) not in (None, ""):
                keys.append(f"match:{unified[self.matching_key]}")
        return keys


class Writer:
    def __init__(
        self,
        client: HoldedClient,
        field_mappings: tuple[FieldMapping, ...] = (),
        *,
        dry_run: bool = False,
        default_currency: str = "EUR",
        matching_keys: Mapping[str, str] | None = None,
        timezone: str = DEFAULT_TIMEZONE,
    ) -> None:
        """A writer for one account.

        Args:
            client: the account's Holded client.
            field_mappings: the user's field mappings, applied in reverse.
            dry_run: plan only; nothing is sent.
            default_currency: the currency Holded's leads are read with when compared.
            matching_keys: per stream, the unified field an upsert matches Holded records on.
            timezone: the account's IANA zone. Calendar days (`issueDate`, `closeDate`, ...) are sent
                as 00:00 of the day there, whatever the machine's zone, and compared as days, so a day
                equal to the one Holded stores is unchanged (shared/holded-api/README.md: Calendar
                dates are midnight in Madrid).

        Raises:
            HoldedConfigError: `timezone` is not a known zone.
        """
        self.client = client
        self.zone = account_zone(timezone)
        self.matching_keys = dict(matching_keys or {})  # stream -> unified field an upsert matches on
        self.dry_run = dry_run
        self.default_currency = default_currency
        self._extras = {stream: extra_fields(stream, field_mappings) for stream in MAPPINGS}
        self._indexes: dict[str, Index] = {}
        self._lock = threading.RLock()
        self.resolved: dict[str, str] = {}  # source key -> Holded id, for records written in this sync

    # ------------------------------------------------------------------------------ public

    def apply(self, stream: str, record: Mapping[str, Any], op: str) -> WriteResult:
        key = str(record.get("id") or "")
        try:
            if op not in OPS:
                raise Rejected(f"unknown operation {op!r}: use one of {', '.join(OPS)}")
            if stream in CHILDREN:
                if op != "delete":
                    _check_types(stream, record)
                return self._child(stream, record, op, key)
            if stream not in TARGETS:
                raise Rejected(f"{stream!r} is not a unified stream this destination writes")
            if stream == "genericContact" and ":" in key:
                raise Rejected("a company's contact persons cannot be written through Holded's API v1")
            if op != "delete":
                _check_types(stream, record)
                record = _as_days(TARGETS[stream].mapping, record, self.zone)
                record = self._resolve_refs(stream, record)
            return self._apply(TARGETS[stream], record, op, key)
        except Rejected as exc:
            return WriteResult(stream, key, op, "rejected", reason=str(exc))
        except HoldedError as exc:
            return WriteResult(stream, key, op, "rejected", reason=exc.holded_message or str(exc))

    # --------------------------------------------------------------------------- matching

    def index(self, target: Target) -> Index:
        with self._lock:
            if target.path not in self._indexes:
                self._indexes[target.path] = Index(
                    self.client, target, self.matching_keys.get(target.stream), self.zone.key
                )
            return self._indexes[target.path]

    def find(self, target: Target, record: Mapping[str, Any], key: str) -> dict[str, Any] | None:
        index = self.index(target)
        candidates = [self.resolved.get(f"{target.stream}:{key}"), key]
        if target.stream in ("genericContact", "genericCompany"):
            candidates.append(index.by_key.get(f"custom:{record.get('customId') or key}"))
        candidates.append(index.by_key.get(f"ext:{key}"))
        if target.natural_key is not None:
            natural = target.natural_key(record)
            candidates.append(index.by_key.get(f"nat:{natural}") if natural else None)
        matching = self.matching_keys.get(target.stream)
        if matching and record.get(matching) not in (None, ""):
            candidates.append(index.by_key.get(f"match:{record[matching]}"))
        for rid in candidates:
            if rid and rid in index.by_id:
                if rid in index.stale:  # written in this sync: read back only if it is needed again
                    index.add(self.client.get(f"{target.path}/{rid}"), target)
                return index.by_id[rid]
        return None

    def _written(self, target: Target, rid: str) -> None:
        """After a write: Holded's copy changed; re-read it lazily, not once per write."""
        index = self.index(target)
        index.by_id.setdefault(rid, {"id": rid})
        index.stale.add(rid)

    def _resolve_refs(self, stream: str, record: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(record)
        for name, streams in REFERENCES.get(stream, {}).items():
            if out.get(name):
                resolve = self.resolve_stage if streams == ("crmStage",) else self.resolve
                out[name] = resolve(streams, out[name], name)
        return out

    def resolve_stage(self, _streams: tuple[str, ...], key: str, what: str) -> str:
        """A stage reference `<funnelId>:<stageId>` in the target account."""
        mapped = self.resolved.get(f"crmStage:{key}")
        if mapped:
            return mapped
        funnel_key, _, stage_id = key.partition(":")
        funnel = self.resolve(("crmPipeline",), funnel_key, f"{what}'s pipeline")
        stages = self.index(TARGETS["crmPipeline"]).by_id[funnel].get("stages") or []
        if any(s.get("stageId") == stage_id for s in stages):
            return f"{funnel}:{stage_id}"
        raise Rejected(f"{what} {key!r} does not exist in Holded (write the crmStage first)")

    def resolve(self, streams: tuple[str, ...], key: str | None, what: str) -> str:
        """A reference (pipeline, contact, invoice...) as the target account's Holded id."""
        if not key:
            raise Rejected(f"{what} is required")
        for stream in streams:
            found = self.find(TARGETS[stream], {"id": key}, key)
            if found is not None:
                return str(found["id"])
        raise Rejected(f"{what} {key!r} does not exist in Holded (write it first, or check the id)")

    # ----------------------------------------------------------------------------- writes

    def _apply(self, target: Target, record: Mapping[str, Any], op: str, key: str) -> WriteResult:
        current = self.find(target, record, key)
        if current is not None:
            _same_kind(target, current)  # a reference may point at either kind; the record itself may not
        stream = target.stream
        if op == "delete":
            if current is None:
                return WriteResult(stream, key, op, "unchanged", reason="not in Holded (already deleted)")
            self._guard(target, current, "delete")
            if self.dry_run:
                return WriteResult(stream, key, op, "planned", holded_id=current["id"])
            with contextlib.suppress(HoldedNotFoundError):
                self.client.request("DELETE", f"{target.path}/{current['id']}")
            self.index(target).by_id.pop(str(current["id"]), None)
            return WriteResult(stream, key, op, "deleted", holded_id=current["id"])
        if current is None:
            if op == "update":
                raise Rejected("not found in Holded: an update needs an existing record (use upsert to create)")
            return self._create(target, record, key)
        return self._update(target, record, key, current, op)

    def _create(self, target: Target, record: Mapping[str, Any], key: str) -> WriteResult:
        missing = [name for name in target.required if record.get(name) in (None, "")]
        if missing:
            raise Rejected(f"missing required field(s) for a create: {', '.join(missing)}")
        body = self._body(target, record, creating=True)
        first = {k: v for k, v in body.items() if k in target.create_only} if target.create_only else body
        rest = {k: v for k, v in body.items() if k not in first}
        if self.dry_run:
            return WriteResult(target.stream, key, "create", "planned", changes={k: [None, v] for k, v in body.items()})
        try:
            answer = self.client.request("POST", target.path, json=first)
            rid = str(answer["id"])
        except HoldedAmbiguousWriteError:
            # The answer was lost: Holded may have created it. Look before creating again.
            found = self._look_again(target, record, key, first)
            if found is None:
                answer = self.client.request("POST", target.path, json=first)
                rid = str(answer["id"])
            else:
                rid = str(found["id"])
                logger.info("%s %s: the lost create had been applied (Holded id %s)", target.stream, key, rid)
        if rest:
            self.client.request("PUT", f"{target.path}/{rid}", json=rest)
        self.resolved[f"{target.stream}:{key}"] = rid
        self._written(target, rid)
        return WriteResult(target.stream, key, "create", "created", holded_id=rid, reason=self._not_written(record))

    def _look_again(
        self, target: Target, record: Mapping[str, Any], key: str, body: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """After a lost answer: contacts through Holded's customId filter, the rest by a fresh index."""
        if "CustomId" in body:
            matches = self.client.get(target.path, {"customId": body["CustomId"]})
            if matches:
                self.index(target).add(matches[0], target)
                return matches[0]
            return None
        with self._lock:
            self._indexes.pop(target.path, None)
        return self.find(target, record, key)

    @staticmethod
    def _not_written(record: Mapping[str, Any]) -> str | None:
        """What a create cannot reproduce, said rather than dropped silently."""
        notes = []
        if record.get("status") in ("paid", "partially_paid"):
            notes.append(f"status {record['status']!r} is not written: Holded derives it from payments")
        if record.get("draft") is False:
            notes.append("created as a draft: Holded's API cannot approve an existing invoice")
        return "; ".join(notes) or None

    def _update(
        self, target: Target, record: Mapping[str, Any], key: str, current: dict[str, Any], op: str
    ) -> WriteResult:
        self.resolved[f"{target.stream}:{key}"] = str(current["id"])
        changes, read_only = self._diff(target, record, current)
        # Fields Holded computes itself (an invoice's status and amounts, ...) are never written; a
        # difference in them is said in the result's note rather than dropped without a word.
        note = f"not written, Holded computes them: {', '.join(sorted(read_only))}" if read_only else None
        if not changes:
            return WriteResult(target.stream, key, op, "unchanged", holded_id=current["id"], reason=note)
        self._guard(target, current, "update")
        changed_record = {name: record[name] for name in changes} | {"id": key}
        body = self._body(target, changed_record, creating=False)
        if self.dry_run:
            return WriteResult(target.stream, key, op, "planned", current["id"], note, changes)
        stage = body.pop("stageId", None)
        if body:
            self.client.request("PUT", f"{target.path}/{current['id']}", json=body)
        if stage is not None:
            self.client.request("PUT", f"{target.path}/{current['id']}/stages", json={"stageId": stage})
        self._written(target, str(current["id"]))
        return WriteResult(target.stream, key, op, "updated", current["id"], note, changes)

    def _diff(
        self, target: Target, record: Mapping[str, Any], current: Mapping[str, Any]
    ) -> tuple[dict[str, Any], set[str]]:
        """Writable unified fields of `record` whose value differs from Holded's (read through the mapping),
        and the read-only fields that differ (Holded computes them; they are not written)."""
        extras = self._extras[target.stream]
        now = next(iter(to_unified(target.mapping, current, default_currency=self.default_currency,
                                   is_person_lookup=self._is_person, extra_fields=extras,
                                   timezone=self.zone)), {})  # fmt: skip
        fields = (*target.mapping.fields, *extras)
        writable = {n for fld in fields if fld.write is not None for n in fld.names}
        writable |= {"customFields"} if target.mapping.custom_fields else set()
        read_only = set(target.computed)
        changes = {}
        for name in writable & set(record):
            new, old = record[name], now.get(name)
            if name == "customFields":
                new = {k: v for k, v in (new or {}).items() if (old or {}).get(k) != v}
                if new:
                    changes[name] = [old, {**(old or {}), **new}]
                continue
            if new is not None and new != old:
                changes[name] = [old, new]
        ignored = {n for n in read_only & set(record) if record[n] is not None and record[n] != now.get(n)}
        return changes, ignored

    def _guard(self, target: Target, current: Mapping[str, Any], action: str) -> None:
        if target.stream == "accountingInvoice" and current.get("draft") in (0, False):
            raise Rejected(f"the invoice is approved: Holded does not allow it to be {action}d")

    def _is_person(self, contact_id: str) -> bool | None:
        record = self.index(TARGETS["genericContact"]).by_id.get(contact_id)
        return None if record is None else is_person(record)

    # ----------------------------------------------------------------------------- bodies

    def _body(self, target: Target, record: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        body = to_holded(target.mapping, record, self._extras[target.stream], timezone=self.zone)
        custom = body.pop("customFields", None) or {}
        stream, key = target.stream, str(record.get("id") or "")
        if stream in ("genericContact", "genericCompany"):
            body.pop("customId", None)
            if creating:
                body["isperson"] = stream == "genericContact"
                body["CustomId"] = record.get("customId") or key  # the matching key
                if record.get("website"):
                    body["socialNetworks"] = {"website": record["website"]}
            elif "customId" in record and record.get("customId"):
                raise Rejected("customId can only be set when the contact is created (it is the matching key)")
        if target.custom_fields and creating:
            custom.setdefault(EXTERNAL_ID, key)
        if custom:
            # Contacts and document creates corrupt the documented [{field, value}] list: one
            # single-key object per field is what Holded stores correctly.
            single_key = stream in ("genericContact", "genericCompany") or (stream == "accountingInvoice" and creating)
            body["customFields"] = (
                [{name: value} for name, value in custom.items()]
                if single_key
                else [{"field": name, "value": value} for name, value in custom.items()]
            )
        if stream == "crmOpportunity":
            self._lead_refs(body, record, creating)
        if stream == "crmEngagement":
            self._event_refs(body, record)
        if stream == "accountingInvoice":
            self._invoice_refs(body, record, creating)
        return body

    # References arrive resolved to this account's ids (`_resolve_refs`); these put them where Holded wants.

    def _lead_refs(self, body: dict[str, Any], record: Mapping[str, Any], creating: bool) -> None:
        body.pop("funnelId", None)
        body.pop("contactId", None)
        if creating:  # a lead's funnel and contact are set once, at create
            body["funnelId"], body["contactId"] = record.get("pipeline"), record.get("contact")
        if record.get("stage"):
            body["stageId"] = stage_from_ref(record["stage"])

    def _event_refs(self, body: dict[str, Any], record: Mapping[str, Any]) -> None:
        if record.get("contact"):
            body["contactId"] = record["contact"]
        if record.get("opportunity"):
            body["leadId"] = record["opportunity"]
        start, end = from_ts(record.get("startTime")), from_ts(record.get("endTime"))
        if start is not None and end is not None:
            body["duration"] = max(0, end - start)  # Holded takes a duration, reads back an end date

    def _invoice_refs(self, body: dict[str, Any], record: Mapping[str, Any], creating: bool) -> None:
        if creating:
            contact = record.get("customer") or record.get("company")
            if not contact:
                raise Rejected("an invoice needs its customer (a person) or company")
            body["contactId"] = contact
            body["items"] = []  # lines are written through accountingInvoiceItem
            if body.get("docNumber"):
                body["invoiceNum"] = body.pop("docNumber")  # the create's name for the number

    # --------------------------------------------------------------------------- children

    def _child(self, stream: str, record: Mapping[str, Any], op: str, key: str) -> WriteResult:
        parent_stream = CHILDREN[stream]
        parent_field = "pipeline" if stream == "crmStage" else "invoice"
        parent_key = record.get(parent_field) or (key.split(":", 1)[0] if ":" in key else None)
        target = TARGETS[parent_stream]
        parent = self.find(target, {"id": parent_key}, str(parent_key)) if parent_key else None
        if parent is None:
            raise Rejected(f"its {parent_field} {parent_key!r} does not exist in Holded (write it first)")
        parent = self.client.get(f"{target.path}/{parent['id']}")  # fresh: siblings may have changed
        if stream == "crmStage":
            return self._stage(record, op, key, parent, target)
        return self._line(record, op, key, parent, target)

    def _stage(self, record: Mapping[str, Any], op: str, key: str, funnel: dict, target: Target) -> WriteResult:
        stages = [dict(s) for s in funnel.get("stages") or []]
        own = key.split(":", 1)[1] if ":" in key else None
        mapped = (self.resolved.get(f"crmStage:{key}") or "").rpartition(":")[2] or None
        match = next((s for s in stages if s.get("stageId") in (own, mapped)), None)
        match = match or next((s for s in stages if record.get("name") and s.get("name") == record["name"]), None)
        wanted = {"name": record.get("name"), "key": record.get("key"), "desc": record.get("description")}
        wanted = {k: v for k, v in wanted.items() if v is not None}
        if op == "delete":
            if match is None:
                return WriteResult("crmStage", key, op, "unchanged", reason="not in Holded (already deleted)")
            stages.remove(match)
            status = "deleted"
        elif match is None:
            if op == "update":
                raise Rejected("not found in Holded: an update needs an existing stage (use upsert to create)")
            if not record.get("name"):
                raise Rejected("missing required field(s) for a create: name")
            stages.append(wanted)
            status = "created"
        else:
            self.resolved[f"crmStage:{key}"] = f"{funnel['id']}:{match['stageId']}"
            if all(match.get(k) == v for k, v in wanted.items()):
                return WriteResult("crmStage", key, op, "unchanged", holded_id=f"{funnel['id']}:{match['stageId']}")
            match.update(wanted)
            status = "updated"
        if self.dry_run:
            return WriteResult("crmStage", key, op, "planned", changes={"stages": [funnel.get("stages"), stages]})
        self.client.request("PUT", f"{target.path}/{funnel['id']}", json={"stages": stages})
        fresh = self.client.get(f"{target.path}/{funnel['id']}")
        self.index(target).add(fresh, target)
        if status == "created":
            created = next((s for s in reversed(fresh["stages"]) if s.get("name") == record["name"]), None)
            if created:
                self.resolved[f"crmStage:{key}"] = f"{funnel['id']}:{created['stageId']}"
                return WriteResult("crmStage", key, op, status, holded_id=self.resolved[f"crmStage:{key}"])
        return WriteResult("crmStage", key, op, status, holded_id=funnel["id"])

    def _line(self, record: Mapping[str, Any], op: str, key: str, invoice: dict, target: Target) -> WriteResult:
        approved = invoice.get("draft") in (0, False)
        lines = [_item_of(line) for line in invoice.get("products") or []]
        position = record.get("position")
        if position is None and ":" in key:
            tail = key.rsplit(":", 1)[1]
            position = int(tail) if tail.isdigit() else None
        wanted = {
            "name": record.get("description"),
            "units": record.get("quantity"),
            "subtotal": record.get("unitPrice"),
            "discount": record.get("discount"),
            "tax": record.get("taxRate"),
            "sku": record.get("sku"),
        }
        wanted = {k: v for k, v in wanted.items() if v is not None}
        exists = position is not None and 0 <= int(position) < len(lines)
        unchanged = exists and all(lines[int(position)].get(k) == v for k, v in wanted.items())
        if approved and not (unchanged and op != "delete"):  # an identical line is fine: nothing to write
            raise Rejected("the invoice is approved: Holded does not allow its lines to be changed")
        if op == "delete":
            if not exists:
                return WriteResult("accountingInvoiceItem", key, op, "unchanged", reason="no such line")
            del lines[int(position)]
            status = "deleted"
        elif exists:
            line = lines[int(position)]
            if unchanged:
                return WriteResult(
                    "accountingInvoiceItem", key, op, "unchanged", holded_id=f"{invoice['id']}:{position}"
                )
            line.update(wanted)
            status = "updated"
        else:
            if op == "update":
                raise Rejected("not found in Holded: no line at that position (use upsert to create)")
            lines.append(wanted)
            position, status = len(lines) - 1, "created"
        if self.dry_run:
            return WriteResult("accountingInvoiceItem", key, op, "planned", changes={"items": [None, lines]})
        self.client.request("PUT", f"{target.path}/{invoice['id']}", json={"items": lines})
        self._written(target, str(invoice["id"]))
        return WriteResult("accountingInvoiceItem", key, op, status, holded_id=f"{invoice['id']}:{position}")


def _same_kind(target: Target, found: Mapping[str, Any]) -> None:
    """Persons and companies share Holded's contacts: a company record must never match (and rewrite) a
    person, nor the other way round, whatever key matched them."""
    if target.stream not in ("genericContact", "genericCompany"):
        return
    want_person = target.stream == "genericContact"
    if is_person(found) != want_person:
        kinds = ("person", "company") if want_person else ("company", "person")
        raise Rejected(
            f"it matches Holded contact {found.get('id')} (customId {found.get('customId')!r}), which is a "
            f"{kinds[1]} in Holded while this record is a {kinds[0]}: give it another id or customId"
        )


def _check_types(stream: str, record: Mapping[str, Any]) -> None:
    """The record against its unified model: a wrong type is refused here, not half-written to Holded."""
    try:
        MODELS[stream].model_validate(record)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors(include_url=False)
        )
        raise Rejected(f"does not fit the {stream} model ({problems})") from None


def _as_days(mapping: ModelMapping, record: Mapping[str, Any], zone: ZoneInfo) -> Mapping[str, Any]:
    """The record with its calendar-day fields as `YYYY-MM-DD` in the account's zone, so that they compare
    with Holded's (read the same way) as days: a date-time given for a day counts as its day there.

    Raises:
        Rejected: a day field holds something that is not a date.
    """
    days = {name: record[name] for fld in mapping.fields if fld.zoned for name in fld.names if record.get(name)}
    if not days:
        return record
    out = dict(record)
    for name, value in days.items():
        try:
            out[name] = parse_day(value, zone).isoformat()
        except ValueError as exc:
            raise Rejected(f"{name}: {exc}") from None
    return out


def _item_of(line: Mapping[str, Any]) -> dict[str, Any]:
    """A line as read (`products[]`) turned back into the write form (`items[]`)."""
    item = {k: line.get(k) for k in ("name", "desc", "units", "tax", "taxes", "discount", "retention", "sku")}
    item["subtotal"] = line.get("price")
    return {k: v for k, v in item.items() if v is not None}
