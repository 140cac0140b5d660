"""The writer's one door to Holded, whichever API dialect the credential speaks.

`WriteChannel(client, dialect, zone)` reads and writes a resource by its name (`contacts`, `invoices`,
`leads`...) and speaks Holded's v1 record and body shapes both ways, so the writer
(`holded_core.writes`) and the mappings it runs are written once, for every dialect:

- reads (`records`, `read`, `lookup`) answer records in v1's shape: the dialect's `to_v1` (the same
  translation the sync engine applies) turns a v2 record into v1's;
- writes (`create`, `update`, `delete`, `approve`) take Holded's v1 write body and send the dialect's:
  its `from_v1` translates it (v1's rows have none: the body goes as it is).

Everything a dialect does differently is data on its `Resource` rows (`holded_core.dialects`), never a
branch here:
- `replace`: the resource's `PUT` resets what it is not sent (v2 contacts and invoices: shared/holded-api/
  v2/README.md, "Writes"), so an update reads Holded's current record, turns it into the whole body that
  keeps it (`replace`), lays the changed fields over it (objects merged key by key, custom fields by
  field name, lists such as an invoice's items replaced) and sends the whole; fields the body does not
  carry (a contact's notes and tags) are Holded's to keep. A writer that has just read the record
  (`read` answers a `Read`) passes it to `update`, which then does not read it again. This
  read-modify-write is **not atomic**: Holded offers no conditional write (no ETag / `If-Match` in
  shared/holded-api/v2/README.md or endpoints.md), so an edit made in Holded to the same record between
  the read and the `PUT` is overwritten by the `PUT`. Users are told in
  docs/integrations/destinations/holded.md, section "API v2";
- `routes`: fields an update moves through a sub-route, alone (a lead's stage: v1 `PUT .../stages
  {stageId}`, v2 `PUT .../stage {stage_id}`);
- `approve`: the route approving an existing draft (v2 `POST /invoices/{id}/approve`); without it a
  document is approved only as it is created (v1's `approveDoc`);
- `filters`: exact list filters by a v1 field (a contact's `customId`: v1 `?customId=`, v2
  `?custom_id=`), used to look a record up again after a lost create answer;
- `unwritable`: v1 body fields the dialect's writes do not take; they are dropped from every body sent
  (the writer notes them to the user, see `Writer._diff`).

Every text sent is in Unicode's composed form (NFC, `holded_core.identity.nfc`). Nothing is retried
here: the client retries what is safe and raises `HoldedAmbiguousWriteError` for a create whose answer
was lost (the writer looks again before creating again).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from holded_core.client import HoldedClient
from holded_core.dialects import Dialect, Resource
from holded_core.identity import nfc


class Read(dict[str, Any]):
    """A record `WriteChannel.read` answered: the dict is its v1 shape (what the writer works on), `served`
    the record as the dialect served it (what a full-replace update rebuilds its body from).

    Args:
        v1: the record in v1's shape; served: the record as Holded's API answered it.
    """

    def __init__(self, v1: Mapping[str, Any], served: Mapping[str, Any]) -> None:
        super().__init__(v1)
        self.served = served


class WriteChannel:
    """Reads and writes of named Holded resources, in v1's shapes, through one dialect.

    Args:
        client: the account's Holded client (its credential speaks `dialect`).
        dialect: the API the credential speaks (`holded_core.dialects.dialect_named(...)`).
        zone: the account's zone: calendar days are read and sent as days there.
    """

    def __init__(self, client: HoldedClient, dialect: Dialect, zone: ZoneInfo) -> None:
        self.client = client
        self.dialect = dialect
        self.zone = zone

    @property
    def name(self) -> str:
        """The dialect's name (`v1`, `v2`), for messages."""
        return self.dialect.name

    def resource(self, name: str) -> Resource:
        """The dialect's row for `name` (KeyError naming both when it has none)."""
        return self.dialect.resource(name)

    # ------------------------------------------------------------------------------ reads

    def records(self, name: str) -> Iterator[dict[str, Any]]:
        """Every record of the resource's listing, each in v1's shape (pages as the dialect pages them).

        Raises:
            HoldedError: the listing failed (see `HoldedClient.iter_pages`).
        """
        res = self.resource(name)
        listing = res.listing
        for record in self.client.iter_records(res.path, pagination=res.pagination, page_size=res.page_size):
            yield dict(listing.as_v1(record, self.zone))

    def read(self, name: str, rid: str) -> Read:
        """One record by id, in v1's shape.

        Returns:
            The record (a `Read`: a dict in v1's shape that also keeps the record as served, so that an
            `update` made right after can be given it instead of reading it again).

        Raises:
            HoldedNotFoundError: Holded has no such record; HoldedError: any other failure.
        """
        res = self.resource(name)
        served = self.client.get(self._item(res, rid))
        return Read(res.listing.as_v1(served, self.zone), served)

    def lookup(self, name: str, field: str, value: Any) -> list[dict[str, Any]] | None:
        """The records whose v1 `field` is exactly `value`, through the dialect's list filter on it.

        Returns:
            The matches in v1's shape, or None when the dialect has no exact filter on `field`.
        """
        res = self.resource(name)
        param = dict(res.filters).get(field)
        if param is None:
            return None
        found = self.client.iter_records(
            res.path, {param: nfc(value)}, pagination=res.pagination, page_size=res.page_size
        )
        return [dict(res.listing.as_v1(record, self.zone)) for record in found]

    def unwritable(self, name: str) -> frozenset[str]:
        """The v1 body fields the dialect's writes of `name` do not take (dropped from every body)."""
        return frozenset(self.resource(name).unwritable)

    def approves_drafts(self, name: str) -> bool:
        """Whether the dialect approves an existing draft of `name` (else only a create approves)."""
        return self.resource(name).approve is not None

    def sent_body(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """The body the dialect sends for Holded's v1 write `body` of `name`, as `create` sends it (the
        dialect's unwritable fields dropped, its `from_v1` translation applied, texts NFC): what a dry run
        shows as the plan.

        Args:
            name: the resource (`contacts`, `invoices`...); body: Holded's v1 write body.

        Returns:
            The dialect's body (v1's as it is, v2's in snake_case with its own names and shapes).
        """
        return self._body(self.resource(name), body)

    # ----------------------------------------------------------------------------- writes

    def create(self, name: str, body: Mapping[str, Any]) -> str:
        """`POST` a new record from Holded's v1 write `body`; returns the id Holded gave it.

        Raises:
            HoldedAmbiguousWriteError: the answer was lost after sending (it may have been created).
            HoldedError: Holded refused it (its own message in `holded_message`).
        """
        res = self.resource(name)
        answer = self.client.request("POST", res.path, json=self._body(res, body))
        return str(answer["id"])

    def update(self, name: str, rid: str, body: Mapping[str, Any], current: Read | None = None) -> None:
        """Change the record `rid` by Holded's v1 write `body` (the fields to change).

        Fields the dialect moves through a sub-route are sent there, one request each, after the rest. On
        a resource whose `PUT` is a full replace, the rest is laid over the whole body of Holded's current
        record: `current` when the caller has just read it (`read`), else read here, just before. Either
        way the read and the `PUT` are two requests, not one atomic change: Holded has no ETag /
        `If-Match`, so an edit made in Holded to this record between them is overwritten (see the module
        docstring). Pass only a record read for this very update, never one kept from earlier.

        Args:
            name: the resource; rid: the record's Holded id; body: the v1 fields to change.
            current: Holded's record `rid` as `read` answered it just before (saves one `GET`), or None.

        Raises:
            ValueError: `current` is another record than `rid`.
            HoldedError: Holded refused the change or the record is gone.
        """
        res = self.resource(name)
        routes = dict(res.routes)
        rest = {k: v for k, v in body.items() if k not in routes and k not in res.unwritable}
        routed = {k: v for k, v in body.items() if k in routes}
        if current is not None and str(current.served.get("id", rid)) != str(rid):
            raise ValueError(f"the current record given is {current.served.get('id')!r}, not {rid!r}")
        if rest:
            sent = self._body(res, rest)
            if res.replace is not None:
                served = current.served if current is not None else self.client.get(self._item(res, rid))
                sent = nfc(_overlay(res.replace(served), sent))
            self.client.request("PUT", self._item(res, rid), json=sent)
        for field, value in routed.items():
            self.client.request("PUT", f"{self._item(res, rid)}/{routes[field]}", json=self._body(res, {field: value}))

    def delete(self, name: str, rid: str) -> None:
        """`DELETE` the record `rid`.

        Raises:
            HoldedNotFoundError: it is already gone; HoldedError: Holded refused.
        """
        self.client.request("DELETE", self._item(self.resource(name), rid))

    def approve(self, name: str, rid: str) -> None:
        """Approve the existing draft `rid` through the dialect's approve route.

        Raises:
            ValueError: the dialect has none (`approves_drafts` is False); HoldedError: Holded refused.
        """
        res = self.resource(name)
        if res.approve is None:
            raise ValueError(f"Holded API {self.name} approves no existing {name} draft")
        self.client.request("POST", f"{self._item(res, rid)}/{res.approve}", json={})

    # ---------------------------------------------------------------------------- helpers

    def _body(self, res: Resource, body: Mapping[str, Any]) -> dict[str, Any]:
        """The dialect's body for Holded's v1 write `body`: unwritable fields dropped, translated, NFC."""
        kept = {k: v for k, v in body.items() if k not in res.unwritable}
        return nfc(res.from_v1(kept, self.zone) if res.from_v1 is not None else kept)

    @staticmethod
    def _item(res: Resource, rid: str) -> str:
        return f"{res.path}/{rid}"


def _overlay(whole: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """`changes` laid over the whole body `whole`: objects merged key by key (a bill address keeps the keys
    not sent), custom fields merged by field name (the external id stays), anything else replaced."""
    out = dict(whole)
    for key, value in changes.items():
        old = out.get(key)
        if isinstance(value, Mapping) and isinstance(old, Mapping):
            out[key] = {**old, **value}
        elif key == "custom_fields" and isinstance(value, list) and isinstance(old, list):
            merged = {str(item.get("field")): item for item in old if isinstance(item, Mapping)}
            merged |= {str(item.get("field")): item for item in value if isinstance(item, Mapping)}
            out[key] = list(merged.values())
        else:
            out[key] = value
    return out
