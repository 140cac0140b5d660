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
(`Writer.apply_group`, fed by `holded_core.push`). Through API v2 it is created with those lines, then
approved by its approve route; v2 approves an existing draft too, after the lines that came with it are
written. One that cannot be approved is created (or left) a draft and reported `not approved` with the
reason; it is never silently left a draft. When Holded refuses the approve route itself (v2: a 422
problem), what was written stays written: the document is `not approved` with Holded's `detail`, its
lines `created`, and a later push approves the draft.

Dialects (`holded_core.write_channel`): the writer builds Holded's v1 bodies and reads v1-shaped records
whatever the credential speaks; its one `WriteChannel` translates both ways from the dialect's resource
rows (v2: snake_case bodies, full-replace PUTs as read-modify-write, sub-routes, the approve route). A field
the dialect's writes do not take is never a change: it is said in the result's note.

Models (`holded_core.mappings`): what differs between models (required fields, natural key, references,
computed and set-once fields, children written through their parent, guards, Holded's body quirks) is
declared once in each model's `ModelMapping.write` (`WriteRules`). This module runs the same steps for
every model and has no branch of its own per model.
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
from holded_core.dialects import dialect_named
from holded_core.errors import HoldedAmbiguousWriteError, HoldedError, HoldedNotFoundError
from holded_core.fieldmap import FieldMapping, extra_fields
from holded_core.identity import identity, same_value
from holded_core.mappings import (
    EXTERNAL_ID,
    MAPPINGS,
    Field,
    ModelMapping,
    Rejected,
    WriteRules,
    get_path,
    is_person,
    to_holded,
    to_unified,
)
from holded_core.models import MODELS
from holded_core.secrets import get_logger
from holded_core.write_channel import WriteChannel

logger = get_logger(__name__)

OPS = ("create", "update", "upsert", "delete")


@dataclass
class WriteResult:
    """What the writer did with one record (or, in a dry run, would do).

    Attributes:
        stream, key, op: the record's stream, its key (`id`) and the operation asked (one of `OPS`).
        status: created | updated | unchanged | deleted | rejected | planned (dry run) | not approved.
        holded_id: the record's Holded id, when known.
        reason: why it was refused, or the note on a write (what was not written, why not approved).
        changes: field -> [Holded's value, the new value]: an update's changed unified fields; a create's
            (and a dry run's list rewrite's) body as the credential's API would be sent it.
        action: for a `planned` result, the write a real run would make: create | update | delete.
    """

    stream: str
    key: str
    op: str
    status: str
    holded_id: str | None = None
    reason: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    action: str | None = None

    @property
    def outcome(self) -> str:
        """The status as a user reads it: a dry run's plan says what would happen (`would create`,
        `would update`, `would delete`); any other result its status (`unchanged`, `rejected`...)."""
        if self.status == "planned" and self.action:
            return f"would {self.action}"
        return self.status


@dataclass(frozen=True)
class Target:
    """A model the writer writes: its mapping, whose `write` rules drive every step, and its route."""

    mapping: ModelMapping

    @property
    def stream(self) -> str:
        return self.mapping.stream

    @property
    def rules(self) -> WriteRules:
        assert self.mapping.write is not None  # TARGETS holds written models only
        return self.mapping.write

    @property
    def resource(self) -> str:
        """The Holded resource the model is written to, by name (`contacts`, `invoices`): the dialect's
        `WriteChannel` knows its routes."""
        return self.mapping.resource

    @property
    def custom_id(self) -> Field | None:
        """The field that is Holded's `customId` (`WriteRules.custom_id`), if the model has one."""
        name = self.rules.custom_id
        return self.mapping.fields_by_name()[name] if name else None

    @property
    def items(self) -> str:
        """For an `Embedded` model: the parent's write-body key of its list (`stages`, `items`)."""
        embedded = self.rules.embedded
        assert embedded is not None and self.mapping.children is not None
        return embedded.write_as or self.mapping.children


# Every model whose mapping declares how it is written: per stream, its written mappings in order. The first
# is the stream's target (references, indexes); a later one writes the records its `WriteRules.claims`
# (a company's contact persons in `genericContact`).
WRITTEN: dict[str, tuple[Target, ...]] = {
    stream: tuple(Target(m) for m in mappings if m.write is not None)
    for stream, mappings in MAPPINGS.items()
    if mappings[0].write is not None
}
TARGETS: dict[str, Target] = {stream: targets[0] for stream, targets in WRITTEN.items()}


def target_of(stream: str, record: Mapping[str, Any]) -> Target | None:
    """The target that writes `record` of `stream`: the first of its written mappings whose
    `WriteRules.claims` takes it, else the stream's first; None for a stream nothing writes."""
    targets = WRITTEN.get(stream, ())
    for target in targets[1:]:
        claims = target.rules.claims
        if claims is not None and claims(record):
            return target
    return targets[0] if targets else None


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
    natural_key = target.rules.natural_key
    natural = natural_key(unified) if natural_key is not None else None
    if natural:
        keys.append(f"nat:{target.stream}:{natural}")
    if matching_key and (match := identity(unified.get(matching_key))) is not None:
        keys.append(f"match:{target.stream}:{match}")
    return keys


class Index:
    """One target listing, read once per sync: Holded records by id, and by the identity of their
    `customId`, external id, natural key and matching key (for every stream that shares the listing)."""

    def __init__(
        self, channel: WriteChannel, resource: str, matching: Mapping[str, str | None], timezone: str = DEFAULT_TIMEZONE
    ) -> None:
        """`matching`: for each target stream on `resource`, the unified field `matching_keys` names (or
        None); `timezone`: the account's zone (a day used as a matching key compares as a day there). The
        listing is read through `channel`, in v1's record shape whatever the dialect."""
        self.timezone = timezone
        self.by_id: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        self.stale: set[str] = set()  # ids written in this sync, re-read on next use
        self.targets = [(TARGETS[stream], key) for stream, key in matching.items()]
        for record in channel.records(resource):
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
            if target.rules.natural_key is None and not matching_key:
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

        The writer speaks the API `client`'s credential speaks (`ClientConfig.dialect`: a v1 key, a v2
        token) through one `WriteChannel`; its steps are the same for both.

        Raises:
            HoldedConfigError: `timezone` is not a known zone.
        """
        self.client = client
        self.zone = account_zone(timezone)
        self.channel = WriteChannel(client, dialect_named(client.config.dialect), self.zone)
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
            target = target_of(stream, record)
            if target is None:
                raise Rejected(f"{stream!r} is not a unified stream this destination writes")
            _check(target.rules.refuse, record)
            if op != "delete":
                _check_types(stream, record)
            if target.rules.embedded is not None:
                return self._child(target, record, op, key)
            if op != "delete":
                record = _as_days(target.mapping, record, self.zone)
                record = _trimmed(record, (*target.rules.key_fields, "email", self.matching_keys.get(stream)))
                record = self._resolve_refs(target, record)
            return self._apply(target, record, op, key)
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
        rule = target.rules.approval
        results: list[WriteResult] = []
        try:
            if rule is None or op not in ("create", "upsert") or not rule.asked(record):
                raise _OneByOne
            _check_types(stream, record)
            resolved = self._resolve_refs(target, record)
            lines_of = TARGETS[rule.lines].rules
            if self.find(target, resolved, key) is not None:
                raise _OneByOne
            kept: list[tuple[str, Mapping[str, Any], str]] = []
            for line_stream, line, line_op in lines:
                if line_op == "delete":
                    new = f"no such {lines_of.noun}: its {target.rules.noun} is new"
                    results.append(
                        WriteResult(line_stream, str(line.get("id") or ""), line_op, "unchanged", reason=new)
                    )
                    continue
                try:
                    _check_types(line_stream, line)
                except Rejected as exc:
                    raise Rejected(
                        f"its {lines_of.noun} {line.get('id')!r} {exc}: nothing written, since an approved {stream} "
                        f"cannot get {lines_of.noun}s later; fix the {lines_of.noun} and push again"
                    ) from None
                kept.append((line_stream, line, line_op))
            kept.sort(key=lambda entry: _sort_position(entry[1]))  # stable: arrival order among equals
            created = self._create(target, resolved, key, lines=[line for _, line, _ in kept])
        except _OneByOne:
            approves = self.channel.approves_drafts(target.resource)
            if rule is not None and rule.asked(record) and op != "delete" and approves:
                # An existing draft that the dialect can approve (API v2): its lines first, then the
                # document, whose update approves it; an approved document takes no more lines.
                written = [self.apply(s, r, o) for s, r, o in lines]
                return [self.apply(stream, record, op), *written]
            return [self.apply(stream, record, op), *(self.apply(s, r, o) for s, r, o in lines)]
        except (Rejected, HoldedError) as exc:
            reason = (exc.holded_message or str(exc)) if isinstance(exc, HoldedError) else str(exc)
            refused = [WriteResult(stream, key, op, "rejected", reason=reason)]
            why = f"its {stream} {key!r} was refused: {reason}"
            return refused + [WriteResult(s, str(r.get("id") or ""), o, "rejected", reason=why) for s, r, o in lines]
        # The lines are in the invoice, approved or not (`not approved`: created a draft, its lines with it).
        status = "planned" if created.status == "planned" else "created"
        action = "create" if status == "planned" else None
        positions = {id(line): position for position, (_, line, _) in enumerate(kept)}
        deletes = iter(results)  # answered above, in order
        out = [created]
        for line_stream, line, line_op in lines:
            if line_op == "delete":
                out.append(next(deletes))
                continue
            holded_id = None if self.dry_run else f"{created.holded_id}:{positions[id(line)]}"
            key = str(line.get("id") or "")
            out.append(WriteResult(line_stream, key, line_op, status, holded_id=holded_id, action=action))
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
            keys += [f"{target.resource}|{k}" for k in self._identity_keys(target, record, key)]
        return keys

    # --------------------------------------------------------------------------- matching

    def index(self, target: Target) -> Index:
        with self._lock:
            if target.resource not in self._indexes:
                # persons and companies share one listing; children are indexed as their parent
                shared = [t.stream for t in TARGETS.values() if t.resource == target.resource and not t.rules.embedded]
                matching = {stream: self.matching_keys.get(stream) for stream in shared}
                self._indexes[target.resource] = Index(self.channel, target.resource, matching, self.zone.key)
            return self._indexes[target.resource]

    def _identity_keys(self, target: Target, record: Mapping[str, Any], key: str) -> list[str]:
        """The index keys `record` is looked up by (`identity_keys`), its own key standing for a contact's
        `customId` and for the external id."""
        name = target.rules.custom_id
        custom = (record.get(name) or key) if name else None
        matching = self.matching_keys.get(target.stream)
        return identity_keys(target, record, custom_id=custom, external_ids=[key], matching_key=matching)

    def find(
        self, target: Target, record: Mapping[str, Any], key: str, *, reread: bool = True
    ) -> dict[str, Any] | None:
        """Holded's copy of `record`, or None. Looked up, in order, by: the Holded id written for this key in
        this sync, the key as a Holded id, then (as identities: trimmed, NFC, case-folded) a contact's
        `customId`, the external id, the natural key and the `matching_keys` field.

        Args:
            target, record, key: the record's target, the record and its key.
            reread: a match written in this sync is read again first (its indexed copy is stale); False
                for a caller that only needs its `id` and reads it fresh itself (saves one `GET`).
        """
        index = self.index(target)
        candidates = [self.resolved.get(f"{target.stream}:{key}"), key]
        candidates += [index.by_key.get(k) for k in self._identity_keys(target, record, key)]
        for rid in candidates:
            if rid and rid in index.by_id:
                if reread and rid in index.stale:  # written in this sync: read back only if it is needed again
                    index.add(self.channel.read(target.resource, rid))
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

    def _resolve_refs(self, target: Target, record: Mapping[str, Any]) -> dict[str, Any]:
        """`record` with its references (`WriteRules.references`) as this account's Holded ids.

        Raises:
            Rejected: a reference that does not exist in Holded (naming it).
        """
        out = dict(record)
        for name, streams in target.rules.references.items():
            if out.get(name):
                out[name] = self.resolve(streams, out[name], name)
        return out

    def resolve(self, streams: tuple[str, ...], key: str | None, what: str) -> str:
        """A reference (pipeline, contact, invoice...) as the target account's Holded id; a reference to
        an `Embedded` model (a stage) as `<parent's Holded id>:<its own id>`."""
        if not key:
            raise Rejected(f"{what} is required")
        for stream in streams:
            target = TARGETS[stream]
            if target.rules.embedded is not None:
                return self._resolve_embedded(target, key, what)
            found = self.find(target, {"id": key}, key)
            if found is not None:
                return str(found["id"])
        keyless = [s for s in streams if not self._keeps_external_id(TARGETS[s])]
        hint = (
            f"; Holded's API {self.channel.name} keeps no external id on {' or '.join(keyless)} records, so a later "
            "run finds one by its Holded id (or write it in the same run)"
            if keyless
            else ""
        )
        raise Rejected(f"{what} {key!r} does not exist in Holded (write it first, or check the id){hint}")

    def _keeps_external_id(self, target: Target) -> bool:
        """Whether Holded keeps the record's source key for `target` in this dialect (its `customId`, or the
        external id among its custom fields): else a record is found again only by its Holded id or natural key."""
        if target.rules.custom_id is not None or target.rules.embedded is not None:
            return True
        return bool(target.mapping.custom_fields) and "customFields" not in self.channel.unwritable(target.resource)

    def _resolve_embedded(self, target: Target, key: str, what: str) -> str:
        """A reference `<parentKey>:<ownId>` to an item of a parent's list (a stage of a funnel)."""
        mapped = self.resolved.get(f"{target.stream}:{key}")
        if mapped:
            return mapped
        embedded = target.rules.embedded
        assert embedded is not None
        parent_key, _, own = key.partition(":")
        parent = self.resolve((embedded.parent,), parent_key, f"{what}'s {embedded.field}")
        listed = self.index(TARGETS[embedded.parent]).by_id[parent]
        if any(child["id"] == f"{parent}:{own}" for child in to_unified(target.mapping, listed)):
            return f"{parent}:{own}"
        raise Rejected(f"{what} {key!r} does not exist in Holded (write the {target.stream} first)")

    # ----------------------------------------------------------------------------- writes

    def _apply(self, target: Target, record: Mapping[str, Any], op: str, key: str) -> WriteResult:
        current = self.find(target, record, key)
        if current is not None:
            _check(target.rules.matches, current)  # a reference may point at either kind; the record itself may not
        stream = target.stream
        if op == "delete":
            if current is None:
                return WriteResult(stream, key, op, "unchanged", reason="not in Holded (already deleted)")
            self._guard(target, current, "delete")
            if self.dry_run:
                return WriteResult(stream, key, op, "planned", holded_id=current["id"], action="delete")
            with contextlib.suppress(HoldedNotFoundError):
                self.channel.delete(target.resource, str(current["id"]))
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
        Fields the model sets once (`WriteRules.set_once`, an invoice's number) are read back from Holded
        and a value Holded replaced is reported."""
        rules = target.rules
        _require(rules, record)
        body = self._body(target, _with_all_parts(target.mapping, record, {}), creating=True)
        notes = [note for said in rules.create_notes if (note := said(record))]  # what a create cannot reproduce
        rule, not_approved, approve_after = rules.approval, None, False
        if rule is not None:
            line_target = TARGETS[rule.lines]  # the lines in the create, in their write form
            body[line_target.items] = [to_holded(line_target.mapping, ln, timezone=self.zone) for ln in lines or ()]
            if rule.asked(record):
                not_approved = rule.missing(record, lines)
                if not_approved is not None:
                    notes.insert(0, self._draft_note(target, f"created as a draft, not approved: {not_approved}"))
                elif self.channel.approves_drafts(target.resource):
                    approve_after = True  # API v2: created (a draft, with its lines), then approved
                else:
                    body[rule.flag] = True  # API v1: approved as it is created, or never
        first = {k: v for k, v in body.items() if k in rules.create_only} if rules.create_only else body
        rest = {k: v for k, v in body.items() if k not in first}
        status = "not approved" if not_approved else "created"
        if self.dry_run:  # the body as the credential's API would be sent it (v2: `from_v1`), not v1's
            changes = {k: [None, v] for k, v in self.channel.sent_body(target.resource, body).items()}
            if approve_after and rule is not None:
                changes[rule.field] = [None, False]
            note = "; ".join(notes + self._not_written(target, record)) or None
            return WriteResult(target.stream, key, "create", "planned", reason=note, changes=changes, action="create")
        try:
            rid = self.channel.create(target.resource, first)
        except HoldedAmbiguousWriteError:
            # The answer was lost: Holded may have created it. Look before creating again.
            found = self._look_again(target, record, key, first)
            if found is None:
                rid = self.channel.create(target.resource, first)
            else:
                rid = str(found["id"])
                logger.info("%s %s: the lost create had been applied (Holded id %s)", target.stream, key, rid)
        if rest:
            self.channel.update(target.resource, rid, rest)
        self.resolved[f"{target.stream}:{key}"] = rid
        self._written(target, rid, record, key)
        if approve_after and (refused := self._approve(target, rid)) is not None:
            # Created, with its lines, but Holded refused to approve it: a draft in Holded, said so
            # (never `rejected`: the record and its lines exist, and a later push approves it).
            status = "not approved"
            notes.insert(0, self._draft_note(target, f"created as a draft, not approved: {refused}"))
        notes += self._read_back(target, record, rid)
        return WriteResult(target.stream, key, "create", status, holded_id=rid, reason="; ".join(notes) or None)

    def _approve(self, target: Target, rid: str) -> str | None:
        """Approve the draft `rid` through the dialect's approve route.

        Returns:
            None when approved; else why not, in Holded's words (a v2 problem's `detail`), e.g.
            "Holded refused to approve it: The document has no lines." The draft stays as it is.
        """
        try:
            self.channel.approve(target.resource, rid)
        except HoldedError as exc:
            return f"Holded refused to approve it: {exc.holded_message or exc}"
        return None

    def _draft_note(self, target: Target, what: str) -> str:
        """Why a document asked to be approved stays a draft, and how to approve it, in the dialect's terms."""
        rule = target.rules.approval
        assert rule is not None
        if self.channel.approves_drafts(target.resource):
            return (f"{what}; push it again with its {rule.lines} records and {rule.field} false (Holded's API "
                    f"{self.channel.name} approves an existing draft), or approve it in Holded")  # fmt: skip
        return (f"{what}; Holded's API {self.channel.name} approves a document only as it creates it, with its "
                f"lines ({rule.flag}): push it with its {rule.lines} records in one run (holded push --lines), "
                "or approve it in Holded")  # fmt: skip

    def _unwritable(self, target: Target) -> set[str]:
        """The unified fields of `target` the dialect's writes do not take (`Resource.unwritable`)."""
        keys = self.channel.unwritable(target.resource)
        if not keys:
            return set()
        names = set()
        for fld in (*target.mapping.fields, *self._extras[target.stream]):
            sent = fld.sent_as.split(".")[0] if fld.sent_as else None
            if fld.write is not None and (sent in keys or (fld.custom_field and "customFields" in keys)):
                names.update(fld.names)
        if "customFields" in keys and target.mapping.custom_fields:
            names.add("customFields")
        return names

    def _not_written(self, target: Target, record: Mapping[str, Any]) -> list[str]:
        """A note naming the record's filled-in fields the dialect's writes do not take, or none."""
        names = sorted(n for n in self._unwritable(target) if record.get(n) not in (None, "", [], {}))
        if not names:
            return []
        return [f"not written, Holded's API {self.channel.name} does not take them: {', '.join(names)}"]

    def _read_back(self, target: Target, record: Mapping[str, Any], rid: str) -> list[str]:
        """After a create that sent fields Holded may replace (`WriteRules.set_once`): Holded's copy, read once
        (and indexed, so it is not read again), and a note for each value Holded did not keep.

        A numbering series overrides the number sent on a sales document (shared/holded-api/README.md,
        "what integrators report"): the invoice keeps Holded's number, is still matched by its external id
        on the next run, and the difference is not written again (`_diff`)."""
        sent = [name for name in target.rules.set_once if record.get(name) not in (None, "")]
        unwritable = [name for name in sorted(self._unwritable(target)) if record.get(name) not in (None, "", [], {})]
        if not sent and not unwritable:
            return []
        fresh = self.channel.read(target.resource, rid)
        self.index(target).add(fresh)
        now = self._unified(target, fresh)
        notes = [
            f"Holded gave it {name} {now.get(name)!r}, not {record[name]!r} (its numbering series); kept, and not "
            "written again: it is set only at create"
            for name in sent
            if not same_value(record[name], now.get(name))
        ]
        lost = [name for name in unwritable if not same_value(record[name], now.get(name))]
        if lost:
            notes.append(f"not written, Holded's API {self.channel.name} does not take them: {', '.join(lost)}")
        return notes

    def _look_again(
        self, target: Target, record: Mapping[str, Any], key: str, body: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """After a lost answer: a model with a `customId` through the dialect's exact filter on it (v1
        `?customId=`: README "Lists and pagination"; v2 `?custom_id=`: v2 README "Shapes"), the rest (and a
        dialect without that filter) by a fresh index, where the external id or natural key finds it."""
        custom = target.custom_id
        if custom is not None and custom.sent_as in body and custom.path is not None:
            matches = self.channel.lookup(target.resource, custom.path, body[custom.sent_as])
            if matches is not None:
                if matches:
                    self.index(target).add(matches[0])
                    return matches[0]
                return None
        with self._lock:
            self._indexes.pop(target.resource, None)
        return self.find(target, record, key)

    def _update(
        self, target: Target, record: Mapping[str, Any], key: str, current: dict[str, Any], op: str
    ) -> WriteResult:
        self.resolved[f"{target.stream}:{key}"] = str(current["id"])
        now = self._unified(target, current)
        changes, read_only, once, unwritable = self._diff(target, record, now)
        # Fields Holded computes itself (an invoice's status and amounts, ...) are never written, nor are
        # fields set only at create (an invoice's number), nor fields the dialect's writes do not take (a
        # contact's tags on API v2); a difference in them is said in the result's note rather than dropped
        # without a word, and is not a change.
        notes = [f"not written, Holded computes them: {', '.join(sorted(read_only))}"] if read_only else []
        if once:
            notes.append(f"not written, set only when created: {', '.join(sorted(once))} (Holded keeps its own)")
        if unwritable:
            notes.append(f"not written, Holded's API {self.channel.name} does not take them: "
                         f"{', '.join(sorted(unwritable))}")  # fmt: skip
        rule = target.rules.approval
        draft = rule is not None and rule.asked(record) and now.get(rule.field) is True
        approve = draft and self.channel.approves_drafts(target.resource)  # API v2 approves an existing draft
        if draft and not approve:
            notes.insert(0, f"it is a draft in Holded, and Holded's API {self.channel.name} cannot approve an "
                            f"existing {target.stream}: approve it in Holded")  # fmt: skip
        status = "not approved" if draft and not approve else "unchanged"
        note = "; ".join(notes) or None
        if approve and rule is not None:
            changes[rule.field] = [True, False]
        if not changes:
            return WriteResult(target.stream, key, op, status, holded_id=current["id"], reason=note)
        self._guard(target, current, "update")
        changed_record = _with_all_parts(target.mapping, {name: record[name] for name in changes} | {"id": key}, now)
        body = self._body(target, changed_record, creating=False)
        if self.dry_run:
            return WriteResult(target.stream, key, op, "planned", current["id"], note, changes, action="update")
        if body:  # fields a dialect moves through a sub-route (a lead's stage) go there (`WriteChannel`)
            self.channel.update(target.resource, str(current["id"]), body)
        self._written(target, str(current["id"]))
        status = "not approved" if draft and not approve else "updated"
        if approve and rule is not None and (refused := self._approve(target, str(current["id"]))) is not None:
            # The changes are written; the approval was refused: still a draft in Holded, said so.
            changes.pop(rule.field, None)
            why = self._draft_note(target, f"it is still a draft, not approved: {refused}")
            note = "; ".join([why, *notes])
            return WriteResult(target.stream, key, op, "not approved", current["id"], note, changes)
        return WriteResult(target.stream, key, op, status, current["id"], note, changes)

    def _unified(self, target: Target, current: Mapping[str, Any]) -> dict[str, Any]:
        """Holded's copy of a record read through the target's mapping (as the source reads it)."""
        extras = self._extras[target.stream]
        return next(iter(to_unified(target.mapping, current, default_currency=self.default_currency,
                                    is_person_lookup=self._is_person, extra_fields=extras,
                                    timezone=self.zone)), {})  # fmt: skip

    def _diff(
        self, target: Target, record: Mapping[str, Any], now: Mapping[str, Any]
    ) -> tuple[dict[str, Any], set[str], set[str], set[str]]:
        """Compare `record` with Holded's copy `now` (its unified form).

        Returns:
            The writable fields that differ (name -> [Holded's value, the new value]); the read-only
            fields that differ (Holded computes them); the set-once fields that differ (written only at
            create); the fields that differ which the dialect's writes do not take (`Resource.unwritable`).
            A difference of Unicode form only (`same_value`) is no difference; one of case is, except in
            the model's `key_fields`, compared as identities.
        """
        rules = target.rules
        fields = (*target.mapping.fields, *self._extras[target.stream])
        unwritable = self._unwritable(target)
        writable = {n for fld in fields if fld.write is not None for n in fld.names} - set(rules.set_once) - unwritable
        writable |= {"customFields"} if target.mapping.custom_fields and "customFields" not in unwritable else set()
        read_only = set(rules.computed)
        if rules.approval is not None and rules.approval.asked(record):
            read_only.discard(rules.approval.field)  # said by the approval rule (`not approved`)
        changes = {}
        for name in writable & set(record):
            new, old = record[name], now.get(name)
            if name == "customFields":
                new = {k: v for k, v in (new or {}).items() if not same_value(v, (old or {}).get(k))}
                if new:
                    changes[name] = [old, {**(old or {}), **new}]
                continue
            if name in rules.key_fields and identity(new) == identity(old):
                continue
            if new is not None and not same_value(new, old):
                changes[name] = [old, new]

        def differ(names: set[str]) -> set[str]:
            return {n for n in names & set(record) if record[n] is not None and not same_value(record[n], now.get(n))}

        return changes, differ(read_only), differ(set(rules.set_once)), differ(unwritable)

    def _guard(self, target: Target, current: Mapping[str, Any], action: str) -> None:
        """Refuse a change Holded refuses in the current record's state (`WriteRules.locked`)."""
        locked = target.rules.locked
        if locked is not None and (state := locked(current)):
            raise Rejected(f"the {target.rules.noun} is {state}: Holded does not allow it to be {action}d")

    def _is_person(self, contact_id: str) -> bool | None:
        record = self.index(TARGETS["genericContact"]).by_id.get(contact_id)
        return None if record is None else is_person(record)

    # ----------------------------------------------------------------------------- bodies

    def _body(self, target: Target, record: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
        """Holded's write body for `record` (a create's, or an update's of the changed fields): the
        mapping's write half (`to_holded`), then the model's `WriteRules` in this order: its `customId`,
        the values every create sends, the fields an update drops, the external id and the custom
        fields' wire form, then its body hooks (`shape`).

        Raises:
            Rejected: a rule refuses the record (a `customId` changed on update, a hook's refusal).
        """
        rules = target.rules
        body = to_holded(target.mapping, record, self._extras[target.stream], timezone=self.zone)
        custom = body.pop("customFields", None) or {}
        key = str(record.get("id") or "")
        custom_id = target.custom_id
        if custom_id is not None and custom_id.sent_as:
            body.pop(custom_id.sent_as, None)
            if creating:
                body[custom_id.sent_as] = record.get(custom_id.name) or key  # the matching key
            elif record.get(custom_id.name):
                raise Rejected(
                    f"{custom_id.name} can only be set when the {rules.noun} is created (it is the matching key)"
                )
        if creating:
            body.update(rules.create_values)
            if target.mapping.custom_fields:
                custom.setdefault(EXTERNAL_ID, key)
        else:
            for name in rules.update_drops:
                body.pop(name, None)
        if custom:
            # Where Holded corrupts the documented [{field, value}] list, one single-key object per field
            # is what it stores correctly (`WriteRules.single_key_custom_fields`).
            single_key = ("create" if creating else "update") in rules.single_key_custom_fields
            body["customFields"] = (
                [{name: value} for name, value in custom.items()]
                if single_key
                else [{"field": name, "value": value} for name, value in custom.items()]
            )
        for shape in rules.shape:  # references arrive resolved to this account's ids (`_resolve_refs`)
            shape(body, record, creating)
        return body

    # --------------------------------------------------------------------------- children

    def _child(self, target: Target, record: Mapping[str, Any], op: str, key: str) -> WriteResult:
        """Write an `Embedded` record (a stage, an invoice line) by rewriting its parent's list.

        The parent is read fresh (siblings may have changed); the item is found by its own id, by the id
        written for its key in this sync, then by the model's natural key, or (no own id in Holded) by
        its position. The parent's `locked` state refuses any change to its items but an identical one.
        A list the dialect's writes do not take (a company's contact persons on API v1) is refused first.

        Requests: the parent is read once (`GET`) and that read is handed to `WriteChannel.update`, so a
        dialect whose `PUT` is a full replace (API v2) does not read it again: `GET`, `PUT` per item
        (a created item with an id of its own: one more `GET`, for the id Holded gave it).
        """
        rules, stream = target.rules, target.stream
        embedded = rules.embedded
        assert embedded is not None
        parent_target = TARGETS[embedded.parent]
        if target.items in self.channel.unwritable(parent_target.resource):
            raise Rejected(
                f"{rules.noun}s cannot be written through Holded's API {self.channel.name}: its "
                f"{parent_target.rules.noun} writes take no {target.items}"
            )
        parent_key = (parent_of(stream, record) or ("", ""))[1] or None
        found = self.find(parent_target, {"id": parent_key}, str(parent_key), reread=False) if parent_key else None
        if found is None:
            raise Rejected(f"its {embedded.field} {parent_key!r} does not exist in Holded (write it first)")
        parent = self.channel.read(parent_target.resource, str(found["id"]))  # fresh: siblings may have changed
        self.index(parent_target).add(parent)
        pid = str(parent["id"])
        listed = [item for item in get_path(parent, target.mapping.children or "") or [] if isinstance(item, dict)]
        items = [embedded.listed(item) for item in listed]
        before = [dict(item) for item in items]
        at = self._locate(target, record, key, parent, listed)
        children = target.mapping.children or ""
        current = (
            next(iter(to_unified(target.mapping, {**parent, children: [listed[at]]}, timezone=self.zone)), {})
            if at is not None and op != "delete"
            else {}
        )
        wanted = to_holded(target.mapping, _with_all_parts(target.mapping, record, current), timezone=self.zone)
        unchanged = at is not None and all(same_value(v, items[at].get(k)) for k, v in wanted.items())
        locked = parent_target.rules.locked
        state = locked(parent) if locked is not None else None
        if state and not (unchanged and op != "delete"):  # an identical item is fine: nothing to write
            raise Rejected(
                f"the {parent_target.rules.noun} is {state}: Holded does not allow its {rules.noun}s to be changed"
            )

        def child_id(index: int) -> str:
            return f"{pid}:{items[index].get(embedded.own_id) if embedded.own_id else index}"

        by_position = embedded.own_id is None
        if op == "delete":
            if at is None:
                gone = f"no such {rules.noun}" if by_position else "not in Holded (already deleted)"
                return WriteResult(stream, key, op, "unchanged", reason=gone)
            holded_id = child_id(at)
            del items[at]
            status = "deleted"
        elif at is not None:
            holded_id = child_id(at)
            if not by_position:
                self.resolved[f"{stream}:{key}"] = holded_id
            if unchanged:
                return WriteResult(stream, key, op, "unchanged", holded_id=holded_id)
            items[at].update(wanted)
            status = "updated"
        else:
            if op == "update":
                where = (
                    f"no {rules.noun} at that position" if by_position else f"an update needs an existing {rules.noun}"
                )
                raise Rejected(f"not found in Holded: {where} (use upsert to create)")
            _require(rules, record)
            items.append(wanted)
            holded_id, status = child_id(len(items) - 1) if by_position else pid, "created"
        if self.dry_run:  # the list as the credential's API would be sent it (v2: `from_v1`), before and after
            old = self.channel.sent_body(parent_target.resource, {target.items: before})
            new = self.channel.sent_body(parent_target.resource, {target.items: items})
            changes = {name: [old.get(name), value] for name, value in new.items()}
            action = {"created": "create", "updated": "update", "deleted": "delete"}[status]
            return WriteResult(stream, key, op, "planned", changes=changes, action=action)
        self.channel.update(parent_target.resource, pid, {target.items: items}, current=parent)
        if status == "created" and not by_position:  # Holded gave the new item its id: read it
            fresh = self.channel.read(parent_target.resource, pid)
            self.index(parent_target).add(fresh)
            created = self._created(target, record, fresh)
            if created is not None:
                self.resolved[f"{stream}:{key}"] = holded_id = created
        else:
            self._written(parent_target, pid)
        return WriteResult(stream, key, op, status, holded_id=holded_id)

    def _locate(
        self,
        target: Target,
        record: Mapping[str, Any],
        key: str,
        parent: Mapping[str, Any],
        listed: Sequence[Mapping[str, Any]],
    ) -> int | None:
        """The index of `record`'s item in its parent's `listed` items, or None."""
        embedded = target.rules.embedded
        assert embedded is not None
        if embedded.own_id is None:  # no stable id in Holded: the item is its position
            position = _position(record)
            return position if position is not None and 0 <= position < len(listed) else None
        own = key.split(":", 1)[1] if ":" in key else None
        mapped = (self.resolved.get(f"{target.stream}:{key}") or "").rpartition(":")[2] or None
        ids = {own, mapped} - {None}
        found = next((i for i, item in enumerate(listed) if item.get(embedded.own_id) in ids), None)
        natural_key = target.rules.natural_key
        if found is None and natural_key is not None and (wanted := natural_key(record)):
            children = to_unified(target.mapping, parent, timezone=self.zone)
            found = next((i for i, child in enumerate(children) if natural_key(child) == wanted), None)
        return found

    def _created(self, target: Target, record: Mapping[str, Any], parent: Mapping[str, Any]) -> str | None:
        """The id Holded gave the item just created in `parent`: the last one with `record`'s natural key
        (the last one, for a model without one)."""
        natural_key = target.rules.natural_key
        wanted = natural_key(record) if natural_key is not None else None
        children = reversed(list(to_unified(target.mapping, parent, timezone=self.zone)))
        return next((str(c["id"]) for c in children if natural_key is None or natural_key(c) == wanted), None)


def _check(guard: Callable[[Mapping[str, Any]], str | None] | None, record: Mapping[str, Any]) -> None:
    """Run a guard of `WriteRules` (`refuse`, `matches`): its reason refuses the record."""
    reason = guard(record) if guard is not None else None
    if reason:
        raise Rejected(reason)


def _require(rules: WriteRules, record: Mapping[str, Any]) -> None:
    """A create's `WriteRules.required` fields, all filled in."""
    missing = [name for name in rules.required if record.get(name) in (None, "")]
    if missing:
        raise Rejected(f"missing required field(s) for a create: {', '.join(missing)}")


def _check_types(stream: str, record: Mapping[str, Any]) -> None:
    """The record against its unified model: a wrong type is refused here, not half-written to Holded.
    A null is no value (nothing is written for it: `to_holded`), as a column a table or a file leaves empty
    for some rows (`tags` absent from one JSON line), so it is not checked against the field's type."""
    try:
        MODELS[stream].model_validate({name: value for name, value in record.items() if value is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors(include_url=False)
        )
        raise Rejected(f"does not fit the {stream} model ({problems})") from None


def _with_all_parts(mapping: ModelMapping, record: Mapping[str, Any], base: Mapping[str, Any]) -> Mapping[str, Any]:
    """`record` with every part of a field Holded keeps as one value (a person's `firstName` and `lastName`
    are Holded's one `name`) whenever it carries some of them: the others from `base`, Holded's current
    record in its unified form (empty for a create). `to_holded` writes such a field only whole, so a
    record carrying one part (a new first name) would otherwise write nothing of it.

    Args:
        mapping: the model's mapping; record: the unified fields to write; base: the current unified record.

    Returns:
        `record`, or a copy with the missing parts (None where `base` has none).
    """
    missing = {
        name: base.get(name)
        for fld in mapping.fields
        if fld.write is not None and len(fld.names) > 1 and any(name in record for name in fld.names)
        for name in fld.names
        if name not in record
    }
    return {**record, **missing} if missing else record


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


def _position(record: Mapping[str, Any]) -> int | None:
    """An item's position in its parent's list (an `Embedded` model with no own id in Holded, such as an
    invoice line): its `position`, else the numeric tail of its id `<parent>:<n>`."""
    position = record.get("position")
    if position is None:
        key = str(record.get("id") or "")
        tail = key.rsplit(":", 1)[1] if ":" in key else ""
        position = int(tail) if tail.isdigit() else None
    return None if position is None else int(position)


def _sort_position(record: Mapping[str, Any]) -> tuple[bool, int]:
    """Lines with a position first, by position; the rest after them."""
    position = _position(record)
    return position is None, position or 0


def parent_of(stream: str, record: Mapping[str, Any]) -> tuple[str, str] | None:
    """For a record written through its parent (an `Embedded` target: a stage, a line, a contact person):
    (the parent's stream, the parent's key), taken from the record's parent field or the head of its id
    `<parent>:<child>`; None for other records."""
    target = target_of(stream, record)
    embedded = target.rules.embedded if target is not None else None
    if embedded is None:
        return None
    key = str(record.get("id") or "")
    parent = record.get(embedded.field) or (key.split(":", 1)[0] if ":" in key else None)
    return embedded.parent, str(parent or "")


class _OneByOne(Exception):
    """`apply_group`: the group is not one approved create; its records go through `apply` one by one."""
