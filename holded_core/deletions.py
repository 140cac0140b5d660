"""Deletion confirmation: a record missing from a complete listing is deleted only once Holded says so.

Holded's lists are page-numbered and unordered while data changes (shared/holded-api/README.md,
"Pagination"): a record deleted or created while a listing is read shifts the others, so one can
slide from page 2 onto page 1 after page 1 was read; and a route can answer a short or empty page
by mistake, which looks like the end of the list. Either way an id is missing from a listing that
looks complete while Holded still has it. So a missing id is only a *candidate*:

- where the listing has a route by id, each candidate is read again (its parent, for embedded
  children): 404 confirms the deletion; a record that answers stays (emitted as an update when its
  content changed); any other failure keeps it, to be looked at again next sync;
- where there is none, the candidate is held, and deleted when the next complete listing lacks it too;
- past `max_share` of a stream's known records vanishing in one pass, a few candidates are read
  first: if Holded still has any of them the listing was incomplete and none is deleted this pass;
  only when all of those are gone is every candidate confirmed one by one. Where there is no route by
  id, the listing is read once more at once, so a listing that lost records once is never the first
  of the two that confirm a deletion.

One `DeletionCheck` serves every stream fed by one listing (the streams and their change events), so
each Holded id is read at most once per sync.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from holded_core.changes import ChangeTracker
from holded_core.client import HoldedClient, in_context
from holded_core.errors import HoldedAuthError, HoldedError, HoldedNotFoundError, HoldedQuotaError
from holded_core.streams import Listing, StreamSpec

DEFAULT_MAX_SHARE = 0.2
PROBES = 5  # candidates read first when a pass lost more than the share

_GONE = object()


@dataclass
class Verdicts:
    """What Holded said of one stream's candidates (keys of the stream)."""

    present: list[tuple[str, Any]] = field(default_factory=list)  # (key, the record re-read from Holded)
    deleted: list[str] = field(default_factory=list)  # confirmed gone
    held: list[str] = field(default_factory=list)  # not confirmed: kept with their old value
    note_missing: bool = False  # held for the second-listing rule (no route by id)
    warning: str | None = None  # why records were kept, for the run's log (None: nothing to say)

    def merge(self, other: Verdicts) -> Verdicts:
        """These verdicts (keys Holded cannot read by id) with `other`'s (keys read by id)."""
        return Verdicts(
            [*self.present, *other.present],
            [*self.deleted, *other.deleted],
            [*self.held, *other.held],
            self.note_missing,
            other.warning or self.warning,
        )


class DeletionCheck:
    """Confirms one listing's deletion candidates with Holded.

    Args:
        client: the client the listing was read with (its rate budget and retries apply).
        listing: the listing whose pass just completed; its `item` route reads one record by id.
        extract: `(spec, holded_record) -> [(key, extracted)]`, the stream's records built from one
            Holded record exactly as the listing's records are (the engine's extraction).
        max_share: the share (0-1] of a stream's known records that may vanish in one pass before the
            pass is suspected of being incomplete.
        workers: reads in flight at once (the client's rate budget still paces them).
        in_scope: for a listing bounded by `start_date`, whether a record read by id is still in range
            (one whose date moved before it has left the stream: a deletion, as it always was).
        params: the listing's query parameters, for a listing read again.

    After `resolve`, `found_unlisted` tells whether Holded had records the listing missed.
    """

    def __init__(
        self,
        client: HoldedClient,
        listing: Listing,
        extract: Callable[[StreamSpec, Mapping[str, Any]], Sequence[tuple[str | None, Any]]],
        *,
        max_share: float = DEFAULT_MAX_SHARE,
        workers: int = 2,
        in_scope: Callable[[Mapping[str, Any]], bool] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.client = client
        self.listing = listing
        self.extract = extract
        self.max_share = max_share
        self.workers = max(1, workers)
        self.in_scope = in_scope
        self.params = dict(params or {})
        self.found_unlisted = False
        self._read: dict[str, Any] = {}  # Holded id -> its record, _GONE, or the HoldedError that failed it

    def resolve(self, spec: StreamSpec, tracker: ChangeTracker) -> Verdicts:
        """Holded's verdict on each key `tracker` knows but this pass did not list.

        Returns:
            `Verdicts`; the caller applies them to the tracker (`observe` for present records with the
            value it keeps, `confirm_deleted`, `hold`) and emits what they say.

        Raises:
            HoldedAuthError: the credential was refused while reading a candidate (fatal for the sync).
            HoldedQuotaError: Holded's monthly request quota ran out (fatal for the sync too).
            HoldedError: a listing read again (no route by id, past the share) failed.
        """
        missing = tracker.missing()
        if not missing:
            return Verdicts()
        total = tracker.known_count()
        share = len(missing) / total
        mass = share > self.max_share
        what = f"{len(missing)} of {total} known records ({share:.0%}) were missing from a complete listing"
        by_id = [key for key in missing if spec.holded_id(key) is not None]
        unread = [key for key in missing if spec.holded_id(key) is None]
        verdicts = Verdicts()
        if unread:
            verdicts = self._second_listing(spec, tracker, unread, relist=mass)
        if not by_id:
            if mass and verdicts.held:
                verdicts.warning = (
                    f"{what}, more than the {self.max_share:.0%} that may vanish in one pass; Holded cannot "
                    f"read them by id and a second listing lacks {len(verdicts.held)} too: they are deleted "
                    "only if the next sync's listing lacks them again"
                )
            return verdicts
        if mass:
            probes = sorted(by_id)[:PROBES]
            self._read_ids(spec, probes)
            probed = self._classify(spec, probes)
            if probed.present or probed.held:
                probed.held.extend(sorted(set(by_id) - set(probes)))
                probed.warning = (
                    f"{what}, more than the {self.max_share:.0%} that may vanish in one pass, and Holded still "
                    f"has {len(probed.present) or 'some'} of the {len(probes)} read again: the listing was "
                    f"incomplete, so none of the others is deleted (confirmed gone: {len(probed.deleted)}); "
                    "the next sync lists again"
                )
                return verdicts.merge(probed)
        self._read_ids(spec, by_id)
        read = self._classify(spec, by_id)
        if mass:
            read.warning = (
                f"{what}, more than the {self.max_share:.0%} that may vanish in one pass: each was read again by "
                f"id; Holded confirmed {len(read.deleted)} deleted"
            )
        elif read.held:
            read.warning = f"{len(read.held)} missing records could not be confirmed deleted; they are kept"
        return verdicts.merge(read)

    def _second_listing(self, spec: StreamSpec, tracker: ChangeTracker, keys: list[str], relist: bool) -> Verdicts:
        """Candidates Holded cannot read by id: deleted when the previous sync's listing lacked them too.

        `relist`: past the share, the listing is read once more now, so one listing that lost records
        (an empty page answered once) can never count as the first of two."""
        verdicts = Verdicts(note_missing=True)
        if relist:
            wanted = set(keys)
            pages = self.client.iter_pages(
                self.listing.path, self.params, pagination=self.listing.pagination, page_size=self.listing.page_size
            )
            for listed in (record for page in pages for record in page.records):
                for key, item in self.extract(spec, listed):
                    if key in wanted:
                        wanted.discard(key)
                        verdicts.present.append((key, item))
            if verdicts.present:
                self.found_unlisted = True
            keys = [key for key in keys if key in wanted]
        for key in keys:
            (verdicts.deleted if tracker.missing_before(key) else verdicts.held).append(key)
        return verdicts

    def _read_ids(self, spec: StreamSpec, keys: Sequence[str]) -> None:
        wanted = sorted({hid for key in keys if (hid := spec.holded_id(key)) is not None} - set(self._read))
        if not wanted:
            return
        workers = min(self.workers, len(wanted))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="holded-confirm") as pool:
            # Each read in the listing's context: its requests count as the listing's (HoldedClient.attributed).
            futures = [in_context(pool, self._read_one, holded_id) for holded_id in wanted]
            for holded_id, future in zip(wanted, futures, strict=True):
                self._read[holded_id] = future.result()

    def _read_one(self, holded_id: str) -> Any:
        path = self.listing.item_path(holded_id)
        assert path is not None
        try:
            record = self.client.get(path)
        except HoldedNotFoundError:
            return _GONE
        except (HoldedAuthError, HoldedQuotaError):  # the whole sync stops: not a record left unconfirmed
            raise
        except HoldedError as exc:
            return exc
        return record if isinstance(record, Mapping) else HoldedError(f"GET {path}: not a record")

    def _classify(self, spec: StreamSpec, keys: Sequence[str]) -> Verdicts:
        verdicts = Verdicts()
        built: dict[str, dict[str | None, Any]] = {}
        for key in keys:
            holded_id = spec.holded_id(key)
            result = self._read.get(holded_id) if holded_id is not None else None
            if result is _GONE:
                verdicts.deleted.append(key)
            elif isinstance(result, Mapping) and str(result.get("id")) == holded_id:
                if self.in_scope is not None and not self.in_scope(result):
                    verdicts.deleted.append(key)  # dated before start_date now: it left the stream
                    continue
                if holded_id not in built:
                    built[holded_id] = dict(self.extract(spec, result))
                item = built[holded_id].get(key)
                # Holded has the record but it no longer yields this key (a child removed from its
                # parent, a contact that changed from person to company): gone from this stream.
                if item is None:
                    verdicts.deleted.append(key)
                else:
                    verdicts.present.append((key, item))
                    self.found_unlisted = True
            else:  # failed to read, or an answer that is not the record asked for: not a confirmation
                verdicts.held.append(key)
        return verdicts
