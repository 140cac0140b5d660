"""Change detection: fingerprints, compact snapshot state, deletions and change events.

Holded v1 has no "updated since" filter and no deletion feed, so every sync lists everything and
compares each record's fingerprint with what the previous complete listing saw:

- state per stream: `{"v": 1, "snapshot": <last complete listing>, "pending": [<emitted since>]}`,
  each an encoded map id -> fingerprint (4 bytes; 12-byte binary ObjectIds make 16 bytes a record);
  pending is a list of chunks, one per checkpoint, so checkpointing after every page costs what the
  page added, not what the whole pass has emitted so far;
- a record whose fingerprint differs from the known one is emitted and recorded in `pending`, so a
  sync killed anywhere resumes by listing again and re-emits nothing it already emitted;
- ids of the known set missing from a *complete* listing are only deletion *candidates*: Holded
  confirms each (`holded_core.deletions`) before it becomes a deletion; an incomplete listing never
  produces any. A candidate Holded does not confirm stays in the snapshot with its old value. Where
  Holded has no route by id, a candidate is noted in `missing` (same encoding as the snapshot) and
  becomes a deletion when the next complete listing lacks it too.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from holded_core.errors import HoldedConfigError

STATE_VERSION = 1
FP_BYTES = 4
# Per-field hashes (changedFields): 2 bytes each, so a changed field is missed once in 65,536 changes
# (1 byte missed one in 256). A value stored in another layout (an older release's 1-byte hashes, or a
# model whose field list changed) is read as its fingerprint with its field hashes unknown (zeros): the
# record compares by the fingerprint alone and its next event has `changedFields` None, not a guess.
FIELD_HASH_BYTES = 2
# A change-events value ends with the record's version: 2 bytes counting its changes, so that a record
# going back to an earlier content (A -> B -> A -> B) gets a new event id each time rather than one a
# consumer has already seen (`event_id` hashes the stored value). Read from an older layout: version 0.
VERSION_BYTES = 2
_HEX24 = re.compile(r"[0-9a-f]{24}")


def fingerprint(record: Mapping[str, Any]) -> bytes:
    """A 4-byte content hash of a record (keys sorted, so field order does not matter)."""
    return hashlib.blake2b(orjson.dumps(record, option=orjson.OPT_SORT_KEYS), digest_size=FP_BYTES).digest()


def field_hashes(record: Mapping[str, Any], fields: Sequence[str]) -> bytes:
    """`FIELD_HASH_BYTES` per field, in `fields` order, to tell which fields changed when only hashes of
    the old version are kept (appended to the record's `fingerprint` in the change-events state)."""
    out = bytearray()
    for name in fields:
        blob = orjson.dumps(record.get(name), option=orjson.OPT_SORT_KEYS)
        out += hashlib.blake2b(blob, digest_size=FIELD_HASH_BYTES).digest()
    return bytes(out)


def events_width(fields: Sequence[str]) -> int:
    """The bytes stored per record of a model in the change-events state: fingerprint, field hashes, version."""
    return FP_BYTES + FIELD_HASH_BYTES * len(fields) + VERSION_BYTES


def _hashes_known(value: bytes, versioned: bool) -> bool:
    """Whether a stored value's field hashes are known (zeros: read from another layout, see `_fit`)."""
    return any(value[FP_BYTES : len(value) - VERSION_BYTES if versioned else len(value)])


def next_value(old: bytes | None, value: bytes, *, versioned: bool = False) -> tuple[bytes, str | None]:
    """Compare a record's content now with what the state holds for it: the value to store and the change.

    A record is unchanged when its fingerprint is (field hashes are derived from the same content; a value
    read from another layout only gains them now). With `versioned` (change events), `value` comes without
    its version and the stored one gets it: 0 for a new record, the old one's plus one for a change, the
    old one's kept when unchanged.

    Args:
        old: the stored value (None: the record is new); value: the fingerprint (+ field hashes) now.
        versioned: the values carry a version (`VERSION_BYTES`, change events).

    Returns:
        (the value to store, "created" | "updated" | None when unchanged).
    """
    if not versioned:
        if old is not None and old[:FP_BYTES] == value[:FP_BYTES]:
            return value, None
        return value, "created" if old is None else "updated"
    if old is None:
        return value + bytes(VERSION_BYTES), "created"
    version = old[-VERSION_BYTES:]
    if old[:FP_BYTES] == value[:FP_BYTES]:
        return (old if _hashes_known(old, True) else value + version), None
    bumped = ((int.from_bytes(version, "big") + 1) % (1 << (8 * VERSION_BYTES))).to_bytes(VERSION_BYTES, "big")
    return value + bumped, "updated"


# ---------------------------------------------------------------------------------- encoding


def _encode_part(part: str) -> bytes:
    if _HEX24.fullmatch(part):
        return b"\xff" + bytes.fromhex(part)
    raw = part.encode()
    if len(raw) >= 0xFF:
        raise ValueError(f"id part too long to track: {part[:40]}...")
    return bytes([len(raw)]) + raw


def encode_snapshot(entries: Mapping[str, bytes], width: int = FP_BYTES) -> dict[str, Any]:
    """Sorted, binary, zlib-compressed, base64.

    Plain 24-hex ids go first as fixed 12-byte entries (16 bytes a record with the fingerprint); other
    ids (children `parent:child`, natural keys) follow, each sharing its leading parts with the
    previous id so children of one parent store the parent once.
    """
    hex_keys = sorted(k for k in entries if _HEX24.fullmatch(k))
    other_keys = sorted(k for k in entries if not _HEX24.fullmatch(k))
    blob = bytearray()
    for key in hex_keys:
        blob += bytes.fromhex(key)
        blob += entries[key]
    previous: list[str] = []
    for key in other_keys:
        parts = key.split(":")
        shared = 0
        while shared < min(len(parts) - 1, len(previous), 255) and parts[shared] == previous[shared]:
            shared += 1
        blob.append(shared)
        blob.append(len(parts) - shared)
        for part in parts[shared:]:
            blob += _encode_part(part)
        blob += entries[key]
        previous = parts
    return {
        "fmt": "hex+parts",
        "n": len(entries),
        "nh": len(hex_keys),
        "w": width,
        "raw_bytes": len(blob),
        "data": base64.b64encode(zlib.compress(bytes(blob), 6)).decode(),
    }


def decode_snapshot(encoded: Mapping[str, Any] | None) -> dict[str, bytes]:
    if not encoded:
        return {}
    if encoded.get("fmt") != "hex+parts":
        raise ValueError(f"unknown snapshot format {encoded.get('fmt')!r}")
    blob = zlib.decompress(base64.b64decode(encoded["data"]))
    width = int(encoded["w"])
    out: dict[str, bytes] = {}
    step = 12 + width
    end = int(encoded["nh"]) * step
    for pos in range(0, end, step):
        out[blob[pos : pos + 12].hex()] = blob[pos + 12 : pos + step]
    pos = end
    previous: list[str] = []
    while pos < len(blob):
        shared, count = blob[pos], blob[pos + 1]
        pos += 2
        parts = previous[:shared]
        for _ in range(count):
            if blob[pos] == 0xFF:
                parts.append(blob[pos + 1 : pos + 13].hex())
                pos += 13
            else:
                size = blob[pos]
                parts.append(blob[pos + 1 : pos + 1 + size].decode())
                pos += 1 + size
        out[":".join(parts)] = blob[pos : pos + width]
        pos += width
        previous = parts
    return out


# ---------------------------------------------------------------------------------- tracking


class UnreadableState(HoldedConfigError):
    """Saved state that cannot be decoded: the sync stops rather than re-emit or tombstone everything."""

    def __init__(self, stream: str, why: str) -> None:
        super().__init__(
            f"the saved state of stream {stream or '?'} cannot be read ({why}); "
            "reset that stream's state (Airbyte: Refresh / Reset the stream) to sync it from scratch"
        )


@dataclass(frozen=True)
class Change:
    key: str
    kind: str  # created | updated | deleted
    old: bytes | None
    new: bytes | None


class ChangeTracker:
    """Compares one listing pass with the stream's state; knows what to emit and what was deleted."""

    def __init__(
        self,
        state: Mapping[str, Any] | None,
        width: int = FP_BYTES,
        *,
        stream: str = "",
        scope: Any = None,
        versioned: bool = False,
    ) -> None:
        """`scope`: what bounds the listing (the `start_date` of a dated one). When it differs from the
        scope the saved snapshot was listed with, ids missing now may only have left the range: this pass
        yields no deletions, and its listing becomes the new snapshot."""
        self.width = width
        self.versioned = versioned  # values end with a version (change events: `next_value`)
        self.scope = scope
        if state and state.get("v") not in (None, STATE_VERSION):
            raise UnreadableState(stream, f"state version {state.get('v')!r}, this connector writes {STATE_VERSION}")
        state = state or {}
        self.rescoped = bool(state.get("snapshot")) and state.get("scope") != scope
        self._snapshot_scope = state.get("scope")
        self._snapshot_encoded = state.get("snapshot")
        pending = state.get("pending") or []
        # Pending is kept as encoded chunks, one per checkpoint, so a checkpoint encodes only what was
        # emitted since the previous one (a single dict is the older one-chunk form).
        self._pending_chunks: list[dict[str, Any]] = [pending] if isinstance(pending, Mapping) else list(pending)
        self._unencoded: dict[str, bytes] = {}
        try:
            snapshot = self._fit(decode_snapshot(self._snapshot_encoded))
            pending_values = {k: v for chunk in self._pending_chunks for k, v in decode_snapshot(chunk).items()}
            self.pending = self._fit(pending_values)
            self._missing_before = self._fit(decode_snapshot(state.get("missing")))
        except (ValueError, KeyError, TypeError, AttributeError, zlib.error) as exc:  # binascii.Error is a ValueError
            raise UnreadableState(stream, f"{type(exc).__name__}: {exc}") from None
        self._missing_before_encoded = state.get("missing")
        self.known = {**snapshot, **self.pending}
        self.seen: dict[str, bytes] = {}
        self.resumed = bool(self.pending)
        self._gone: dict[str, bytes] = {}  # candidates Holded confirmed deleted in this pass
        self._missing_now: dict[str, bytes] = {}  # candidates held until the next listing confirms them

    def _fit(self, values: dict[str, bytes]) -> dict[str, bytes]:
        """Values stored in another layout, in this tracker's width: the fingerprint, the rest unknown."""
        for key, value in values.items():
            if len(value) != self.width:
                values[key] = value[:FP_BYTES] + bytes(self.width - FP_BYTES)
        return values

    def observe(self, key: str, value: bytes) -> Change | None:
        """A record of the current listing (its fingerprint, plus field hashes for change events: the
        version is the tracker's to add, `next_value`); the change to emit, or None when it is unchanged."""
        old = self.known.get(key)
        stored, kind = next_value(old, value, versioned=self.versioned)
        self.seen[key] = stored
        if kind is None:
            return None
        self.pending[key] = stored
        self._unencoded[key] = stored
        return Change(key, kind, old, stored)

    def keep(self, key: str) -> None:
        """A record that was listed but could not be read: it is not deleted, and keeps its old value."""
        if key in self.known:
            self.seen[key] = self.known[key]

    def missing(self) -> list[str]:
        """Known keys this pass did not list: deletion candidates, none of them deleted until confirmed.

        Only meaningful after a complete listing. Empty when the listing's scope changed (`start_date`
        moved: a record may only have left the range).
        """
        if self.rescoped:
            return []
        return [key for key in self.known if key not in self.seen]

    def missing_before(self, key: str) -> bool:
        """True when the previous complete listing lacked `key` too (the second-listing confirmation)."""
        return key in self._missing_before

    def confirm_deleted(self, key: str) -> Change:
        """Holded confirmed the candidate `key` gone: the deletion to emit."""
        old = self.known[key]
        self._gone[key] = old
        return Change(key, "deleted", old, None)

    def hold(self, key: str, *, note_missing: bool = False) -> None:
        """A candidate Holded did not confirm: it stays with its old value. `note_missing` records it for
        the second-listing rule (a later complete listing that lacks it too confirms the deletion)."""
        self.seen[key] = self.known[key]
        if note_missing:
            self._missing_now[key] = self.known[key]

    def deletions(self) -> list[Change]:
        """The deletions confirmed in this pass (see `confirm_deleted`)."""
        return [Change(key, "deleted", old, None) for key, old in self._gone.items()]

    def checkpoint(self) -> dict[str, Any]:
        """State mid-pass: the previous snapshot (unchanged) plus everything emitted so far."""
        if self._unencoded:
            self._pending_chunks.append(encode_snapshot(self._unencoded, self.width))
            self._unencoded = {}
        return {
            "v": STATE_VERSION,
            "snapshot": self._snapshot_encoded,
            "pending": list(self._pending_chunks) or None,
            **({"scope": self.snapshot_scope} if self.snapshot_scope is not None else {}),
            **({"missing": self._missing_before_encoded} if self._missing_before_encoded else {}),
        }

    @property
    def snapshot_scope(self) -> Any:
        """The scope the saved snapshot was listed with (this pass's once it completes)."""
        return self._snapshot_scope

    def complete(self) -> dict[str, Any]:
        """State after a complete listing (confirmed deletions emitted): this pass becomes the snapshot.

        A candidate that was neither confirmed deleted nor held explicitly is kept with its old value:
        nothing leaves the snapshot without Holded's confirmation.
        """
        if not self.rescoped:
            for key, old in self.known.items():
                if key not in self.seen and key not in self._gone:
                    self.seen[key] = old
        snapshot = encode_snapshot(self.seen, self.width)
        missing = encode_snapshot(self._missing_now, self.width) if self._missing_now else None
        self._snapshot_encoded, self.known, self.pending = snapshot, dict(self.seen), {}
        self._pending_chunks, self._unencoded = [], {}
        self._snapshot_scope, self.rescoped = self.scope, False
        self._missing_before, self._missing_before_encoded = dict(self._missing_now), missing
        self._gone, self._missing_now = {}, {}
        state = {"v": STATE_VERSION, "snapshot": snapshot, "pending": None}
        if missing:
            state["missing"] = missing
        return state | ({"scope": self.scope} if self.scope is not None else {})


def bytes_per_record(state: Mapping[str, Any] | None) -> float | None:
    """The compactness figure: raw (pre-compression, pre-base64) snapshot bytes per tracked record."""
    snap = (state or {}).get("snapshot") or {}
    return snap["raw_bytes"] / snap["n"] if snap.get("n") else None


# ------------------------------------------------------------------------------------ events


def event_id(model: str, key: str, kind: str, value: bytes | None) -> str:
    """Stable: the same change detected twice (e.g. after a resume) gets the same id."""
    digest = hashlib.sha256(f"{model}|{key}|{kind}|{(value or b'').hex()}".encode()).hexdigest()
    return digest[:32]


def changed_fields(old: bytes | None, new: bytes | None, fields: Sequence[str]) -> list[str] | None:
    """Fields whose hash differs; None when the previous version is not known, or was stored in
    another layout (an older connector's, or before the model's fields changed)."""
    width = events_width(fields)
    if old is None or new is None or len(old) != width or len(new) != width or not _hashes_known(old, True):
        return None
    step = FIELD_HASH_BYTES

    def part(value: bytes, i: int) -> bytes:
        return value[FP_BYTES + i * step : FP_BYTES + (i + 1) * step]

    return [name for i, name in enumerate(fields) if part(old, i) != part(new, i)]


def build_event(
    model: str, change: Change, record: Mapping[str, Any] | None, fields: Sequence[str], detected_at: str
) -> dict[str, Any]:
    return {
        "id": event_id(model, change.key, change.kind, change.new or change.old),
        "event": f"{model}::{change.kind}",
        "model": model,
        "recordId": change.key,
        "type": change.kind,
        "detectedAt": detected_at,
        "changedFields": changed_fields(change.old, change.new, fields) if change.kind == "updated" else None,
        "record": dict(record) if record is not None else None,
    }


# ------------------------------------------------------------------------- single-record edits


def known_values(state: Mapping[str, Any] | None, width: int = FP_BYTES, *, stream: str = "") -> dict[str, bytes]:
    """What a stream's state knows (its snapshot and everything emitted since), key -> stored value, in
    `width` (a value stored in another layout: its fingerprint, the rest unknown, as `ChangeTracker` reads it).

    Raises:
        UnreadableState: the state cannot be decoded.
    """
    return dict(ChangeTracker(state, width, stream=stream, scope=(state or {}).get("scope")).known)


def edited_state(
    state: Mapping[str, Any] | None,
    updates: Mapping[str, bytes | None],
    width: int = FP_BYTES,
    *,
    stream: str = "",
    scope: Any = None,
) -> dict[str, Any]:
    """A stream's state with single records set (a value) or removed (None), as a complete listing that saw
    the same would leave it, so the next listing finds them unchanged (or gone) and emits nothing for them.

    Used by the webhook receiver (`holded_core.inbound`), which reads records one by one. Everything the
    state knew is folded into its snapshot (the pending chunks of a pass killed mid-way included: they were
    emitted already); the scope and the second-listing candidates are kept (a removed key leaves those too).

    Args:
        state: the stream's saved state (None: none yet).
        updates: key -> the value now (fingerprint, plus field hashes for change events), None: deleted.
        width: bytes per stored value (`FP_BYTES`, or `events_width(fields)` for change events).
        stream: named in an error.
        scope: the scope of a state made from nothing (`start_date` of a dated listing).

    Raises:
        UnreadableState: the state cannot be decoded.
    """
    values = known_values(state, width, stream=stream)
    for key, value in updates.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    out: dict[str, Any] = {"v": STATE_VERSION, "snapshot": encode_snapshot(values, width), "pending": None}
    scope = (state or {}).get("scope", scope) if state else scope
    if scope is not None:
        out["scope"] = scope
    held = (state or {}).get("missing")
    missing = {k: v for k, v in decode_snapshot(held).items() if k not in updates} if held else {}
    if missing:
        out["missing"] = encode_snapshot(missing, int(held["w"]))
    return out
