"""The whole connector config (client settings plus what to sync), validated once for every entry point."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from holded_core.config import ClientConfig, parse_config
from holded_core.dates import account_zone, start_of
from holded_core.deletions import DEFAULT_MAX_SHARE
from holded_core.dialects import Dialect, dialect_named
from holded_core.errors import HoldedConfigError
from holded_core.fieldmap import FieldMapping, parse_field_mappings
from holded_core.mappings import MAPPINGS
from holded_core.streams import StreamSpec, custom_stream, events_stream, native_streams, unified_streams
from holded_core.sync import SyncOptions


@dataclass(frozen=True)
class Settings:
    client: ClientConfig
    options: SyncOptions
    field_mappings: tuple[FieldMapping, ...]
    custom_streams: tuple[Mapping[str, Any], ...]
    include_contact_persons: bool

    @property
    def dialect(self) -> Dialect:
        """The Holded API the credential speaks (`v1` key, `v2` token): the streams are built for it."""
        return dialect_named(self.client.dialect)

    def streams(self) -> list[StreamSpec]:
        """Every stream this config offers, in the credential's dialect: unified, Holded-native (records as
        that API returns them), custom, and the change events."""
        dialect = self.dialect
        unified = unified_streams(self.field_mappings, self.include_contact_persons, dialect)
        customs = (custom_stream(c, dialect) for c in self.custom_streams)
        specs = [*unified, *native_streams(dialect), *customs, events_stream()]
        seen: set[str] = set()
        for spec in specs:
            if spec.name in seen:
                raise HoldedConfigError(f"`custom_streams`: the name {spec.name!r} is already taken; pick another")
            seen.add(spec.name)
        return specs

    def unified(self) -> list[StreamSpec]:
        """The ten unified streams, read through the credential's dialect."""
        return unified_streams(self.field_mappings, self.include_contact_persons, self.dialect)


def _start_date(value: Any, zone: ZoneInfo) -> int | None:
    """`start_date` as `starttmp`: a day is 00:00 of it in the account's zone (so `2024-01-01` includes
    an invoice Holded dates 1 January 2024, stored as midnight in Madrid; shared/holded-api/README.md:
    Calendar dates are midnight in Madrid). Raises HoldedConfigError for a value that is not a date."""
    if value in (None, ""):
        return None
    return start_of(value, zone)


def _custom_streams(raw: Any, api: str = "v1") -> tuple[Mapping[str, Any], ...]:
    """The `custom_streams` entries, each checked: a name, a path under `base_url`, and a route of the API
    the credential speaks (`api`): Holded refuses a v1 route to a v2 token ("Invalid key") and a v2 route
    to a v1 key, so such a path is a config error naming the route to use instead."""
    if not raw:
        return ()
    if not isinstance(raw, list):
        raise HoldedConfigError("`custom_streams` must be a list of {name, path, primary_key, cursor_field?}")
    example = "/v2/products" if api == "v2" else "/invoicing/v1/products"
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping) or not item.get("name") or not item.get("path"):
            raise HoldedConfigError(f"`custom_streams[{i}]` needs `name` and `path` (e.g. {example})")
        path = str(item["path"])
        if "://" in path or ".." in path.split("/"):
            raise HoldedConfigError(f"`custom_streams[{i}].path` must be a path under base_url, not a URL")
        _check_api(f"custom_streams[{i}].path", "/" + path.lstrip("/"), api)
    return tuple(raw)


def _check_api(field: str, path: str, api: str) -> None:
    """Refuse a route of the other Holded API than the credential's, naming the route to use when the
    connector knows the resource (the same resource's list route in the credential's dialect)."""
    route = path.split("?", 1)[0].rstrip("/") or "/"
    is_v2 = route.startswith("/v2/")
    if is_v2 == (api == "v2"):
        return
    other, mine = dialect_named("v1" if api == "v2" else "v2"), dialect_named(api)
    known = other.by_path(route)
    twin = mine.resources.get(known.name) if known is not None else None
    if api == "v2":
        use = f"use its API v2 route, {twin.path}" if twin is not None else "use its API v2 route (/v2/...)"
        raise HoldedConfigError(
            f"`{field}` {path} is an API v1 route, which Holded refuses to an API v2 token (pat_...): {use}, "
            "or use a v1 API key"
        )
    use = f"use its API v1 route, {twin.path}" if twin is not None else "use its API v1 route"
    raise HoldedConfigError(
        f"`{field}` {path} is an API v2 route, which Holded refuses to an API v1 key: {use}, or use an API v2 "
        "token (pat_...)"
    )


def parse_settings(raw: Mapping[str, Any]) -> Settings:
    """Validate a whole connector config once, for every entry point (source, destination, runner, Singer).

    Args:
        raw: the config as given (JSON/YAML object), e.g. `{"credentials": {...}, "timezone": "Atlantic/Canary"}`.

    Returns:
        The settings; `options.timezone` is the account's zone (default Europe/Madrid) in which
        calendar days are read and written, and `options.start_date` is already in unix seconds.

    Raises:
        HoldedConfigError: one line naming the first bad field and its fix.
    """
    client = parse_config(raw)
    currency = str(raw.get("default_currency") or "EUR").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise HoldedConfigError(f"`default_currency` {currency!r} is not an ISO 4217 code such as EUR")
    concurrency = raw.get("stream_concurrency", 3)
    if not isinstance(concurrency, int) or not 1 <= concurrency <= 16:
        raise HoldedConfigError("`stream_concurrency` must be an integer from 1 to 16")
    share = raw.get("mass_deletion_share", DEFAULT_MAX_SHARE)
    if isinstance(share, str):  # Meltano passes decimals given by environment variables as text
        with contextlib.suppress(ValueError):
            share = float(share)
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1:
        raise HoldedConfigError(
            f"`mass_deletion_share` {share!r} must be a number above 0 and at most 1 (0.2 means 20%)"
        )
    zone = account_zone(raw.get("timezone"))  # HoldedConfigError naming `timezone` for an unknown zone
    options = SyncOptions(
        default_currency=currency,
        include_raw=bool(raw.get("include_raw", False)),
        start_date=_start_date(raw.get("start_date"), zone),
        stream_concurrency=concurrency,
        mass_deletion_share=float(share),
        timezone=zone.key,
    )
    return Settings(
        client=client,
        options=options,
        field_mappings=tuple(parse_field_mappings(raw.get("field_mappings"), list(MAPPINGS))),
        custom_streams=_custom_streams(raw.get("custom_streams"), client.dialect),
        include_contact_persons=bool(raw.get("include_contact_persons", True)),
    )
