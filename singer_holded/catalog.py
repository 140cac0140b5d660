"""The Singer catalog of tap-holded: what discovery prints, and which streams and fields a given
catalog requests (as `holded_core.adapter.StreamRequest`s; the core resolves them).

Every stream is INCREMENTAL (forced): Holded v1 has no "updated since" filter, so the core's engine
lists everything and emits what changed since the state it is given; an empty state emits all. The
ten unified streams and changeEvents are selected by default, Holded-native and custom streams on
request. Schemas are the core's, plus `_sdc_deleted_at` (the Singer name of a tombstone's deletion
time, set next to the Airbyte one, `_ab_cdc_deleted_at`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from holded_core.adapter import StreamRequest, selected_by_default
from holded_core.errors import HoldedConfigError
from holded_core.streams import DELETED_AT, StreamSpec

SDC_DELETED_AT = "_sdc_deleted_at"
UNKNOWN_FIX = "run discovery again (`tap-holded --discover`) or deselect them"


def singer_schema(spec: StreamSpec, dropped: Iterable[str] = ()) -> dict[str, Any]:
    """The stream's JSON schema with `_sdc_deleted_at`, without the fields deselected in the catalog."""
    schema = copy.deepcopy(spec.json_schema)
    schema.setdefault("properties", {})[SDC_DELETED_AT] = {"type": ["null", "string"], "format": "date-time"}
    for name in dropped:
        schema["properties"].pop(name, None)
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
        "selected-by-default": selected_by_default(spec),
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


def _is_selected(metadata: Mapping[str, Any], legacy: Any, default: bool) -> bool:
    """Singer's rule: `selected` wins, then the older `schema.selected`, then `selected-by-default`."""
    if "selected" in metadata:
        return bool(metadata["selected"])
    if legacy is not None:
        return bool(legacy)
    return bool(metadata.get("selected-by-default", default))


def requests(catalog: Mapping[str, Any], specs: Iterable[StreamSpec]) -> list[StreamRequest]:
    """The streams (and fields) a catalog given with --catalog / --properties selects, every one
    incremental; a selected name this config does not offer is kept for the core to refuse.

    Raises:
        HoldedConfigError: the catalog has no `streams` list.
    """
    offered = {spec.name: spec for spec in specs}
    entries = catalog.get("streams")
    if not isinstance(entries, list):
        raise HoldedConfigError("the catalog has no `streams` list: pass the output of `tap-holded --discover`")
    chosen: list[StreamRequest] = []
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
        default = spec is not None and selected_by_default(spec)
        if not _is_selected(breadcrumbs.get((), {}), schema.get("selected"), default):
            continue
        if spec is None:
            chosen.append(StreamRequest(name))
            continue
        automatic = _automatic(spec)
        dropped = {
            crumb[1]
            for crumb, meta in breadcrumbs.items()
            if len(crumb) == 2 and crumb[0] == "properties" and crumb[1] not in automatic
            and meta.get("selected") is False
        }  # fmt: skip
        chosen.append(StreamRequest(name, incremental=True, dropped=frozenset(dropped)))
    return chosen
