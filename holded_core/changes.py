"""Change detection: fingerprints, compact snapshot state, deletions and change events.

Holded v1 has no "updated since" filter and no deletion feed, so every sync lists everything and
compares each record's fingerprint with what the previous complete listing saw:

- state per stream: `{"v": 1, "snapshot": <last complete listing>, "pending": [<emitted since>]}`,
  each an encoded map id -> fingerprint (4 bytes; 12-byte binary ObjectIds make 16 bytes a record);
  pending is a list of chunks, one per checkpoint, so checkpointing after every page costs what the
  page added, not what the whole pass has emitted so far;
- optionally `"raw": {"ctx": <context hash>, "map": <Holded id -> 8-byte fingerprint of the listed record
  as Holded returned it>}` and `"listed": <records Holded served in the last complete listing>`: a listed
  record whose raw fingerprint is unchanged (under the same context: mapping code, connector version,
  settings) is not mapped again, its keys carried over (`ChangeTracker.carry`); `listed` bounds the
  client's read-ahead. A state without them (an older release's) is read as before: every record mapped
  and compared once, no false change;
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
import contextlib
import hashlib
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
RAW_BYTES = 8  # a listed record's own fingerprint (`raw_fingerprint`)
_AFTER = b"\xff" * 14  # sorts after every key under a parent prefix (see `_compact`)
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


def raw_fingerprint(record: Mapping[str, Any], context: bytes = b"") -> bytes:
    """`RAW_BYTES` of a listed Holded record as Holded returned it, with `context`: what else its mapping reads
    that varies record by record (an invoice's contact being a person or a company).

    Keys are hashed in Holded's order, not sorted (sorting took about half the time a re-sync spends hashing):
    a record sent with its keys in another order only misses the shortcut, it is mapped and compared by its
    `fingerprint` (keys sorted) as any other, so it is never reported changed for that."""
    blob = orjson.dumps(record)
    return hashlib.blake2b(blob + context, digest_size=RAW_BYTES).digest()


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
    """Sorted, binary, zlib-compressed, base64 (the format: `_encode_compact`, which this is over text keys).

    Plain 24-hex ids go first as fixed 12-byte entries (16 bytes a record with the fingerprint); other
    ids (children `parent:child`, natural keys) follow, each sharing its leading parts with the
    previous id so children of one parent store the parent once.
    """
    return _encode_compact(sorted((_compact(key), value) for key, value in entries.items()), width)


def decode_snapshot(encoded: Mapping[str, Any] | None) -> dict[str, bytes]:
    """An encoded snapshot as a dict key -> value (values in the width it was stored with). One decoder
    serves both forms: this one for the small maps (`missing`, single-record edits), `_decoded_arrays` as
    it is for the trackers."""
    if not encoded:
        return {}
    keys, values = _decoded_arrays(encoded, int(encoded["w"]))
    return {_expand(bytes(key)): value.tobytes() for key, value in zip(keys, values, strict=True)}


def _compact(key: str) -> bytes:
    """A tracked key as sortable bytes: its `:`-separated parts as the snapshot encodes them (a 24-hex id in
    13 bytes), then `.`. Self-delimiting, so the keys of one listed record (`<id>`, `<id>:<child>`) sort
    together under the prefix `_compact_parent(id)`."""
    return b"".join([_encode_part(part) for part in key.split(":")]) + b"."


def _compact_parent(holded_id: str) -> bytes:
    return _encode_part(holded_id)


def _segments(compact: bytes) -> list[bytes]:
    out = []
    pos, end = 0, len(compact) - 1
    while pos < end:
        size = 13 if compact[pos] == 0xFF else 1 + compact[pos]
        out.append(compact[pos : pos + size])
        pos += size
    return out


def _expand(compact: bytes) -> str:
    """`_compact`'s key back as text."""
    return ":".join(part[1:].hex() if part[0] == 0xFF else part[1:].decode() for part in _segments(compact))


def _numpy() -> Any:
    import numpy  # imported on first use: a full refresh (no tracker) does not pay for it

    return numpy


class _Map:
    """Keys (`_compact`) -> fixed-width values as two sorted numpy arrays: about (key + width) bytes an
    entry, where a dict of str -> bytes takes ~200. Built once per pass; looked up by binary search."""

    __slots__ = ("keys", "vals", "width")

    def __init__(self, keys: Any, vals: Any, width: int) -> None:
        self.keys, self.vals, self.width = keys, vals, width

    @classmethod
    def empty(cls, width: int) -> _Map:
        np = _numpy()
        return cls(np.zeros(0, dtype="S1"), np.zeros((0, width), dtype=np.uint8), width)

    @classmethod
    def build(cls, parts: Sequence[tuple[Any, Any]], width: int) -> _Map:
        """From (keys, values) arrays; a key in a later part wins over the same key in an earlier one."""
        np = _numpy()
        parts = [(k, v) for k, v in parts if len(k)]
        if not parts:
            return cls.empty(width)
        keys = np.concatenate([k for k, _ in parts]) if len(parts) > 1 else parts[0][0]
        vals = np.concatenate([v for _, v in parts]) if len(parts) > 1 else parts[0][1]
        order = np.argsort(keys, kind="stable")
        keys, vals = keys[order], vals[order]
        last = np.ones(len(keys), dtype=bool)
        last[:-1] = keys[1:] != keys[:-1]
        if not last.all():
            keys, vals = keys[last], vals[last]
        return cls(keys, np.ascontiguousarray(vals), width)

    @classmethod
    def decode(cls, encoded: Mapping[str, Any] | None, width: int) -> _Map:
        """An encoded snapshot (`encode_snapshot`) as a map, its values fitted to `width` (another layout:
        the fingerprint kept, the field hashes unknown: zeros)."""
        return cls.build([_decoded_arrays(encoded, width)], width) if encoded else cls.empty(width)

    def __len__(self) -> int:
        return len(self.keys)

    def find(self, compact: bytes) -> int:
        """The position of `compact`, or -1."""
        keys = self.keys
        if not len(keys) or len(compact) > keys.itemsize:
            return -1
        i = int(keys.searchsorted(compact))
        return i if i < len(keys) and keys[i] == compact else -1

    def value(self, i: int) -> bytes:
        return self.vals[i].tobytes()

    def items(self, mask: Any = None) -> Iterator[tuple[bytes, bytes]]:
        keys, vals = (self.keys, self.vals) if mask is None else (self.keys[mask], self.vals[mask])
        blob = vals.tobytes()
        w = self.width
        for i, key in enumerate(keys.tolist()):
            yield key, blob[i * w : (i + 1) * w]

    def encode(self, mask: Any = None) -> dict[str, Any]:
        return _encode_compact(self.items(mask), self.width)


def _ranges(starts: Any, ends: Any) -> Any:
    """The positions in [start, end) for each pair, as one array: O(positions), where marking a whole
    array (a cumulative sum over every known key) cost O(known keys) for each page."""
    np = _numpy()
    lengths = ends - starts
    total = int(lengths.sum())
    if total <= 0:
        return np.zeros(0, dtype=np.intp)
    # Each position is its range's start plus its offset in the range: a running count reset at each range.
    offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + offsets


def _arrays(keys: list[bytes], values: bytes | bytearray, width: int) -> tuple[Any, Any]:
    np = _numpy()
    karr = np.array(keys, dtype=f"S{max(map(len, keys))}") if keys else np.zeros(0, dtype="S1")
    varr = np.frombuffer(bytes(values), dtype=np.uint8).reshape(len(keys), width)
    return karr, varr


def _decoded_arrays(encoded: Mapping[str, Any], width: int) -> tuple[Any, Any]:
    """An encoded snapshot's (keys, values) arrays, without a dict: plain ids sliced from the blob at once."""
    np = _numpy()
    if encoded.get("fmt") != "hex+parts":
        raise ValueError(f"unknown snapshot format {encoded.get('fmt')!r}")
    blob = zlib.decompress(base64.b64decode(encoded["data"]))
    stored = int(encoded["w"])
    nh = int(encoded["nh"])
    step = 12 + stored
    end = nh * step
    fixed = np.frombuffer(blob, dtype=np.uint8, count=end).reshape(nh, step)
    hex_keys = np.empty((nh, 14), dtype=np.uint8)
    hex_keys[:, 0] = 0xFF
    hex_keys[:, 1:13] = fixed[:, :12]
    hex_keys[:, 13] = ord(".")
    keys: list[bytes] = []
    values = bytearray()
    pos = end
    previous: list[bytes] = []
    while pos < len(blob):
        shared, count = blob[pos], blob[pos + 1]
        pos += 2
        parts = previous[:shared]
        for _ in range(count):
            size = 13 if blob[pos] == 0xFF else 1 + blob[pos]
            parts.append(blob[pos : pos + size])
            pos += size
        keys.append(b"".join(parts) + b".")
        values += blob[pos : pos + stored]
        pos += stored
        previous = parts
    other_keys, other_vals = _arrays(keys, values, stored)
    hex_arr = hex_keys.view("S14").reshape(nh)
    all_keys = np.concatenate([hex_arr, other_keys]) if len(other_keys) else hex_arr
    all_vals = np.concatenate([fixed[:, 12:], other_vals]) if len(other_keys) else fixed[:, 12:]
    if stored != width:  # another layout: the fingerprint, the field hashes unknown (see `_fit`)
        fitted = np.zeros((len(all_keys), width), dtype=np.uint8)
        fitted[:, : min(FP_BYTES, stored, width)] = all_vals[:, : min(FP_BYTES, stored, width)]
        all_vals = fitted
    return all_keys, all_vals


def _encode_compact(items: Iterable[tuple[bytes, bytes]], width: int) -> dict[str, Any]:
    """`encode_snapshot`'s format from (`_compact` key, value) pairs in key order."""
    plain = bytearray()
    other = bytearray()
    n = nh = 0
    previous: list[bytes] = []
    for key, value in items:
        n += 1
        if len(key) == 14 and key[0] == 0xFF:
            plain += key[1:13]
            plain += value
            nh += 1
            continue
        parts = _segments(key)
        shared = 0
        while shared < min(len(parts) - 1, len(previous), 255) and parts[shared] == previous[shared]:
            shared += 1
        other.append(shared)
        other.append(len(parts) - shared)
        for part in parts[shared:]:
            other += part
        other += value
        previous = parts
    blob = bytes(plain + other)
    return {
        "fmt": "hex+parts",
        "n": n,
        "nh": nh,
        "w": width,
        "raw_bytes": len(blob),
        "data": base64.b64encode(zlib.compress(blob, 6)).decode(),
    }


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
    """Compares one listing pass with the stream's state; knows what to emit and what was deleted.

    In memory the known values are two sorted numpy arrays (`_Map`, about key + value bytes a record), and
    what this pass changed is kept in the same compact form per checkpoint, so a tracker of an account of
    hundreds of thousands of records takes megabytes, not the hundreds a dict of them would.

    Listed records' own fingerprints (`raw`, optional): with a `raw_context` (what else the stream's mapping
    reads: the mapping code, the config, the dialect), the state also keeps, per listed Holded record, a
    fingerprint of the record as Holded returned it (`raw_fingerprint`). A record whose raw fingerprint is
    the one the last complete pass kept is unchanged with everything derived from it: `carry` marks its
    keys (`<id>`, `<id>:<child>`) seen with their stored values and the caller never maps it. A record that
    changed is mapped and compared as before, then `note_raw` keeps its new raw fingerprint. A state without
    `raw`, or kept under another context (another connector version, mapping or setting), carries nothing:
    every record is mapped and compared once, so a changed mapping never leaves stale rows and an older
    state reports no false change.
    """

    def __init__(
        self,
        state: Mapping[str, Any] | None,
        width: int = FP_BYTES,
        *,
        stream: str = "",
        scope: Any = None,
        versioned: bool = False,
        raw_context: str | None = None,
    ) -> None:
        """`scope`: what bounds the listing (the `start_date` of a dated one). When it differs from the
        scope the saved snapshot was listed with, ids missing now may only have left the range: this pass
        yields no deletions, and its listing becomes the new snapshot. `raw_context`: see the class; None:
        no raw fingerprints (native and custom streams, whose records are Holded's own)."""
        self.width = width
        self.versioned = versioned  # values end with a version (change events: `next_value`)
        self.scope = scope
        self.raw_context = raw_context
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
        raw = state.get("raw") if isinstance(state.get("raw"), Mapping) else None
        trusted = raw is not None and raw_context is not None and raw.get("ctx") == raw_context
        self._raw_encoded = raw if trusted else None
        try:
            parts = [_decoded_arrays(self._snapshot_encoded, width)] if self._snapshot_encoded else []
            parts += [_decoded_arrays(chunk, width) for chunk in self._pending_chunks if chunk]
            self._known = _Map.build(parts, width)
            self.resumed = any(chunk.get("n") for chunk in self._pending_chunks if chunk)
            self._missing_before = self._fit(decode_snapshot(state.get("missing")))
            self._raw = _Map.decode(self._raw_encoded["map"], RAW_BYTES) if self._raw_encoded else _Map.empty(RAW_BYTES)
        except (ValueError, KeyError, TypeError, AttributeError, zlib.error) as exc:  # binascii.Error is a ValueError
            raise UnreadableState(stream, f"{type(exc).__name__}: {exc}") from None
        self._missing_before_encoded = state.get("missing")
        # How many records Holded served in the last complete listing (the client's read-ahead stops at
        # the page they fill); `listed` is set by the engine for this pass, kept by `complete`.
        self.listed_before: int | None = state.get("listed") if isinstance(state.get("listed"), int) else None
        self.listed: int | None = None
        self._reset_pass()

    def _reset_pass(self) -> None:
        np = _numpy()
        self._seen = np.zeros(len(self._known), dtype=bool)  # known records listed (or kept) in this pass
        self._raw_seen = np.zeros(len(self._raw), dtype=bool)  # raw fingerprints carried over unchanged
        self._changed: list[tuple[Any, Any]] = []  # (keys, values) arrays per checkpoint: what this pass changed
        self._new_keys: list[bytes] = []  # changed since the last checkpoint, not yet in `_changed`
        self._new_values = bytearray()
        self._raw_keys: list[bytes] = []  # raw fingerprints noted this pass (records mapped anew)
        self._raw_values = bytearray()
        self._raw_dropped: set[bytes] = set()  # listed records whose keys were held, kept or read again
        self._gone: dict[str, bytes] = {}  # candidates Holded confirmed deleted in this pass
        self._missing_now: dict[str, bytes] = {}  # candidates held until the next listing confirms them

    def _fit(self, values: dict[str, bytes]) -> dict[str, bytes]:
        """Values stored in another layout, in this tracker's width: the fingerprint, the rest unknown."""
        for key, value in values.items():
            if len(value) != self.width:
                values[key] = value[:FP_BYTES] + bytes(self.width - FP_BYTES)
        return values

    @property
    def known(self) -> dict[str, bytes]:
        """Everything the state knew at the start of the pass, key -> value (built on each call: for
        single-record edits and tests; the tracker itself never builds it)."""
        return {_expand(key): value for key, value in self._known.items()}

    def known_count(self) -> int:
        """How many records the state knew at the start of the pass."""
        return len(self._known)

    def _record(self, compact: bytes, value: bytes) -> None:
        self._new_keys.append(compact)
        self._new_values += value

    def observe(self, key: str, value: bytes) -> Change | None:
        """A record of the current listing (its fingerprint, plus field hashes for change events: the
        version is the tracker's to add, `next_value`); the change to emit, or None when it is unchanged."""
        compact = _compact(key)
        i = self._known.find(compact)
        old = None
        if i >= 0:
            self._seen[i] = True
            old = self._known.value(i)
        stored, kind = next_value(old, value, versioned=self.versioned)
        if stored != old:  # a change, or the same record stored anew (its field hashes known now)
            self._record(compact, stored)
        return None if kind is None else Change(key, kind, old, stored)

    # --- raw fingerprints --------------------------------------------------------------------

    def carry(self, holded_ids: Sequence[str | None], raws: Sequence[bytes | None]) -> list[bool]:
        """For each listed record (its Holded id, its `raw_fingerprint`), whether it is unchanged since the
        last complete pass: then its keys are seen with their stored values, and it need not be mapped."""
        np = _numpy()
        out = [False] * len(holded_ids)
        if not len(self._raw) or not len(self._known):
            return out
        rows = [i for i, (hid, raw) in enumerate(zip(holded_ids, raws, strict=True)) if hid and raw is not None]
        if not rows:
            return out
        try:
            prefixes = [_compact_parent(str(holded_ids[i])) for i in rows]
        except ValueError:  # an id too long to track: such records are always mapped
            return out
        wanted = np.array([p + b"." for p in prefixes])
        at = self._raw.keys.searchsorted(wanted)
        at_safe = np.minimum(at, len(self._raw) - 1)
        fresh = np.frombuffer(b"".join(raws[i] for i in rows), dtype=np.uint8).reshape(len(rows), RAW_BYTES)  # type: ignore[misc]
        same = (self._raw.keys[at_safe] == wanted) & (self._raw.vals[at_safe] == fresh).all(axis=1)
        if not same.any():
            return out
        self._raw_seen[at_safe[same]] = True
        low = np.array([p for p, s in zip(prefixes, same, strict=True) if s])
        high = np.array([p + _AFTER for p, s in zip(prefixes, same, strict=True) if s])
        keys = self._known.keys
        starts, ends = keys.searchsorted(low), keys.searchsorted(high)
        self._seen[_ranges(starts, ends)] = True
        for row, s in zip(rows, same, strict=True):
            if s:
                out[row] = True
        return out

    def note_raw(self, holded_id: Any, raw: bytes | None) -> None:
        """The raw fingerprint of a listed record mapped anew in this pass (one that fit its model)."""
        if self.raw_context is None or not holded_id or raw is None:
            return
        with contextlib.suppress(ValueError):
            self._raw_keys.append(_compact_parent(str(holded_id)) + b".")
            self._raw_values += raw

    def _drop_raw(self, key: str) -> None:
        """`key`'s listed record is mapped again next pass (its key was held, kept or read again)."""
        with contextlib.suppress(ValueError):
            self._raw_dropped.add(_compact_parent(key.split(":", 1)[0]) + b".")

    # --- deletions ---------------------------------------------------------------------------

    def keep(self, key: str) -> None:
        """A record that was listed but could not be read: it is not deleted, and keeps its old value."""
        i = self._known.find(_compact(key))
        if i >= 0:
            self._seen[i] = True
        self._drop_raw(key)

    def missing(self) -> list[str]:
        """Known keys this pass did not list: deletion candidates, none of them deleted until confirmed.

        Only meaningful after a complete listing. Empty when the listing's scope changed (`start_date`
        moved: a record may only have left the range).
        """
        if self.rescoped or self._seen.all():
            return []
        return [_expand(key) for key in self._known.keys[~self._seen].tolist()]

    def missing_before(self, key: str) -> bool:
        """True when the previous complete listing lacked `key` too (the second-listing confirmation)."""
        return key in self._missing_before

    def confirm_deleted(self, key: str) -> Change:
        """Holded confirmed the candidate `key` gone: the deletion to emit."""
        old = self._known.value(self._known.find(_compact(key)))
        self._gone[key] = old
        self._drop_raw(key)
        return Change(key, "deleted", old, None)

    def hold(self, key: str, *, note_missing: bool = False) -> None:
        """A candidate Holded did not confirm: it stays with its old value. `note_missing` records it for
        the second-listing rule (a later complete listing that lacks it too confirms the deletion)."""
        i = self._known.find(_compact(key))
        self._seen[i] = True
        self._drop_raw(key)
        if note_missing:
            self._missing_now[key] = self._known.value(i)

    def deletions(self) -> list[Change]:
        """The deletions confirmed in this pass (see `confirm_deleted`)."""
        return [Change(key, "deleted", old, None) for key, old in self._gone.items()]

    # --- state -------------------------------------------------------------------------------

    def _flush_new(self) -> tuple[Any, Any] | None:
        if not self._new_keys:
            return None
        part = _arrays(self._new_keys, self._new_values, self.width)
        self._changed.append(part)
        self._new_keys, self._new_values = [], bytearray()
        return part

    def checkpoint(self) -> dict[str, Any]:
        """State mid-pass: the previous snapshot (unchanged) plus everything emitted so far."""
        part = self._flush_new()
        if part is not None:
            self._pending_chunks.append(_Map.build([part], self.width).encode())
        return {
            "v": STATE_VERSION,
            "snapshot": self._snapshot_encoded,
            "pending": list(self._pending_chunks) or None,
            **({"scope": self.snapshot_scope} if self.snapshot_scope is not None else {}),
            **({"missing": self._missing_before_encoded} if self._missing_before_encoded else {}),
            **({"raw": self._raw_encoded} if self._raw_encoded else {}),
            **({"listed": self.listed_before} if self.listed_before is not None else {}),
        }

    @property
    def snapshot_scope(self) -> Any:
        """The scope the saved snapshot was listed with (this pass's once it completes)."""
        return self._snapshot_scope

    def _unchanged(self) -> bool:
        """This pass left the saved snapshot as it was: nothing changed, gone or pending, same scope and width."""
        saved = self._snapshot_encoded
        return (
            isinstance(saved, Mapping)
            and saved.get("w") == self.width
            and not self._changed
            and not self._gone
            and not self._pending_chunks
            and not self.rescoped
        )

    def _raw_unchanged(self) -> bool:
        """Every saved raw fingerprint was carried over and none was added or dropped this pass."""
        return (
            self._raw_encoded is not None
            and bool(self._raw_seen.all())
            and not self._raw_keys
            and not self._raw_dropped
        )

    def complete(self) -> dict[str, Any]:
        """State after a complete listing (confirmed deletions emitted): this pass becomes the snapshot.

        A candidate that was neither confirmed deleted nor held explicitly is kept with its old value:
        nothing leaves the snapshot without Holded's confirmation.
        """
        np = _numpy()
        self._flush_new()
        known = self._known
        if self._unchanged():  # the snapshot as saved (re-encoding it would give the same text, at a cost)
            final, snapshot = known, self._snapshot_encoded
        else:
            kept = self._seen.copy()
            if not self.rescoped:
                kept[:] = True
                for key in self._gone:
                    kept[known.find(_compact(key))] = False
            final = _Map.build([(known.keys[kept], known.vals[kept]), *self._changed], self.width)
            snapshot = final.encode()
        raw_state = None
        if self.raw_context is not None and self._raw_unchanged():
            raw_state = self._raw_encoded
        elif self.raw_context is not None:
            fresh = _arrays(self._raw_keys, self._raw_values, RAW_BYTES)
            raw = _Map.build([(self._raw.keys[self._raw_seen], self._raw.vals[self._raw_seen]), fresh], RAW_BYTES)
            if self._raw_dropped and len(raw):
                dropped = np.array(sorted(self._raw_dropped))
                keep = ~np.isin(raw.keys, dropped)
                raw = _Map(raw.keys[keep], raw.vals[keep], RAW_BYTES)
            raw_state = {"ctx": self.raw_context, "map": raw.encode()}
            self._raw = raw
        missing = encode_snapshot(self._missing_now, self.width) if self._missing_now else None
        self._snapshot_encoded, self._known = snapshot, final
        self._raw_encoded = raw_state
        self._pending_chunks = []
        self.resumed = False
        self._snapshot_scope, self.rescoped = self.scope, False
        self._missing_before, self._missing_before_encoded = dict(self._missing_now), missing
        self._reset_pass()
        state: dict[str, Any] = {"v": STATE_VERSION, "snapshot": snapshot, "pending": None}
        if missing:
            state["missing"] = missing
        if raw_state is not None:
            state["raw"] = raw_state
        if self.listed is not None:
            state["listed"] = self.listed_before = self.listed
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
    raw = (state or {}).get("raw")
    if isinstance(raw, Mapping) and raw.get("map"):  # the records edited are mapped again at the next listing
        touched = {key.split(":", 1)[0] for key in updates}
        kept = {k: v for k, v in decode_snapshot(raw["map"]).items() if k not in touched}
        out["raw"] = {"ctx": raw.get("ctx"), "map": encode_snapshot(kept, RAW_BYTES)}
    held = (state or {}).get("missing")
    missing = {k: v for k, v in decode_snapshot(held).items() if k not in updates} if held else {}
    if missing:
        out["missing"] = encode_snapshot(missing, int(held["w"]))
    return out
