"""Holded v1 modules and the cheapest call that proves a credential can use each."""

from __future__ import annotations

from dataclasses import dataclass

from holded_core.client import HoldedClient
from holded_core.errors import HoldedAuthError, HoldedError, HoldedPermissionError


@dataclass(frozen=True)
class Module:
    name: str
    probe_path: str  # a small list, first page only


MODULES = (
    Module("invoicing", "/invoicing/v1/taxes"),
    Module("crm", "/crm/v1/funnels"),
    Module("projects", "/projects/v1/projects"),
    Module("team", "/team/v1/employees"),
    Module("accounting", "/accounting/v1/chartofaccounts"),
)


def probe_modules(client: HoldedClient) -> dict[str, HoldedError | None]:
    """One call per module: None where it answered, the error where it did not.

    A rejected credential (401) is raised at once: nothing else is worth trying.
    """
    result: dict[str, HoldedError | None] = {}
    for module in MODULES:
        try:
            client.get(module.probe_path, {"page": 1})
            result[module.name] = None
        except HoldedAuthError:
            raise
        except HoldedPermissionError as exc:
            result[module.name] = exc
    return result
