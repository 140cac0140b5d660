"""Holded API v2 permissions: which a catalog of streams and writes needs, and which a token lacks.

A v2 token carries per-resource permissions `area:resource.read|write`, ticked when the token is made
(shared/holded-api/v2/README.md, "Auth, permissions, errors"); Holded has no route that lists a
token's permissions. So the needs are derived from the v2 dialect's table (each `Resource.permission`),
and a token is probed with the cheapest call each:

- `.read`: `GET <list route>?limit=1` (one record at most);
- `.write`: `POST <list route>` with an empty body. Holded checks the permission before the body, so a
  token without it answers 403 naming it, and one with it 422 for the missing fields: nothing is
  written either way.

A probe answering anything else (an error of the network or of Holded) leaves that permission
unknown rather than guessing. Resources whose scope no source names (`permission=None`) need nothing
the connector can name; they are listed apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from holded_core.client import HoldedClient
from holded_core.dialects import Dialect
from holded_core.dialects.v2 import V2
from holded_core.errors import HoldedAuthError, HoldedError, HoldedMissingPermissionError
from holded_core.mappings import MAPPINGS
from holded_core.streams import StreamSpec


@dataclass
class Need:
    """One permission and what uses it (stream names, `write <stream>`)."""

    permission: str  # `crm:deals.read`
    resource: str  # the dialect's resource it is probed on (`leads`)
    used_by: list[str] = field(default_factory=list)
    granted: bool | None = None  # after `probe`: True / False, None when the probe could not tell


def resource_of(spec: StreamSpec, dialect: Dialect = V2) -> str | None:
    """The Holded resource a stream reads (None: a custom route the dialect does not know)."""
    if spec.kind == "unified":
        return MAPPINGS[spec.name][0].resource
    if spec.kind == "native":
        return spec.name
    if spec.listing is not None:
        known = dialect.by_path(spec.listing.path)
        return known.name if known is not None else None
    return None


def needed(
    streams: Iterable[StreamSpec], writes: Iterable[str] = (), dialect: Dialect = V2
) -> tuple[list[Need], list[str]]:
    """The permissions reading `streams` and writing the unified models `writes` need.

    Args:
        streams: the stream specs a sync would read (the change-events stream needs nothing of its own).
        writes: unified stream names a destination or `holded push` would write (`crmOpportunity`).
        dialect: the v2 dialect's table (where each resource's permission is declared).

    Returns:
        (needs in table order, each with what uses it; what needs no named permission, as messages).
    """
    needs: dict[str, Need] = {}
    unnamed: list[str] = []

    def add(resource_name: str | None, access: str, user: str) -> None:
        resource = dialect.resources.get(resource_name or "")
        if resource is None or resource.permission is None:
            unnamed.append(f"{user}: Holded names no permission for it")
            return
        permission = f"{resource.permission}.{access}"
        needs.setdefault(permission, Need(permission, resource.name)).used_by.append(user)

    for spec in streams:
        if spec.listing is not None:
            add(resource_of(spec, dialect), "read", spec.name)
    for stream in writes:
        if stream not in MAPPINGS:
            raise KeyError(f"{stream!r} is not a unified stream the connector writes")
        add(MAPPINGS[stream][0].resource, "write", f"write {stream}")
    order = {name: i for i, name in enumerate(dialect.resources)}
    ranked = sorted(needs.values(), key=lambda n: (order.get(n.resource, 0), n.permission.endswith(".write")))
    return ranked, unnamed


def probe(client: HoldedClient, needs: Sequence[Need], dialect: Dialect = V2) -> list[Need]:
    """Ask Holded, with the cheapest call each, whether the client's token holds each permission.

    Returns:
        `needs`, each with `granted` set (None when the probe's answer could not tell).

    Raises:
        HoldedAuthError: the token itself is refused (403 "Access denied."): no permission can be told.
    """
    for need in needs:
        path = dialect.resource(need.resource).path
        try:
            if need.permission.endswith(".read"):
                client.request("GET", path, params={"limit": 1})
            else:
                client.request("POST", path, json={}, idempotent=False)
            need.granted = True
        except HoldedMissingPermissionError as exc:
            need.granted = False if exc.permission == need.permission else None
        except HoldedAuthError:
            raise
        except HoldedError as exc:
            # A write probe with the permission is refused for its empty body (422): that is a yes.
            need.granted = True if need.permission.endswith(".write") and exc.status_code in (400, 422) else None
    return list(needs)
