"""What can be synced: the ten unified streams, Holded-native streams, the user's custom streams, and
the change-events stream. Each `StreamSpec` names its Holded listing and how a listed record becomes
the stream's records; the sync engine (`holded_core.sync`) runs them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from holded_core.dates import DEFAULT_TIMEZONE
from holded_core.dialects import Dialect
from holded_core.dialects.v1 import V1
from holded_core.fieldmap import FieldMapping, extra_fields, mapped_schema_properties
from holded_core.listing import Listing
from holded_core.mappings import MAPPINGS, ModelMapping, to_unified
from holded_core.models import MODELS

EVENTS_STREAM = "changeEvents"
DELETED_AT = "_ab_cdc_deleted_at"


@dataclass(frozen=True)
class StreamSpec:
    name: str
    kind: str  # unified | native | custom | events
    listing: Listing | None
    primary_key: tuple[str, ...]
    json_schema: dict[str, Any]
    cursor: str | None = None  # a field Holded maintains as a modification time, when there is one
    module: str = ""
    mappings: tuple[ModelMapping, ...] = ()
    extras: tuple[Any, ...] = ()  # field-mapping extras (unified streams)
    fields: tuple[str, ...] = ()  # unified field order, for change events' changedFields
    description: str = ""

    def holded_id(self, key: str) -> str | None:
        """The id of the listed Holded record a stream key comes from, when Holded can read it by id.

        Unified keys are the record's id, or `<parentId>:<childId>` for embedded children (read through
        their parent); native and custom streams keyed by `id` are read by that id. None where the
        listing has no route by id (taxes, ledger lines, custom streams...).
        """
        if self.listing is None or self.listing.item is None:
            return None
        if self.kind == "unified":
            return key.split(":", 1)[0]
        return key if self.primary_key == ("id",) else None

    def key_of(self, record: Mapping[str, Any]) -> str | None:
        """The record's key (its primary key's values joined by `:`), None when a part is missing or empty."""
        if len(self.primary_key) == 1:  # nearly every stream, once per record: no list, no join
            value = record.get(self.primary_key[0])
            if value is None or value == "":
                return None
            return value if type(value) is str else str(value)
        values = [record.get(part) for part in self.primary_key]
        if any(v is None or v == "" for v in values):
            return None
        return ":".join(str(v) for v in values)

    def extract(
        self,
        listed: Mapping[str, Any],
        *,
        default_currency: str,
        is_person: Callable[[str], bool | None] | None,
        include_raw: bool,
        problems: list[str] | None = None,
        timezone: str = DEFAULT_TIMEZONE,
        received: Mapping[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The stream's records for one listed Holded record (problems: values that did not fit;
        timezone: the account's zone, in which Holded's calendar days are read; received: the record as
        Holded returned it when `listed` is its v1 translation, kept as a unified record's `raw`)."""
        if self.kind != "unified":
            yield dict(listed)
            return
        for mapping in self.mappings:
            yield from to_unified(
                mapping,
                listed,
                default_currency=default_currency,
                is_person_lookup=is_person,
                extra_fields=self.extras,
                include_raw=include_raw,
                problems=problems,
                timezone=timezone,
                received=received,
                received_children=(
                    self.listing.raw_list(mapping.children) if mapping.children and self.listing else None
                ),
            )


# ------------------------------------------------------------------------------------ schemas


def _airbyte_schema(node: Any, defs: Mapping[str, Any]) -> Any:
    """Pydantic's JSON schema -> Airbyte's dialect: refs inlined, Optional as ["null", type]."""
    if isinstance(node, list):
        return [_airbyte_schema(n, defs) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _airbyte_schema(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
    if "anyOf" in node:
        options = [_airbyte_schema(o, defs) for o in node["anyOf"]]
        non_null = [o for o in options if o.get("type") != "null"]
        if len(non_null) == 1:
            merged = dict(non_null[0])
            kind = merged.get("type", "object")
            merged["type"] = ["null", *([kind] if isinstance(kind, str) else kind)]
            for key in ("description", "format"):
                if key in node:
                    merged[key] = node[key]
            return merged
    out = {}
    for key, value in node.items():
        if key in ("title", "$defs", "default", "anyOf", "additionalProperties", "required"):
            continue
        out[key] = _airbyte_schema(value, defs)
    if out.get("type") == "object" or "properties" in out:
        out["additionalProperties"] = True
    return out


def unified_schema(stream: str, field_mappings: Sequence[FieldMapping] = ()) -> dict[str, Any]:
    raw = MODELS[stream].model_json_schema()
    schema = _airbyte_schema(raw, raw.get("$defs", {}))
    props = schema.setdefault("properties", {})
    props["id"] = {"type": "string"}
    for name in ("createdAt", "updatedAt"):
        props[name] = {"type": ["null", "string"], "format": "date-time"}
    props["raw"] = {"type": ["null", "object"], "additionalProperties": True}
    props[DELETED_AT] = {"type": ["null", "string"], "format": "date-time"}
    props.update(mapped_schema_properties(stream, field_mappings))
    return {"$schema": "http://json-schema.org/draft-07/schema#", **schema}


CURSOR_SCHEMAS: dict[str, dict[str, Any]] = {
    "unix": {"type": ["null", "integer"]},
    "date-time": {"type": ["null", "string"], "format": "date-time"},
    "unknown": {"type": ["null", "integer", "string"]},  # a custom stream's own cursor field: seconds or text
}


def permissive_schema(
    primary_key: Sequence[str], cursor: str | None = None, cursor_format: str = "unix"
) -> dict[str, Any]:
    """A native or custom stream's schema: its key and cursor typed, any other field allowed.

    Args:
        primary_key: the key fields (a string or an integer each).
        cursor: the modification-time field, when there is one.
        cursor_format: how the cursor is served, `unix` seconds (API v1), an ISO `date-time` (API v2) or
            `unknown` (seconds or text).
    """
    props: dict[str, Any] = {key: {"type": ["string", "integer"]} for key in primary_key}
    if cursor:
        props[cursor] = dict(CURSOR_SCHEMAS[cursor_format])
    props[DELETED_AT] = {"type": ["null", "string"], "format": "date-time"}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": True,
        "properties": props,
    }


EVENTS_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": True,
    "properties": {
        "id": {"type": "string", "description": "stable: the same change always has the same id"},
        "event": {"type": "string", "description": "<model>::created|updated|deleted"},
        "model": {"type": "string"},
        "recordId": {"type": "string"},
        "type": {"type": "string", "enum": ["created", "updated", "deleted"]},
        "detectedAt": {"type": "string", "format": "date-time"},
        "changedFields": {"type": ["null", "array"], "items": {"type": "string"}},
        "record": {"type": ["null", "object"], "additionalProperties": True},
    },
}


# ----------------------------------------------------------------------------------- catalogs


def unified_streams(
    field_mappings: Sequence[FieldMapping] = (), include_contact_persons: bool = True, dialect: Dialect = V1
) -> list[StreamSpec]:
    specs = []
    for name, mappings in MAPPINGS.items():
        if not include_contact_persons:
            mappings = tuple(m for m in mappings if not m.children or name != "genericContact")
        first = mappings[0]
        fields = tuple(MODELS[name].model_fields)
        specs.append(
            StreamSpec(
                name=name,
                kind="unified",
                listing=dialect.resource(first.resource).listing,
                primary_key=("id",),
                json_schema=unified_schema(name, field_mappings),
                cursor=first.cursor,
                module=dialect.resource(first.resource).module,
                mappings=mappings,
                extras=extra_fields(name, field_mappings),
                fields=tuple(f for f in fields if f != "raw"),
                description=first.description,
            )
        )
    return specs


def listing_for(path: str, dialect: Dialect = V1) -> Listing:
    """The declared listing of a Holded list route (a route the dialect does not know: a plain one)."""
    resource = dialect.by_path(path)
    return resource.listing if resource is not None else Listing(path)


def native_streams(dialect: Dialect = V1) -> list[StreamSpec]:
    """One stream per resource the dialect serves, records as Holded returns them."""
    return [
        StreamSpec(
            name=r.name,
            kind="native",
            listing=r.listing,
            primary_key=r.primary_key,
            json_schema=permissive_schema(r.primary_key, r.cursor, r.cursor_format),
            cursor=r.cursor,
            module=r.module,
            description=f"Holded {r.path}, records as Holded returns them",
        )
        for r in dialect.resources.values()
    ]


def custom_stream(definition: Mapping[str, Any], dialect: Dialect = V1) -> StreamSpec:
    """A user-declared stream over any Holded list endpoint: {name, path, primary_key, cursor_field?}."""
    pk = definition.get("primary_key") or "id"
    primary_key = tuple(pk) if isinstance(pk, list) else (str(pk),)
    path = "/" + str(definition["path"]).lstrip("/")
    cursor = definition.get("cursor_field") or None
    known = dialect.by_path(path)
    cursor_format = known.cursor_format if known is not None and known.cursor == cursor else "unknown"
    return StreamSpec(
        name=str(definition["name"]),
        kind="custom",
        listing=listing_for(path, dialect),  # a route the connector knows shares its pass and its route by id
        primary_key=primary_key,
        json_schema=permissive_schema(primary_key, cursor, cursor_format),
        cursor=cursor,
        module=path.split("/")[1] if path.count("/") > 1 else "",
        description=f"custom stream over {path}",
    )


def events_stream() -> StreamSpec:
    return StreamSpec(
        name=EVENTS_STREAM,
        kind="events",
        listing=None,
        primary_key=("id",),
        json_schema=EVENTS_SCHEMA,
        description="created / updated / deleted events of the ten unified models",
    )
