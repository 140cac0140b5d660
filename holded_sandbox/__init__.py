"""holded_sandbox: a local HTTP server that behaves like Holded's API v1, quirks and faults included."""

from .faults import Faults
from .oauth import OAuthSettings
from .server import SandboxServer

__all__ = ["Faults", "OAuthSettings", "SandboxServer"]
