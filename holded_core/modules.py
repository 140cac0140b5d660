"""Holded modules (v1) or permission areas (v2) and the cheapest call that proves a credential can use each."""

from __future__ import annotations

from dataclasses import dataclass

from holded_core.basics import BASICS_MODULE, BASICS_PATH, check_basics
from holded_core.client import HoldedClient
from holded_core.dialects import dialect_named
from holded_core.errors import HoldedAuthError, HoldedError, HoldedPermissionError


@dataclass(frozen=True)
class Module:
    name: str
    probe_path: str  # a small list, first page only


MODULES = (
    Module(BASICS_MODULE, BASICS_PATH),  # probed first, by the basics check
    Module("crm", "/crm/v1/funnels"),
    Module("projects", "/projects/v1/projects"),
    Module("team", "/team/v1/employees"),
    Module("accounting", "/accounting/v1/chartofaccounts"),
)


def probes(dialect: str) -> tuple[Module, ...]:
    """The modules to probe in a dialect: v1's modules; on v2 one list per permission area the dialect's
    resources name (a stream's `module` is its area there), its first resource that needs no range."""
    if dialect == "v1":
        return MODULES
    areas: dict[str, str] = {}
    for resource in dialect_named(dialect).resources.values():
        if resource.permission and not resource.needs_range:
            areas.setdefault(resource.module, resource.path)
    return tuple(Module(area, path) for area, path in areas.items())


def probe_modules(client: HoldedClient) -> dict[str, HoldedError | None]:
    """One call per module: None where it answered, the error where it did not.

    The first call is the basics check (`holded_core.basics.check_basics`): a refused credential, a base
    URL that is not Holded's API or an unreachable host raise its `HoldedBasicsError` at once, as a 401
    on a later module raises `HoldedAuthError`: nothing else is worth trying.
    """
    dialect = client.config.dialect
    basics = BASICS_MODULE if dialect == "v1" else dialect_named(dialect).resource("taxes").module
    result: dict[str, HoldedError | None] = {basics: check_basics(client)}
    for module in probes(dialect):
        if module.name in result:
            continue
        try:
            client.get(module.probe_path, {"page": 1} if dialect == "v1" else {"limit": 1})
            result[module.name] = None
        except HoldedAuthError:
            raise
        except HoldedPermissionError as exc:
            result[module.name] = exc
    return result
