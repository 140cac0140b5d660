"""Holded API v2 over the sandbox's one store: a translation layer, not a second data set.

Every v2 resource is a declaration (`resource.V2Resource`) over a v1 store collection: the v2 view is
computed from the v1-shaped record and v2 writes go through the v1 write rules, so both dialects
always agree (same records, same ids). `frame.V2Api` is the front door (tokens, permissions, the
account's rate windows, faults, problem+json errors); `routes.RESOURCES` lists what is served.
"""

from __future__ import annotations

from .auth import DEFAULT_TOKEN, TokenBook
from .frame import V2Api, is_v2_path

__all__ = ["DEFAULT_TOKEN", "TokenBook", "V2Api", "is_v2_path"]
