"""The user's field mappings: a Holded custom field (by name) or any Holded path onto a unified field.

Config (`field_mappings`, shared by source and destination):

    [{"stream": "genericCompany", "field": "vatNumber", "holded_custom_field": "NIF-IVA"},
     {"stream": "genericContact", "field": "iban", "holded_path": "iban", "type": "string"}]

A mapping onto an existing unified field replaces its declaration; onto a new name it adds a field.
A mapped custom field leaves `customFields` (it now has a field of its own). Mappings go through the
same `Field` declarations as the built-in ones, so the destination writes them back the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from holded_core.errors import HoldedConfigError
from holded_core.mappings import Field, ReadContext, custom_fields_of

JSON_TYPES = ("string", "number", "integer", "boolean", "object", "array")


@dataclass(frozen=True)
class FieldMapping:
    stream: str
    field: str
    custom_field: str | None = None
    path: str | None = None
    type: str = "string"


def parse_field_mappings(raw: Any, known_streams: Sequence[str]) -> list[FieldMapping]:
    if not raw:
        return []
    if not isinstance(raw, list):
        raise HoldedConfigError("`field_mappings` must be a list of {stream, field, holded_custom_field | holded_path}")
    out = []
    for i, item in enumerate(raw):
        where = f"`field_mappings[{i}]`"
        if not isinstance(item, Mapping):
            raise HoldedConfigError(f"{where} must be an object")
        stream, target = item.get("stream"), item.get("field")
        custom, path = item.get("holded_custom_field"), item.get("holded_path")
        kind = item.get("type", "string")
        if stream not in known_streams:
            raise HoldedConfigError(
                f"{where}.stream {stream!r} is not a unified stream; use one of {', '.join(known_streams)}"
            )
        if not target or not isinstance(target, str):
            raise HoldedConfigError(f"{where}.field is required: the unified field name to fill")
        if bool(custom) == bool(path):
            raise HoldedConfigError(f"{where}: give exactly one of holded_custom_field or holded_path")
        if kind not in JSON_TYPES:
            raise HoldedConfigError(f"{where}.type must be one of {', '.join(JSON_TYPES)}")
        if target in ("id", "createdAt", "updatedAt", "customFields", "raw"):
            raise HoldedConfigError(f"{where}.field {target!r} is reserved; map onto another field name")
        out.append(FieldMapping(stream, target, custom or None, path or None, kind))
    return out


def _coerce(kind: str):
    def convert(value: Any) -> Any:
        if value is None or value == "":
            return None
        if kind == "string" and not isinstance(value, str):
            return str(value)
        if kind in ("number", "integer"):
            try:
                return int(float(value)) if kind == "integer" else float(value)
            except (TypeError, ValueError):
                return None
        return value

    return convert


def _custom_reader(name: str, convert):
    def read(_value: Any, ctx: ReadContext) -> Any:
        return convert(custom_fields_of(ctx.record.get("customFields")).get(name))

    return read


def extra_fields(stream: str, mappings: Sequence[FieldMapping]) -> tuple[Field, ...]:
    fields = []
    for m in mappings:
        if m.stream != stream:
            continue
        convert = _coerce(m.type)
        if m.custom_field:
            fields.append(
                Field(
                    (m.field,), None, _custom_reader(m.custom_field, convert), lambda v: v, custom_field=m.custom_field
                )
            )
        else:
            fields.append(Field((m.field,), m.path, lambda v, _ctx, c=convert: c(v), lambda v: v))
    return tuple(fields)


def mapped_schema_properties(stream: str, mappings: Sequence[FieldMapping]) -> dict[str, Any]:
    return {m.field: {"type": ["null", m.type]} for m in mappings if m.stream == stream}
