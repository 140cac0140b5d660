"""How a stream becomes a DuckDB table: columns and types from the stream's JSON schema.

Unified streams get one typed column per field (objects and arrays as JSON). Holded-native and
custom streams, whose records are Holded's own loose shapes, get their primary key columns plus the
whole record in `record` (JSON). The events stream gets its fields plus `seq`, the order of detection, and
`origin` (`holded`, or `connector` for a change this connector wrote itself: `holded_core.own_writes`).
Every table has `_synced_at`, when the row was last written.

Records reach DuckDB as JSON text and DuckDB's own `json_transform` types them (in C++, in bulk): a
value that does not fit its column's type becomes NULL instead of failing the batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from holded_core.streams import DELETED_AT, StreamSpec

SYNCED_AT = "_synced_at"
ORIGIN = "origin"  # events: `holded`, or `connector` for the connector's own write coming back (own_writes.py)


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str  # the table's column type
    json_type: str  # what DuckDB's json_transform extracts (a value that does not fit becomes NULL)

    @property
    def ddl(self) -> str:
        return f"{quote(self.name)} {self.sql_type}"

    def select(self) -> str:
        """The column's value from `s` (the transformed record) or `j` (the record's JSON text)."""
        if self.name == RECORD:
            return f"j::JSON AS {quote(self.name)}"
        value = f"s.{quote(self.name)}"
        if self.sql_type != self.json_type:  # timestamps and dates arrive as text; a malformed one is NULL
            value = f"TRY_CAST({value} AS {self.sql_type})"
        return f"{value} AS {quote(self.name)}"


RECORD = "record"  # native and custom tables: the whole Holded record


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _column(name: str, prop: dict[str, Any]) -> Column:
    kinds = prop.get("type", "string")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    kinds = [k for k in kinds if k != "null"] or ["string"]
    if len(kinds) > 1:
        return Column(name, "VARCHAR", "VARCHAR")
    kind = kinds[0]
    if kind == "string" and prop.get("format") == "date-time":
        return Column(name, "TIMESTAMPTZ", "VARCHAR")
    if kind == "string" and prop.get("format") == "date":
        return Column(name, "DATE", "VARCHAR")
    sql_type = {"object": "JSON", "array": "JSON", "number": "DOUBLE", "integer": "BIGINT", "boolean": "BOOLEAN"}
    return Column(name, sql_type.get(kind, "VARCHAR"), sql_type.get(kind, "VARCHAR"))


@dataclass(frozen=True)
class TableSpec:
    name: str
    kind: str  # unified | native | custom | events
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]  # the data columns (without _synced_at and, for events, seq)

    def structure(self) -> str:
        """The json_transform structure: every field the table reads from a record, tombstone marker too."""
        fields = {c.name: c.json_type for c in self.columns if c.name != RECORD}
        fields.update({key: "VARCHAR" for key in self.primary_key})
        fields[DELETED_AT] = "VARCHAR"
        return orjson.dumps(fields).decode()


def table_for(spec: StreamSpec) -> TableSpec:
    props: dict[str, Any] = spec.json_schema.get("properties", {})
    if spec.kind in ("native", "custom"):
        columns = [Column(k, "VARCHAR", "VARCHAR") for k in spec.primary_key] + [Column(RECORD, "JSON", "JSON")]
    else:
        columns = [_column(name, prop) for name, prop in props.items() if name != DELETED_AT]
    if spec.kind == "events":
        columns.append(Column(ORIGIN, "VARCHAR", "VARCHAR"))
    return TableSpec(spec.name, spec.kind, tuple(spec.primary_key), tuple(columns))
