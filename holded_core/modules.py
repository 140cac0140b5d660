"""Holded v1 modules and the cheapest call that proves a credential can use each."""

from __future__ import annotations

from dataclasses import dataclass

from holded_core.basics import BASICS_MODULE, BASICS_PATH, check_basics
from holded_core.client import HoldedClient
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


def probe_modules(client: HoldedClient) -> dict[str, HoldedError | None]:
    """One call per module: None where it answered, the error where it did not.

    The first call is the basics check (`holded_core.basics.check_basics`): a refused credential, a base
    URL that is not Holded's API or an unreachable host raise its `HoldedBasicsError` at once, as a 401
    on a later module raises `HoldedAuthError`: nothing else is worth trying.
    """
    result: dict[str, HoldedError | None] = {BASICS_MODULE: check_basics(client)}
    for module in MODULES:
        if module.name in result:
            continue
        try:
            client.get(module.probe_path, {"page": 1})
            result[module.name] = None
        except HoldedAuthError:
            raise
        except HoldedPermissionError as exc:
            result[module.name] = exc
    return result
