"""The Singer catalog of tap-holded: what discovery prints, and which streams and fields a given
catalog selects.

Every stream is INCREMENTAL (forced): Holded v1 has no "updated since" filter, so the core's engine
lists everything and emits what changed since the state it is given; an empty state emits all. The
ten unified streams and changeEvents are selected by default, Holded-native and custom streams on
request. Schemas are the core's, plus `_sdc_deleted_at` (the Singer name of a tombstone's deletion
time, set next to the Airbyte one, `_ab_cdc_deleted_at`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from holded_core.errors import HoldedConfigError
from holded_core.streams import DELETED_AT, StreamSpec

SDC_DELETED_AT = "_sdc_deleted_at"
DEFAULT_KINDS = ("unified", "events")  # selected by default: the ten unified streams + changeEvents


@dataclass(frozen=True)
class Selection:
    spec: StreamSpec
    dropped: frozenset[str] = frozenset()  # fields deselected in the catalog, left out of records and schema

    @property
    def name(self) -> str:
        return self.spec.name

    def schema(self) -> dict[str, Any]:
        schema = singer_schema(self.spec)
        for name in self.dropped:
            schema["properties"].pop(name, None)
        return schema


def singer_schema(spec: StreamSpec) -> dict[str, Any]:
    schema = copy.deepcopy(spec.json_schema)
    schema.setdefault("properties", {})[SDC_DELETED_AT] = {"type": ["null", "string"], "format": "date-time"}
    return schema


def _automatic(spec: StreamSpec) -> set[str]:
    """Fields always emitted: the key and the deletion markers (a target needs them to apply deletes)."""
    return {*spec.primary_key, DELETED_AT, SDC_DELETED_AT}


def catalog_entry(spec: StreamSpec) -> dict[str, Any]:
    schema = singer_schema(spec)
    automatic = _automatic(spec)
    root = {
        "table-key-properties": list(spec.primary_key),
        "forced-replication-method": "INCREMENTAL",
        "inclusion": "available",
        "selected-by-default": spec.kind in DEFAULT_KINDS,
    }
    metadata: list[dict[str, Any]] = [{"breadcrumb": [], "metadata": root}]
    for name in schema["properties"]:
        inclusion = "automatic" if name in automatic else "available"
        metadata.append({"breadcrumb": ["properties", name], "metadata": {"inclusion": inclusion}})
    return {
        "tap_stream_id": spec.name,
        "stream": spec.name,
        "key_properties": list(spec.primary_key),
        "replication_method": "INCREMENTAL",
        "schema": schema,
        "metadata": metadata,
    }


def discover(specs: Iterable[StreamSpec]) -> dict[str, Any]:
    return {"streams": [catalog_entry(spec) for spec in specs]}


def default_selection(specs: Iterable[StreamSpec]) -> list[Selection]:
    return [Selection(spec) for spec in specs if spec.kind in DEFAULT_KINDS]


def _is_selected(metadata: Mapping[str, Any], legacy: Any, default: bool) -> bool:
    """Singer's rule: `selected` wins, then the older `schema.selected`, then `selected-by-default`."""
    if "selected" in metadata:
        return bool(metadata["selected"])
    if legacy is not None:
        return bool(legacy)
    return bool(metadata.get("selected-by-default", default))


def selection(catalog: Mapping[str, Any], specs: Iterable[StreamSpec]) -> list[Selection]:
    """The streams (and fields) a catalog given with --catalog / --properties selects."""
    offered = {spec.name: spec for spec in specs}
    entries = catalog.get("streams")
    if not isinstance(entries, list):
        raise HoldedConfigError("the catalog has no `streams` list: pass the output of `tap-holded --discover`")
    chosen: list[Selection] = []
    unknown: list[str] = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        name = str(entry.get("tap_stream_id") or entry.get("stream") or "")
        breadcrumbs = {
            tuple(m.get("breadcrumb") or ()): m.get("metadata") or {}
            for m in entry.get("metadata") or []
            if isinstance(m, Mapping)
        }
        spec = offered.get(name)
        schema = entry.get("schema")
        if not isinstance(schema, Mapping):
            schema = {}
        default = spec is not None and spec.kind in DEFAULT_KINDS
        if not _is_selected(breadcrumbs.get((), {}), schema.get("selected"), default):
            continue
        if spec is None:
            unknown.append(name)
            continue
        automatic = _automatic(spec)
        dropped = {
            crumb[1]
            for crumb, meta in breadcrumbs.items()
            if len(crumb) == 2 and crumb[0] == "properties" and crumb[1] not in automatic
            and meta.get("selected") is False
        }  # fmt: skip
        chosen.append(Selection(spec, frozenset(dropped)))
    if unknown:
        raise HoldedConfigError(
            f"the catalog selects streams tap-holded does not offer with this config: {', '.join(unknown)}; "
            "run discovery again (`tap-holded --discover`) or deselect them"
        )
    return chosen
