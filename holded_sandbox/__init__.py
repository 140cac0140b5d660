"""holded_sandbox: a local HTTP server that behaves like one Holded account through API v1 and API v2
(same records, same ids), quirks and faults included."""

from .faults import Faults
from .oauth import OAuthSettings
from .server import SandboxServer

__all__ = ["Faults", "OAuthSettings", "SandboxServer"]
