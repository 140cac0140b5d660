"""Shared core: config, auth, the HTTP client. Imports nothing from Airbyte."""

from holded_core.client import PAGE_SIZE, HoldedClient, Page
from holded_core.config import DEFAULT_BASE_URL, ClientConfig, parse_config
from holded_core.errors import HoldedError

__all__ = ["DEFAULT_BASE_URL", "PAGE_SIZE", "ClientConfig", "HoldedClient", "HoldedError", "Page", "parse_config"]
