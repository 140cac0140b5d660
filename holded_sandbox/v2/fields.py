"""Small value conversions shared by the v2 views and body translations.

Invariants: amounts are served as strings with two decimals (`"121.00"`); a v2 body is a JSON object
(else 400) and a required field that is missing or empty answers 422 naming it; names are converted
camelCase <-> snake_case mechanically so nested objects (`bill_address`, `defaults`) round-trip.
"""

from __future__ import annotations

import re
from typing import Any

from ..model import num
from .problems import bad_request, invalid

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def amount(value: Any) -> str:
    """Money as v2 serves it: `"121.00"`."""
    return f"{num(value):.2f}"


def snake(name: str) -> str:
    """`postalCode` -> `postal_code`."""
    return _CAMEL.sub("_", name).lower()


def camel(name: str) -> str:
    """`postal_code` -> `postalCode`."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake_keys(obj: Any) -> Any:
    """A v1 nested object with its keys in snake_case (one level: values are kept as they are)."""
    return {snake(k): v for k, v in obj.items()} if isinstance(obj, dict) else obj


def camel_keys(obj: Any) -> dict[str, Any]:
    """A v2 nested object with its keys in camelCase (v1's names); a non-object is `{}`."""
    return {camel(k): v for k, v in obj.items()} if isinstance(obj, dict) else {}


def body_object(body: Any) -> dict[str, Any]:
    """The request body as an object; a list or a scalar is a 400."""
    if body is None or body == {}:
        return {}
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


def require(body: dict[str, Any], *names: str) -> None:
    """422 naming the first required field that is missing or empty."""
    for name in names:
        if body.get(name) in (None, "", []):
            raise invalid(f"{name} is required.")


def id_list(body: dict[str, Any], field: str, most: int | None = None) -> list[str]:
    """A list of ids from the body (`ids`, `contact_ids`): 422 when it is not a non-empty list of texts."""
    ids = body.get(field)
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise invalid(f"{field} must be a non-empty list of ids.")
    if most is not None and len(ids) > most:
        raise invalid(f"{field} accepts at most {most} ids.")
    return ids


def text_or_none(value: Any) -> str | None:
    """v1's empty markers (`""`, `0`, None) as null, other values as text."""
    return None if value in (None, "", 0) else str(value)


def as_bool(value: Any, field: str) -> bool:
    """A boolean field: true/false (or 0/1); anything else is a 422."""
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    raise invalid(f"{field} must be a boolean.")


def as_number(value: Any, field: str) -> float:
    """A number field (a numeric string is accepted, as amounts are strings in v2)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise invalid(f"{field} must be a number.") from None


def str_list(value: Any, field: str) -> list[str]:
    """A list of texts (tags)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(f"{field} must be a list.")
    return [str(v) for v in value]
