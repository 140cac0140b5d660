"""Thread-safe in-memory collections with ObjectId-like ids and a per-record JSON cache.

Records are plain dicts. Keys starting with "_" are internal (never served by v1), at the top level
and in the objects of a list field (a document line's `_lineId`). Each record's JSON bytes are
cached on first read and dropped on write, so a page of 500 is a byte join.

Change observation: `Store.observer` (None unless a webhook is registered) is told of every
`save` (with whether the id already existed) and every `delete` that removed a record, under the
store lock and after the change. With no observer the cost is one attribute read per write. Bulk
rewrites (`replace_all`, `clear`) and anything inside `unobserved()` are not reported; the observer
is re-synchronised (`resync`) when `unobserved()` ends.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

Record = dict[str, Any]

_counter = itertools.count()  # from 0 (MongoDB starts at random): a wrap would break ascending order
_PROCESS = int.from_bytes(os.urandom(5), "big")  # like MongoDB: random per process, so ids ascend as made


def object_id(ts: int | None = None, rng: random.Random | None = None) -> str:
    """24-hex MongoDB-style id: 4-byte timestamp + 5 bytes random per process + 3-byte counter.

    Ids made by one process ascend in creation order (API v2 pages in ascending id). With `rng` the id
    is a pure function of (ts, rng state): seeded data stays deterministic.
    """
    ts = int(time.time()) if ts is None else ts
    if rng is not None:
        return f"{ts & 0xFFFFFFFF:08x}{rng.getrandbits(64):016x}"
    return f"{ts & 0xFFFFFFFF:08x}{_PROCESS:010x}{next(_counter) & 0xFFFFFF:06x}"


def public(record: Record) -> Record:
    """The record as v1 serves it: internal keys ("_...") dropped, also inside the objects of a list field."""
    out = {}
    for key, value in record.items():
        if key.startswith("_"):
            continue
        if isinstance(value, list) and value and isinstance(value[0], dict) and any(k[:1] == "_" for k in value[0]):
            value = [{k: v for k, v in item.items() if not k.startswith("_")} for item in value]
        out[key] = value
    return out


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def content_hash(record: Record) -> str:
    """Holded-like `updatedHash`: changes whenever the record's content changes."""
    body = {k: v for k, v in record.items() if not k.startswith("_") and k not in ("updatedHash", "updatedAt")}
    return hashlib.md5(dumps(body)).hexdigest()


class ChangeObserver(Protocol):
    """Told of each record write; runs under the store lock, so it must be quick and never block."""

    def saved(self, name: str, record: Record, existed: bool) -> None:
        """`record` was saved in collection `name`; `existed`: its id was already there (an update)."""

    def deleted(self, name: str, record: Record) -> None:
        """`record` (as it was) was removed from collection `name`."""

    def resync(self, store: Store) -> None:
        """The data changed without being reported (reseed, fill): rebuild any state kept about it."""


class Collection:
    __slots__ = ("_cache", "name", "records")

    def __init__(self, name: str) -> None:
        self.name = name
        self.records: dict[str, Record] = {}
        self._cache: dict[str, bytes] = {}


class Store:
    """All collections behind one re-entrant lock (handlers run under it, see server.App)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._colls: dict[str, Collection] = {}
        self.version = 0  # bumped on every write; derived views (ledger) cache on it
        self.observer: ChangeObserver | None = None  # set only while a webhook is registered

    def coll(self, name: str) -> Collection:
        with self.lock:
            found = self._colls.get(name)
            if found is None:
                found = self._colls[name] = Collection(name)
            return found

    def names(self) -> list[str]:
        return list(self._colls)

    def all(self, name: str) -> list[Record]:
        with self.lock:
            return list(self.coll(name).records.values())

    def get(self, name: str, rid: str) -> Record | None:
        return self.coll(name).records.get(rid)

    def save(self, name: str, record: Record) -> Record:
        """Insert or replace (after an in-place change) and drop its cached bytes."""
        with self.lock:
            coll = self.coll(name)
            observer = self.observer
            existed = observer is not None and record["id"] in coll.records
            coll.records[record["id"]] = record
            coll._cache.pop(record["id"], None)
            self.version += 1
            if observer is not None:
                observer.saved(name, record, existed)
            return record

    def delete(self, name: str, rid: str) -> Record | None:
        with self.lock:
            coll = self.coll(name)
            coll._cache.pop(rid, None)
            self.version += 1
            removed = coll.records.pop(rid, None)
            if removed is not None and self.observer is not None:
                self.observer.deleted(name, removed)
            return removed

    @contextmanager
    def unobserved(self) -> Iterator[None]:
        """Writes inside the block are not reported (seeding, fills); the observer resyncs after it."""
        with self.lock:
            observer, self.observer = self.observer, None
            try:
                yield
            finally:
                self.observer = observer
                if observer is not None:
                    observer.resync(self)

    def replace_all(self, name: str, records: Iterable[Record]) -> None:
        with self.lock:
            coll = self.coll(name)
            coll.records = {r["id"]: r for r in records}
            coll._cache = {}
            self.version += 1

    def clear(self) -> None:
        with self.lock:
            self._colls = {}
            self.version += 1

    def encoded(self, name: str, record: Record) -> bytes:
        coll = self.coll(name)
        cached = coll._cache.get(record["id"])
        if cached is None:
            cached = coll._cache[record["id"]] = dumps(public(record))
        return cached

    def array_bytes(self, name: str, records: Iterable[Record]) -> bytes:
        return b"[" + b",".join(self.encoded(name, r) for r in records) + b"]"

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {name: len(c.records) for name, c in self._colls.items()}
