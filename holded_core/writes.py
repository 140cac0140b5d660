"""Reverse ETL: unified records written to Holded through the same mappings the source reads with.

`Writer.apply(stream, record, op)` creates, updates, upserts or deletes one record and says what it
did. It never creates twice: every create is preceded by a match (the record's own Holded id, the
contact's `customId`, an external-id custom field, or a natural key, from an index of the target
listing built once per sync), and a create whose answer was lost is looked up again before any retry.
An update sends only the fields that differ from Holded's current values, so writing the same input
twice changes nothing the second time. Anything Holded would refuse or silently ignore is rejected
with its reason before sending.

Texts (`holded_core.identity`): every matching key is compared trimmed, NFC and case-folded, so two
texts that differ only in case or Unicode form are one identity; every text sent is NFC; a value that
differs from Holded's only in Unicode form is no change.

Approval (`Approval`, declared per target): Holded's API v1 approves a document only as it creates it
(`approveDoc`), and an approved document cannot be edited, so an invoice asked to be approved
(`draft: false`) is created in one request with the lines that came with it in the same push
(`Writer.apply_group`, fed by `holded_core.push`). One that cannot be approved that way is created as a
draft and reported `not approved` with the reason; it is never silently left a draft.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from holded_core.client import HoldedClient
from holded_core.dates import DEFAULT_TIMEZONE, account_zone, parse_day
from holded_core.dialects.v1 import V1
from holded_core.errors import HoldedAmbiguousWriteError, HoldedError, HoldedNotFoundError
from holded_core.fieldmap import FieldMapping, extra_fields
from holded_core.identity import identity, nfc, same_value
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
    status: str  # created | updated | unchanged | deleted | rejected | planned | not approved
    holded_id: str | None = None
    reason: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)  # field -> [Holded's value, the new value]


@dataclass(frozen=True)
class Approval:
    """A document Holded approves only as it creates it, with its lines (a write rule of its target).

    Holded's API v1 takes `approveDoc: true` on a document create and has no approve route, and its
    update takes no approval flag (shared/holded-api/openapi-v1/invoice.json, "Create Document" and
    "Update Document"); an approved document cannot be edited (shared/holded-api/README.md, "Writes"),
    so its lines must be in the create. Documents created without it are drafts that Holded's UI hides
    from the sales lists (README "what integrators report", iamsamuelfraga/mcp-holded issue 51).
    """

    field: str  # unified boolean field; False asks for approval (a record that is not a draft)
    flag: str  # the create body's approval flag
    lines: str  # the child stream whose records are the document's lines
    lines_body: str  # the create body's list of lines
    declared: str  # unified field listing the record's own line ids, when the record carries it

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
class Target:
    stream: str
    required: tuple[str, ...] = ()  # unified fields a create needs
    natural_key: Callable[[Mapping[str, Any]], str | None] | None = None  # on the unified form: match by value
    custom_fields: bool = False  # Holded keeps custom fields on this object (external id possible)
    create_only: tuple[str, ...] = ()  # Holded fields its create takes; the rest follow in an update
    computed: tuple[str, ...] = ()  # unified fields Holded derives itself: never written, a difference is noted
    # Unified fields written only by the create: Holded's update does not take them, and Holded may keep
    # another value (a numbering series replaces the number of a sales document: shared/holded-api/README.md,
    # "what integrators report"; nubiia-dev/mcp-holded src/tools/documents.ts). Re-read after the create and
    # reported; a later difference is noted, never written again.
    set_once: tuple[str, ...] = ()
    approval: Approval | None = None  # approved only at create, with its lines (see Approval)
    # Unified fields that are the record's identity in Holded (a contact's `customId`, the key it is matched
    # on): compared as identities (`holded_core.identity`), so a difference of case, spaces or Unicode form
    # in them is no change. Other fields (an e-mail, a name) are compared as values: a case change is written.
    key_fields: tuple[str, ...] = ()

    @property
    def mapping(self) -> ModelMapping:
        return MAPPINGS[self.stream][0]

    @property
    def path(self) -> str:
        """The list route of the resource the model is written to (creates `POST` there; updates and
        deletes go to `<path>/{id}`), in Holded API v1: the writer speaks v1 until it speaks v2 too."""
        return V1.resource(self.mapping.resource).path


def _named(field_name: str) -> Callable[[Mapping[str, Any]], str | None]:
    """A natural key: one unified field, compared as an identity (trimmed, NFC, case-folded)."""
    return lambda unified: identity(unified.get(field_name))


def _event_key(unified: Mapping[str, Any]) -> str | None:
    title = identity(unified.get("title"))
    return f"{title}|{unified.get('startTime')}" if title else None


TARGETS: dict[str, Target] = {
    t.stream: t
    for t in (
        Target("genericContact", ("firstName",), custom_fields=True,
               key_fields=("customId",)),
        Target("genericCompany", ("name",), custom_fields=True, key_fields=("customId",)),
        Target("genericUser", ("firstName", "lastName", "email"),
               natural_key=_named("email"), create_only=("name", "lastName", "email")),
        Target("genericWorkspace", ("name",), natural_key=_named("name"),
               create_only=("name",)),
        Target("crmPipeline", ("name",), natural_key=_named("name"),
               custom_fields=True, create_only=("name",)),
        Target("crmOpportunity", ("name", "pipeline", "contact"), custom_fields=True,
               create_only=("funnelId", "contactId", "name", "value", "potential", "dueDate", "stageId",
                            "customFields")),
        Target("crmEngagement", ("title",), natural_key=_event_key),
        Target("accountingInvoice", ("issueDate",), custom_fields=True,
               computed=("status", "draft", "subtotal", "taxAmount", "total", "paidAmount", "pendingAmount"),
               set_once=("number",),
               approval=Approval("draft", "approveDoc", "accountingInvoiceItem", "items", "lines")),
    )
}  # fmt: skip
CHILDREN = {"crmStage": "crmPipeline", "accountingInvoiceItem": "accountingInvoice"}
PARENT_FIELDS = {"crmStage": "pipeline", "accountingInvoiceItem": "invoice"}  # a child's reference to its parent
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


def identity_keys(
    target: Target | None,
    unified: Mapping[str, Any],
    *,
    custom_id: Any = None,
    external_ids: Sequence[Any] = (),
    matching_key: str | None = None,
) -> list[str]:
    """The index keys of one record, every text in its identity form (`holded_core.identity.identity`).

    Args:
        target: the record's target (its natural key; its stream scopes the natural and matching keys,
            since persons and companies share one listing); None for the `customId` and external ids only.
        unified: the record in its unified form.
        custom_id: Holded's `customId` (contacts); external_ids: the `holded-connector-id` values.
        matching_key: the unified field `matching_keys` names for this stream, if any.

    Returns:
        Keys such as `custom:<id>`, `ext:<id>`, `nat:<stream>:<value>`, `match:<stream>:<value>`.
    """
    keys = []
    if (custom := identity(custom_id)) is not None:
        keys.append(f"custom:{custom}")
    keys += [f"ext:{ext}" for ext in map(identity, external_ids) if ext is not None]
    if target is None:
        return keys
    natural = target.natural_key(unified) if target.natural_key is not None else None
    if natural:
        keys.append(f"nat:{target.stream}:{natural}")
    if matching_key and (match := identity(unified.get(matching_key))) is not None:
        keys.append(f"match:{target.stream}:{match}")
    return keys


class Index:
    """One target listing, read once per sync: Holded records by id, and by the identity of their
    `customId`, external id, natural key and matching key (for every stream that shares the listing)."""

    def __init__(
        self, client: HoldedClient, path: str, matching: Mapping[str, str | None], timezone: str = DEFAULT_TIMEZONE
    ) -> None:
        """`matching`: for each target stream on `path`, the unified field `matching_keys` names (or None);
        `timezone`: the account's zone (a day used as a matching key compares as a day there)."""
        self.timezone = timezone
        self.by_id: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        self.stale: set[str] = set()  # ids written in this sync, re-read on next use
        self.targets = [(TARGETS[stream], key) for stream, key in matching.items()]
        for record in client.iter_records(path):
            self.add(record)

    def add(self, record: Mapping[str, Any]) -> None:
        """Holded's copy of a record (listed or read again), indexed under its keys."""
        rid = str(record.get("id"))
        self.by_id[rid] = dict(record)
        self.stale.discard(rid)
        self.register(rid, self._keys(record))

    def register(self, rid: str, keys: Sequence[str]) -> None:
        """Keys of a record written in this sync, before Holded's copy is read again."""
        for key in keys:
            self.by_key.setdefault(key, rid)

    def _keys(self, record: Mapping[str, Any]) -> list[str]:
        external = [
            item["value"]
            for item in record.get("customFields") or []
            if isinstance(item, dict) and item.get("field") == EXTERNAL_ID and item.get("value")
        ]
        keys = identity_keys(None, {}, custom_id=record.get("customId"), external_ids=external)
        for target, matching_key in self.targets:
            if target.natural_key is None and not matching_key:
                continue
            unified = next(iter(to_unified(target.mapping, record, timezone=self.timezone)), None)
            if unified is not None:  # the record is this target's kind (a person, a company...)
                keys += identity_keys(target, unified, matching_key=matching_key)
        return keys


class Writer:
    """Applies unified records to Holded, one at a time (`apply`) or a document with its lines
    (`apply_group`); thread-safe, one per push."""

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
        """Create, update, upsert or delete one record.

        Args:
            stream: a unified stream; record: its unified record (`id` is its key); op: one of `OPS`.

        Returns:
            What was done: created, updated, unchanged, deleted, planned (dry run), not approved (an
            invoice asked to be approved that stays a draft, with the reason) or rejected (with the
            reason, Holded's own message when it gave one). Never raises for a record's fault.
        """
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
                record = _trimmed(record, (*TARGETS[stream].key_fields, "email", self.matching_keys.get(stream)))
                record = self._resolve_refs(stream, record)
            return self._apply(TARGETS[stream], record, op, key)
        except Rejected as exc:
            return WriteResult(stream, key, op, "rejected", reason=str(exc))
        except HoldedError as exc:
            return WriteResult(stream, key, op, "rejected", reason=exc.holded_message or str(exc))

    def apply_group(
        self, stream: str, record: Mapping[str, Any], op: str, lines: Sequence[tuple[str, Mapping[str, Any], str]]
    ) -> list[WriteResult]:
        """A document asking to be approved, with the line records that came with it in the same push.

        When the document is new, it is created in one request with its lines and the target's approval
        flag (`Approval`): Holded's API v1 approves only at create and never edits an approved document.
        When it cannot be approved that way (lines it declares did not come), it is created as a draft with
        the lines that came, and its result is `not approved` with the reason. When it already exists in
        Holded, the document and each line are applied one by one as `apply` does.

        Args:
            stream: the document's stream (its target declares an `Approval`); record, op: as `apply`.
            lines: (stream, record, op) of each line record, in arrival order.

        Returns:
            One result for the document, then one per line, in the order given. A line that does not fit
            its model refuses the document and all its lines (an approved document cannot get it later).
        """
        key = str(record.get("id") or "")
        target = TARGETS[stream]
        rule = target.approval
        results: list[WriteResult] = []
        try:
            if rule is None or op not in ("create", "upsert") or not rule.asked(record):
                raise _OneByOne
            _check_types(stream, record)
            resolved = self._resolve_refs(stream, record)
            if self.find(target, resolved, key) is not None:
                raise _OneByOne
            kept: list[tuple[str, Mapping[str, Any], str]] = []
            for line_stream, line, line_op in lines:
                if line_op == "delete":
                    results.append(WriteResult(line_stream, str(line.get("id") or ""), line_op, "unchanged",
                                               reason="no such line: its invoice is new"))  # fmt: skip
                    continue
                try:
                    _check_types(line_stream, line)
                except Rejected as exc:
                    raise Rejected(
                        f"its line {line.get('id')!r} {exc}: nothing written, since an approved {stream} cannot "
                        "get lines later; fix the line and push again"
                    ) from None
                kept.append((line_stream, line, line_op))
            kept.sort(key=lambda entry: _sort_position(entry[1]))  # stable: arrival order among equals
            created = self._create(target, resolved, key, lines=[line for _, line, _ in kept])
        except _OneByOne:
            return [self.apply(stream, record, op), *(self.apply(s, r, o) for s, r, o in lines)]
        except (Rejected, HoldedError) as exc:
            reason = (exc.holded_message or str(exc)) if isinstance(exc, HoldedError) else str(exc)
            refused = [WriteResult(stream, key, op, "rejected", reason=reason)]
            why = f"its {stream} {key!r} was refused: {reason}"
            return refused + [WriteResult(s, str(r.get("id") or ""), o, "rejected", reason=why) for s, r, o in lines]
        status = "planned" if created.status == "planned" else "created"  # in the invoice, draft or not
        positions = {id(line): position for position, (_, line, _) in enumerate(kept)}
        deletes = iter(results)  # answered above, in order
        out = [created]
        for line_stream, line, line_op in lines:
            if line_op == "delete":
                out.append(next(deletes))
                continue
            holded_id = None if self.dry_run else f"{created.holded_id}:{positions[id(line)]}"
            out.append(WriteResult(line_stream, str(line.get("id") or ""), line_op, status, holded_id=holded_id))
        return out

    def order_keys(self, stream: str, record: Mapping[str, Any]) -> list[str]:
        """Keys that order writes: two records sharing one (same key, same parent, or one identity such as
        the same e-mail under `matching_keys`) are written one after the other, never at the same time.

        Args:
            stream, record: as `apply`.

        Returns:
            `<stream>:<key>` (a child: its parent's), then its identity keys in the target's listing.
        """
        key = str(record.get("id") or "")
        parent = parent_of(stream, record)
        if parent is not None:  # children rewrite their parent's list: one at a time per parent
            return [f"{parent[0]}:{parent[1]}"]
        keys = [f"{stream}:{key}"]
        target = TARGETS.get(stream)
        if target is not None:
            keys += [f"{target.path}|{k}" for k in self._identity_keys(target, record, key)]
        return keys

    # --------------------------------------------------------------------------- matching

    def index(self, target: Target) -> Index:
        with self._lock:
            if target.path not in self._indexes:
                shared = [t.stream for t in TARGETS.values() if t.path == target.path]  # persons and companies
                matching = {stream: self.matching_keys.get(stream) for stream in shared}
                self._indexes[target.path] = Index(self.client, target.path, matching, self.zone.key)
            return self._indexes[target.path]

    def _identity_keys(self, target: Target, record: Mapping[str, Any], key: str) -> list[str]:
        """The index keys `record` is looked up by (`identity_keys`), its own key standing for a contact's
        `customId` and for the external id."""
        custom = (record.get("customId") or key) if target.stream in CONTACTS else None
        matching = self.matching_keys.get(target.stream)
        return identity_keys(target, record, custom_id=custom, external_ids=[key], matching_key=matching)

    def find(self, target: Target, record: Mapping[str, Any], key: str) -> dict[str, Any] | None:
        """Holded's copy of `record`, or None. Looked up, in order, by: the Holded id written for this key in
        this sync, the key as a Holded id, then (as identities: trimmed, NFC, case-folded) a contact's
        `customId`, the external id, the natural key and the `matching_keys` field."""
        index = self.index(target)
        candidates = [self.resolved.get(f"{target.stream}:{key}"), key]
        candidates += [index.by_key.get(k) for k in self._identity_keys(target, record, key)]
        for rid in candidates:
            if rid and rid in index.by_id:
                if rid in index.stale:  # written in this sync: read back only if it is needed again
                    index.add(self.client.get(f"{target.path}/{rid}"))
                return index.by_id[rid]
        return None

    def _written(self, target: Target, rid: str, record: Mapping[str, Any] | None = None, key: str = "") -> None:
        """After a write: Holded's copy changed; re-read it lazily, not once per write. A created `record`
        is indexed under its keys at once, so a later record with the same identity finds it."""
        index = self.index(target)
        index.by_id.setdefault(rid, {"id": rid})
        index.stale.add(rid)
        if record is not None:
            index.register(rid, self._identity_keys(target, record, key))

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

    def _send(self, method: str, path: str, body: Mapping[str, Any]) -> Any:
        """A write request; every text in the body in Unicode's composed form (NFC, see holded_core.identity)."""
        return self.client.request(method, path, json=nfc(dict(body)))

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

    def _create(
        self, target: Target, record: Mapping[str, Any], key: str, lines: Sequence[Mapping[str, Any]] | None = None
    ) -> WriteResult:
        """Create `record`; `lines`: the line records that came with it (a target with an `Approval`).

        A record asking to be approved is created approved with its lines when `Approval.missing` finds
        nothing missing, else as a draft with the lines there are, and reported `not approved` with why.
        Fields the target sets once (`Target.set_once`, an invoice's number) are read back from Holded and
        a value Holded replaced is reported."""
        missing = [name for name in target.required if record.get(name) in (None, "")]
        if missing:
            raise Rejected(f"missing required field(s) for a create: {', '.join(missing)}")
        body = self._body(target, record, creating=True)
        notes = self._not_written(record)
        rule, not_approved = target.approval, None
        if rule is not None:
            body[rule.lines_body] = [_item_from_line(line) for line in lines or ()]
            if rule.asked(record):
                not_approved = rule.missing(record, lines)
                if not_approved is None:
                    body[rule.flag] = True
                else:
                    notes.insert(0, f"created as a draft, not approved: {not_approved}; Holded's API v1 approves a "
                                    f"document only as it creates it, with its lines ({rule.flag}): push it "
                                    f"with its {rule.lines} records in one run (holded push --lines), or approve it "
                                    "in Holded")  # fmt: skip
        first = {k: v for k, v in body.items() if k in target.create_only} if target.create_only else body
        rest = {k: v for k, v in body.items() if k not in first}
        status = "not approved" if not_approved else "created"
        if self.dry_run:
            changes = {k: [None, v] for k, v in nfc(body).items()}
            note = "; ".join(notes) or None
            return WriteResult(target.stream, key, "create", "planned", reason=note, changes=changes)
        try:
            answer = self._send("POST", target.path, first)
            rid = str(answer["id"])
        except HoldedAmbiguousWriteError:
            # The answer was lost: Holded may have created it. Look before creating again.
            found = self._look_again(target, record, key, first)
            if found is None:
                answer = self._send("POST", target.path, first)
                rid = str(answer["id"])
            else:
                rid = str(found["id"])
                logger.info("%s %s: the lost create had been applied (Holded id %s)", target.stream, key, rid)
        if rest:
            self._send("PUT", f"{target.path}/{rid}", rest)
        self.resolved[f"{target.stream}:{key}"] = rid
        self._written(target, rid, record, key)
        notes += self._read_back(target, record, rid)
        return WriteResult(target.stream, key, "create", status, holded_id=rid, reason="; ".join(notes) or None)

    def _read_back(self, target: Target, record: Mapping[str, Any], rid: str) -> list[str]:
        """After a create that sent fields Holded may replace (`Target.set_once`): Holded's copy, read once
        (and indexed, so it is not read again), and a note for each value Holded did not keep.

        A numbering series overrides the number sent on a sales document (shared/holded-api/README.md,
        "what integrators report"): the invoice keeps Holded's number, is still matched by its external id
        on the next run, and the difference is not written again (`_diff`)."""
        sent = [name for name in target.set_once if record.get(name) not in (None, "")]
        if not sent:
            return []
        fresh = self.client.get(f"{target.path}/{rid}")
        self.index(target).add(fresh)
        now = self._unified(target, fresh)
        return [
            f"Holded gave it {name} {now.get(name)!r}, not {record[name]!r} (its numbering series); kept, and not "
            "written again: it is set only at create"
            for name in sent
            if not same_value(record[name], now.get(name))
        ]

    def _look_again(
        self, target: Target, record: Mapping[str, Any], key: str, body: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """After a lost answer: contacts through Holded's customId filter, the rest by a fresh index."""
        if "CustomId" in body:
            matches = self.client.get(target.path, {"customId": nfc(body["CustomId"])})
            if matches:
                self.index(target).add(matches[0])
                return matches[0]
            return None
        with self._lock:
            self._indexes.pop(target.path, None)
        return self.find(target, record, key)

    @staticmethod
    def _not_written(record: Mapping[str, Any]) -> list[str]:
        """What a create cannot reproduce, said rather than dropped silently."""
        notes = []
        if record.get("status") in ("paid", "partially_paid"):
            notes.append(f"status {record['status']!r} is not written: Holded derives it from payments")
        return notes

    def _update(
        self, target: Target, record: Mapping[str, Any], key: str, current: dict[str, Any], op: str
    ) -> WriteResult:
        self.resolved[f"{target.stream}:{key}"] = str(current["id"])
        now = self._unified(target, current)
        changes, read_only, once = self._diff(target, record, now)
        # Fields Holded computes itself (an invoice's status and amounts, ...) are never written, nor are
        # fields set only at create (an invoice's number); a difference in them is said in the result's
        # note rather than dropped without a word, and is not a change.
        notes = [f"not written, Holded computes them: {', '.join(sorted(read_only))}"] if read_only else []
        if once:
            notes.append(f"not written, set only when created: {', '.join(sorted(once))} (Holded keeps its own)")
        rule = target.approval
        draft = rule is not None and rule.asked(record) and now.get(rule.field) is True
        if draft:
            notes.insert(0, f"it is a draft in Holded, and Holded's API v1 cannot approve an existing "
                            f"{target.stream}: approve it in Holded")  # fmt: skip
        status = "not approved" if draft else "unchanged"
        note = "; ".join(notes) or None
        if not changes:
            return WriteResult(target.stream, key, op, status, holded_id=current["id"], reason=note)
        self._guard(target, current, "update")
        changed_record = {name: record[name] for name in changes} | {"id": key}
        body = self._body(target, changed_record, creating=False)
        if self.dry_run:
            return WriteResult(target.stream, key, op, "planned", current["id"], note, changes)
        stage = body.pop("stageId", None)
        if body:
            self._send("PUT", f"{target.path}/{current['id']}", body)
        if stage is not None:
            self._send("PUT", f"{target.path}/{current['id']}/stages", {"stageId": stage})
        self._written(target, str(current["id"]))
        return WriteResult(target.stream, key, op, "not approved" if draft else "updated", current["id"], note, changes)

    def _unified(self, target: Target, current: Mapping[str, Any]) -> dict[str, Any]:
        """Holded's copy of a record read through the target's mapping (as the source reads it)."""
        extras = self._extras[target.stream]
        return next(iter(to_unified(target.mapping, current, default_currency=self.default_currency,
                                    is_person_lookup=self._is_person, extra_fields=extras,
                                    timezone=self.zone)), {})  # fmt: skip

    def _diff(
        self, target: Target, record: Mapping[str, Any], now: Mapping[str, Any]
    ) -> tuple[dict[str, Any], set[str], set[str]]:
        """Compare `record` with Holded's copy `now` (its unified form).

        Returns:
            The writable fields that differ (name -> [Holded's value, the new value]); the read-only
            fields that differ (Holded computes them); the set-once fields that differ (written only at
            create). A difference of Unicode form only (`same_value`) is no difference; one of case is,
            except in the target's `key_fields`, compared as identities.
        """
        fields = (*target.mapping.fields, *self._extras[target.stream])
        writable = {n for fld in fields if fld.write is not None for n in fld.names} - set(target.set_once)
        writable |= {"customFields"} if target.mapping.custom_fields else set()
        read_only = set(target.computed)
        if target.approval is not None and target.approval.asked(record):
            read_only.discard(target.approval.field)  # said by the approval rule (`not approved`)
        changes = {}
        for name in writable & set(record):
            new, old = record[name], now.get(name)
            if name == "customFields":
                new = {k: v for k, v in (new or {}).items() if not same_value(v, (old or {}).get(k))}
                if new:
                    changes[name] = [old, {**(old or {}), **new}]
                continue
            if name in target.key_fields and identity(new) == identity(old):
                continue
            if new is not None and not same_value(new, old):
                changes[name] = [old, new]

        def differ(names: set[str]) -> set[str]:
            return {n for n in names & set(record) if record[n] is not None and not same_value(record[n], now.get(n))}

        return changes, differ(read_only), differ(set(target.set_once))

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
            body["contactId"] = contact  # lines: from the target's Approval rule (`_create`)
            if body.get("docNumber"):
                body["invoiceNum"] = body.pop("docNumber")  # the create's name for the number

    # --------------------------------------------------------------------------- children

    def _child(self, stream: str, record: Mapping[str, Any], op: str, key: str) -> WriteResult:
        parent_stream = CHILDREN[stream]
        parent_field = PARENT_FIELDS[stream]
        parent_key = (parent_of(stream, record) or (parent_stream, ""))[1] or None
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
        name = identity(record.get("name"))
        match = match or next((s for s in stages if name and identity(s.get("name")) == name), None)
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
            if all(same_value(v, match.get(k)) for k, v in wanted.items()):
                return WriteResult("crmStage", key, op, "unchanged", holded_id=f"{funnel['id']}:{match['stageId']}")
            match.update(wanted)
            status = "updated"
        if self.dry_run:
            return WriteResult("crmStage", key, op, "planned", changes={"stages": [funnel.get("stages"), stages]})
        self._send("PUT", f"{target.path}/{funnel['id']}", {"stages": stages})
        fresh = self.client.get(f"{target.path}/{funnel['id']}")
        self.index(target).add(fresh)
        if status == "created":
            created = next((s for s in reversed(fresh["stages"]) if identity(s.get("name")) == name), None)
            if created:
                self.resolved[f"crmStage:{key}"] = f"{funnel['id']}:{created['stageId']}"
                return WriteResult("crmStage", key, op, status, holded_id=self.resolved[f"crmStage:{key}"])
        return WriteResult("crmStage", key, op, status, holded_id=funnel["id"])

    def _line(self, record: Mapping[str, Any], op: str, key: str, invoice: dict, target: Target) -> WriteResult:
        approved = invoice.get("draft") in (0, False)
        lines = [_item_of(line) for line in invoice.get("products") or []]
        position = _line_position(record)
        wanted = _item_from_line(record)
        exists = position is not None and 0 <= int(position) < len(lines)
        unchanged = exists and all(same_value(v, lines[int(position)].get(k)) for k, v in wanted.items())
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
        self._send("PUT", f"{target.path}/{invoice['id']}", {"items": lines})
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


def _trimmed(record: Mapping[str, Any], fields: tuple[str | None, ...]) -> Mapping[str, Any]:
    """`record` with the text of its key fields (matched trimmed, see `identity`) written trimmed too:
    `" ANA@x.es "` matches `ANA@x.es` and must not write its spaces into Holded."""
    stripped = {
        name: record[name].strip()
        for name in fields
        if name and isinstance(record.get(name), str) and record[name] != record[name].strip()
    }
    return {**record, **stripped} if stripped else record


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


def _item_from_line(record: Mapping[str, Any]) -> dict[str, Any]:
    """An accountingInvoiceItem record as a line of Holded's write form (`items[]`, `subtotal` the unit
    price), with only the values the record has."""
    wanted = {
        "name": record.get("description"),
        "units": record.get("quantity"),
        "subtotal": record.get("unitPrice"),
        "discount": record.get("discount"),
        "tax": record.get("taxRate"),
        "sku": record.get("sku"),
    }
    return {k: v for k, v in wanted.items() if v is not None}


def _line_position(record: Mapping[str, Any]) -> int | None:
    """A line's position in its invoice: its `position`, else the numeric tail of its id `<invoice>:<n>`."""
    position = record.get("position")
    if position is None:
        key = str(record.get("id") or "")
        tail = key.rsplit(":", 1)[1] if ":" in key else ""
        position = int(tail) if tail.isdigit() else None
    return None if position is None else int(position)


def _sort_position(record: Mapping[str, Any]) -> tuple[bool, int]:
    """Lines with a position first, by position; the rest after them."""
    position = _line_position(record)
    return position is None, position or 0


def parent_of(stream: str, record: Mapping[str, Any]) -> tuple[str, str] | None:
    """For a child stream (written through its parent): (the parent's stream, the parent's key), taken
    from the record's parent field or the head of its id `<parent>:<child>`; None for other streams."""
    if stream not in CHILDREN:
        return None
    key = str(record.get("id") or "")
    parent = record.get(PARENT_FIELDS[stream]) or (key.split(":", 1)[0] if ":" in key else None)
    return CHILDREN[stream], str(parent or "")


class _OneByOne(Exception):
    """`apply_group`: the group is not one approved create; its records go through `apply` one by one."""
