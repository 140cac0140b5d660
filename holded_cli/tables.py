"""How a stream becomes a DuckDB table: columns and types from the stream's JSON schema.

Unified streams get one typed column per field (objects and arrays as JSON). Holded-native and
custom streams, whose records are Holded's own loose shapes, get their primary key columns plus the
whole record in `record` (JSON). The events stream gets its fields plus `seq`, the order of detection.
Every table has `_synced_at`, when the row was last written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from holded_core.streams import DELETED_AT, StreamSpec

SYNCED_AT = "_synced_at"


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return _json(value)
    return str(value)


def _number(value: Any) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def _integer(value: Any) -> int | None:
    number = _number(value)
    return None if number is None or number != number else int(number)  # NaN is not an integer


def _boolean(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    convert: Callable[[Any], Any]  # Python value -> what DuckDB scans (str, float, int, bool or None)
    lenient: bool = False  # cast with TRY_CAST: a malformed value becomes NULL instead of failing the batch

    @property
    def ddl(self) -> str:
        return f"{quote(self.name)} {self.sql_type}"

    def select(self, source: str) -> str:
        cast = "TRY_CAST" if self.lenient else "CAST"
        return f"{cast}({source}.{quote(self.name)} AS {self.sql_type}) AS {quote(self.name)}"


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _column(name: str, prop: dict[str, Any]) -> Column:
    kinds = prop.get("type", "string")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    kinds = [k for k in kinds if k != "null"] or ["string"]
    if len(kinds) > 1:
        return Column(name, "VARCHAR", _text)
    kind = kinds[0]
    if kind == "string" and prop.get("format") == "date-time":
        return Column(name, "TIMESTAMPTZ", _text, lenient=True)
    if kind == "string" and prop.get("format") == "date":
        return Column(name, "DATE", _text, lenient=True)
    if kind in ("object", "array"):
        return Column(name, "JSON", _json)
    return {
        "number": Column(name, "DOUBLE", _number),
        "integer": Column(name, "BIGINT", _integer),
        "boolean": Column(name, "BOOLEAN", _boolean),
    }.get(kind, Column(name, "VARCHAR", _text))


@dataclass(frozen=True)
class TableSpec:
    name: str
    kind: str  # unified | native | custom | events
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]  # the data columns (without _synced_at and, for events, seq)

    def row(self, record: dict[str, Any]) -> list[Any]:
        if self.kind in ("native", "custom"):
            return [_text(record.get(k)) for k in self.primary_key] + [_json(record)]
        return [column.convert(record.get(column.name)) for column in self.columns]


def table_for(spec: StreamSpec) -> TableSpec:
    props: dict[str, Any] = spec.json_schema.get("properties", {})
    if spec.kind in ("native", "custom"):
        columns = [Column(k, "VARCHAR", _text) for k in spec.primary_key] + [Column("record", "JSON", _json)]
    else:
        columns = [_column(name, prop) for name, prop in props.items() if name != DELETED_AT]
    return TableSpec(spec.name, spec.kind, tuple(spec.primary_key), tuple(columns))
