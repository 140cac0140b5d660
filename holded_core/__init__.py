"""Shared core: config, auth, the HTTP client. Imports nothing from Airbyte."""

from holded_core.client import PAGE_SIZE, HoldedClient, Page
from holded_core.config import DEFAULT_BASE_URL, ClientConfig, parse_config
from holded_core.errors import HoldedError

__all__ = [
    "DEFAULT_BASE_URL",
    "PAGE_SIZE",
    "ClientConfig",
    "HoldedClient",
    "HoldedError",
    "Lookup",
    "Page",
    "parse_config",
]


def __getattr__(name: str) -> object:
    # `Lookup` pulls in the mappings and streams: imported on first use, so `import holded_core` stays light.
    if name == "Lookup":
        from holded_core.lookup import Lookup

        return Lookup
    raise AttributeError(f"module 'holded_core' has no attribute {name!r}")
