"""The API version is one seam: each Holded API dialect declares its resources once, here.

A `Resource` is one Holded object as one dialect serves it: its list route, its route by id (reads and
deletion confirmations; creates `POST` to the list route, updates and deletes go to the route by id),
how its lists paginate, whether (and in which parameters) a date range bounds them, the v2 permission it
needs, and how its records become Holded's v1 record shape (`to_v1`), which the unified mappings read. Resources are
named the same in every dialect (the Holded-native stream's name: `contacts`, `invoices`, `leads`...), so
the unified mappings, the streams, the sync engine and the writer name a resource and never a path:

- `holded_core.dialects.v1`: Holded's deprecated API v1 (`/invoicing/v1/...`, `?page=N`, 500 a page);
- `holded_core.dialects.v2`: Holded's API v2 (`/v2/...`, cursor pages up to the resource's `limit`,
  per-resource permissions). shared/holded-api/v2/endpoints.md is the source of its table.

Writes (`holded_core.write_channel.WriteChannel`) are declared on the same rows: the writer builds Holded's
v1 write body, and a dialect whose bodies differ declares `from_v1` (that body -> its own), whether its
`PUT` replaces the whole record (`replace`: its record -> the whole body to send back, so an update is a
read-modify-write), the fields an update moves through a sub-route (`routes`), the route approving an
existing draft (`approve`), its exact list filters (`filters`) and the fields its writes do not take
(`unwritable`). v1's rows need none of the translations: the writer's bodies are v1's.

Adding a resource touches one row per dialect; adding a dialect is one more module with its table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from holded_core.listing import UNIX_RANGE, DateRange, Listing, ToV1

# A dialect's translation of the writer's body (Holded's v1 write body) into its own, given the account's
# zone (a calendar day the body carries as v1's unix seconds is a day there).
FromV1 = Callable[[Mapping[str, Any], ZoneInfo], dict[str, Any]]
# A record as this dialect reads it -> the whole write body that puts it back unchanged (a full-replace PUT).
WholeBody = Callable[[Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Resource:
    """One Holded list resource as one dialect serves it."""

    name: str  # the same in every dialect: the Holded-native stream's name (`contacts`, `invoices`...)
    path: str  # the list route under `base_url`
    primary_key: tuple[str, ...] = ("id",)
    cursor: str | None = None  # a field Holded maintains as a modification time, when there is one
    cursor_format: str = "unix"  # how `cursor` is served: `unix` seconds (v1) or an ISO 8601 `date-time` (v2)
    dated: bool = False  # takes a date range on the business date (`start_date` applies)
    needs_range: bool = False  # Holded refuses the list without a date range
    by_id: bool = True  # Holded reads one record at `<path>/{id}`
    pagination: str = "page"  # page | cursor | none (see `HoldedClient.iter_pages`)
    page_size: int | None = None  # the largest page Holded serves (cursor `limit`): fewer requests
    params: tuple[tuple[str, str], ...] = ()
    permission: str | None = None  # API v2: `area:resource`, read as `<permission>.read`, written `.write`
    module: str = ""  # the Holded module (v1) or permission area (v2) the resource belongs to
    date_range: DateRange = UNIX_RANGE  # how a dated listing takes its range (v1 unix seconds, v2 days)
    # Holded's record in this dialect -> Holded's v1 record shape, what the unified mappings read (the
    # engine applies it to every listed record and every record read by id for unified streams; native
    # streams emit records as Holded returns them). None: records already are v1's.
    to_v1: ToV1 | None = None
    # A v1 list the mappings read (embedded children) -> the list of this dialect's record it comes from,
    # index for index (`products` -> `lines`): a child's `raw` is that element, as Holded returned it.
    lists: tuple[tuple[str, str], ...] = ()
    # Writes (see the module docstring; v1's rows leave the translations None: the writer's bodies are v1's).
    from_v1: FromV1 | None = None  # Holded's v1 write body -> this dialect's (None: sent as it is)
    replace: WholeBody | None = None  # PUT resets what it is not sent: an update sends this, overlaid
    routes: tuple[tuple[str, str], ...] = ()  # (v1 body field, sub-route): `PUT <item>/<route>` it alone
    approve: str | None = None  # `POST <item>/<approve>` approves an existing draft (None: only a create can)
    filters: tuple[tuple[str, str], ...] = ()  # (v1 field, the list's exact filter parameter on it)
    unwritable: tuple[str, ...] = ()  # v1 body fields this dialect's writes do not take

    @property
    def item(self) -> str | None:
        """The route of one record (`{id}` to fill), None where Holded reads none by id."""
        return f"{self.path}/{{id}}" if self.by_id and self.primary_key == ("id",) else None

    @property
    def listing(self) -> Listing:
        return Listing(
            self.path,
            self.params,
            self.dated,
            self.needs_range,
            self.item,
            self.pagination,
            self.page_size,
            self.date_range,
            self.to_v1,
            self.lists,
        )


@dataclass(frozen=True)
class Dialect:
    """One Holded API: its name (`v1`, `v2`) and its resources, in the order streams are offered."""

    name: str
    resources: Mapping[str, Resource]

    def resource(self, name: str) -> Resource:
        """The resource named `name`.

        Raises:
            KeyError: this dialect serves no such resource (the message names both).
        """
        try:
            return self.resources[name]
        except KeyError:
            raise KeyError(f"Holded API {self.name} has no resource {name!r}") from None

    def by_path(self, path: str) -> Resource | None:
        """The resource whose list route is `path` (a custom stream over a route the dialect knows)."""
        return next((r for r in self.resources.values() if r.path == path and not r.params), None)


def table(name: str, *resources: Resource) -> Dialect:
    return Dialect(name, {resource.name: resource for resource in resources})


def dialect_named(name: str) -> Dialect:
    """The dialect `v1` or `v2` (a `ClientConfig.dialect`).

    Raises:
        KeyError: no such dialect.
    """
    from holded_core.dialects.v1 import V1
    from holded_core.dialects.v2 import V2

    return {"v1": V1, "v2": V2}[name]
