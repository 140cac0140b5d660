"""Holded API v2 permissions: which a catalog of streams and writes needs, and which a token lacks.

A v2 token carries per-resource permissions `area:resource.read|write`, ticked when the token is made
(shared/holded-api/v2/README.md, "Auth, permissions, errors"); Holded has no route that lists a
token's permissions. So the needs are derived from the v2 dialect's table (each `Resource.permission`),
and a token is probed with the cheapest call each:

- `.read`: `GET <list route>?limit=1` (one record at most);
- `.write`: `POST <list route>` with an empty body. Holded checks the permission before the body, so a
  token without it answers 403 naming it, and one with it 422 for the missing fields: nothing is
  written either way.

A probe answering anything else (an error of Holded) leaves that permission unknown rather than
guessing; the first probe is also the basics check (`holded_core.basics`): a refused token, a `base_url`
that is not Holded's or a host that cannot be reached raise its one-line `HoldedBasicsError`. So a check
costs one request per distinct permission, and no more. Resources whose scope no source names
(`permission=None`) need nothing the connector can name; they are listed apart.

Writing needs the target resource's `.write` and its `.read` too: the writer lists (or reads by id) the
target to match a record before creating or updating it (`holded_core.writes`). `require` is what a push
calls where it starts, with the streams it will write: on a v2 token lacking any of those permissions it
raises one `PermissionsLacking` naming each permission and the writes it blocks, before anything is
written; on a v1 key it does nothing (v1 keys carry no permissions).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from holded_core.basics import basics_error, credential_refused
from holded_core.client import HoldedClient
from holded_core.dialects import Dialect
from holded_core.dialects.v2 import V2
from holded_core.errors import (
    TOKEN_WHERE,
    HoldedConfigError,
    HoldedError,
    HoldedMissingPermissionError,
    HoldedQuotaError,
)
from holded_core.mappings import MAPPINGS
from holded_core.streams import StreamSpec


@dataclass
class Need:
    """One permission and what uses it (stream names, `write <stream>`)."""

    permission: str  # `crm:deals.read`
    resource: str  # the dialect's resource it is probed on (`leads`)
    used_by: list[str] = field(default_factory=list)
    granted: bool | None = None  # after `probe`: True / False, None when the probe could not tell
    path: str | None = None  # the route probed when it is not a resource's list (`/v2/usage`)
    optional: bool = False  # a run goes on without it (what it gives is then skipped, and said)


USAGE_READ = "developers:usage.read"
QUOTA_CHECK = "the quota check before a v2 `holded sync` (optional: without it the sync goes on, unchecked)"


def optional_needs() -> list[Need]:
    """Permissions a read does not need but uses when the token has them: `developers:usage.read`, with which
    `holded sync` reads the month's usage (`GET /v2/usage`) and checks its estimate against the quota left
    (`holded_core.quota`); without it one line says the quota was not checked and the sync goes on."""
    return [Need(USAGE_READ, resource="", used_by=[QUOTA_CHECK], path="/v2/usage", optional=True)]


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
        writes: unified stream names a destination or `holded push` would write (`crmOpportunity`): each
            needs its resource's `.write` and `.read` (the writer matches records before it creates).
        dialect: the v2 dialect's table (where each resource's permission is declared).

    Returns:
        (needs in table order, each with what uses it, `write <stream>` for a write; what needs no named
        permission, as messages).

    Raises:
        KeyError: a name in `writes` is not a unified stream.
    """
    needs: dict[str, Need] = {}
    unnamed: list[str] = []

    def add(resource_name: str | None, access: str, user: str) -> None:
        resource = dialect.resources.get(resource_name or "")
        if resource is None or resource.permission is None:
            if access == "read" or not user.startswith("write "):
                unnamed.append(f"{user}: Holded names no permission for it")
            return
        permission = f"{resource.permission}.{access}"
        used_by = needs.setdefault(permission, Need(permission, resource.name)).used_by
        if user not in used_by:
            used_by.append(user)

    for spec in streams:
        if spec.listing is not None:
            add(resource_of(spec, dialect), "read", spec.name)
    for stream in writes:
        if stream not in MAPPINGS:
            raise KeyError(f"{stream!r} is not a unified stream the connector writes")
        add(MAPPINGS[stream][0].resource, "write", f"write {stream}")
        add(MAPPINGS[stream][0].resource, "read", f"write {stream}")  # the writer matches before it creates
    order = {name: i for i, name in enumerate(dialect.resources)}
    ranked = sorted(needs.values(), key=lambda n: (order.get(n.resource, 0), n.permission.endswith(".write")))
    return ranked, unnamed


def probe(client: HoldedClient, needs: Sequence[Need], dialect: Dialect = V2) -> list[Need]:
    """Ask Holded, with the cheapest call each, whether the client's token holds each permission.

    One request per need (`needs` name distinct permissions); the first one is also the basics check.

    Args:
        client: a client with the API v2 token to probe.
        needs: the permissions to probe (from `needed`).
        dialect: the v2 dialect's table (each resource's list route).

    Returns:
        `needs`, each with `granted` set (None when the probe's answer could not tell).

    Raises:
        HoldedBasicsError: the token itself is refused (403 "Access denied.": no permission can be told),
            `base_url` is not Holded's API, or its host cannot be reached.
        HoldedQuotaError: Holded's monthly request quota is spent.
    """
    for number, need in enumerate(needs):
        path = need.path or dialect.resource(need.resource).path
        try:
            if need.permission.endswith(".read"):
                client.request("GET", path, params=None if need.path else {"limit": 1})
            else:
                client.request("POST", path, json={}, idempotent=False)
            need.granted = True
        except HoldedMissingPermissionError as exc:
            need.granted = False if exc.permission == need.permission else None
        except HoldedError as exc:
            refused = (basics_error if number == 0 else credential_refused)(exc, client.config)
            if refused is not None:
                raise refused from exc
            if isinstance(exc, HoldedQuotaError):
                raise
            # A write probe with the permission is refused for its empty body (422): that is a yes.
            need.granted = True if need.permission.endswith(".write") and exc.status_code in (400, 422) else None
    return list(needs)


class PermissionsLacking(HoldedConfigError):
    """An API v2 token lacks permissions a run needs. One line: each permission, what it blocks, the fix.

    Attributes:
        lacking: the needs the token lacks (`permission`, `used_by`).
    """

    def __init__(self, lacking: Sequence[Need], *, what: str = "") -> None:
        self.lacking = list(lacking)
        tail = f"; {what}" if what else ""
        super().__init__(f"the Holded API token lacks {describe(self.lacking)}: {fix(self.lacking)}{tail}")


def fix(lacking: Sequence[object]) -> str:
    """How to give a token the permissions it lacks: `tick it` for one, `tick them` for several."""
    them = "it" if len(lacking) == 1 else "them"
    return f"tick {them} on the token in Holded ({TOKEN_WHERE}) or make a new token with {them}"


def describe(lacking: Sequence[Need]) -> str:
    """`crm:deals.read (for crmOpportunity), crm:deals.write (for write crmOpportunity)`: each permission
    and the streams and writes it blocks."""
    return ", ".join(f"{need.permission} (for {', '.join(need.used_by)})" for need in lacking)


class PermissionGate:
    """The permissions one client's token was found to hold, probed once each, for the writes of a push.

    `require` probes only the permissions not probed before (a Singer target asks stream by stream).
    """

    def __init__(self, client: HoldedClient, dialect: Dialect = V2) -> None:
        self.client = client
        self.dialect = dialect
        self.known: dict[str, bool | None] = {}
        self._cleared: set[str] = set()  # writes already found allowed (a record's check is then free)

    def require(self, streams: Iterable[StreamSpec] = (), writes: Iterable[str] = ()) -> list[Need]:
        """Make sure the token holds what reading `streams` and writing the unified streams `writes` need.

        Args:
            streams: stream specs to be read.
            writes: unified stream names to be written (each needs `.write` and `.read` of its resource);
                names that are not unified streams are left to the writer (it refuses their records).

        Returns:
            The needs, probed (nothing on a v1 key: it has no permissions).

        Raises:
            PermissionsLacking: the token lacks some (one line naming each and what it blocks).
            HoldedBasicsError: the token is refused, or `base_url` is wrong (see `probe`).
        """
        streams, writes = list(streams), [w for w in writes if w in MAPPINGS]
        if self.client.config.dialect != "v2" or (not streams and self._cleared.issuperset(writes)):
            return []
        needs, _unnamed = needed(streams, writes, self.dialect)
        fresh = [need for need in needs if need.permission not in self.known]
        for need in probe(self.client, fresh, self.dialect):
            self.known[need.permission] = need.granted
        for need in needs:
            need.granted = self.known.get(need.permission)
        lacking = [need for need in needs if need.granted is False]
        if lacking:
            nothing = "no record of these streams was written" if writes else ""
            raise PermissionsLacking(lacking, what=nothing)
        self._cleared.update(writes)
        return needs


def require(client: HoldedClient, streams: Iterable[StreamSpec] = (), writes: Iterable[str] = ()) -> list[Need]:
    """Where a push (or a run) starts: refuse it up front when the API v2 token lacks a permission it needs.

    Args:
        client: the run's client (the probes count against its quota: one per distinct permission).
        streams: stream specs the run reads.
        writes: unified stream names the run writes (`.write` and `.read` of each one's resource).

    Returns:
        The needs, probed; `[]` on a v1 key (no permissions to check: a no-op).

    Raises:
        PermissionsLacking: the token lacks some: one line naming each permission and the streams or writes
            it blocks, and the fix.
        HoldedBasicsError: the token is refused, `base_url` is not Holded's API, or its host is unreachable.
    """
    return PermissionGate(client).require(streams, writes)
