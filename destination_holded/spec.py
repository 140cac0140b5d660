"""The destination's connection specification: the source's connection settings plus write options."""

from __future__ import annotations

import copy
from typing import Any

from source_holded.spec import SPEC as SOURCE_SPEC

_source = SOURCE_SPEC["connectionSpecification"]["properties"]
_shared = ("credentials", "base_url", "requests_per_second", "default_currency", "timezone", "field_mappings")

SPEC: dict[str, Any] = {
    "documentationUrl": SOURCE_SPEC["documentationUrl"],
    "supported_destination_sync_modes": ["append", "append_dedup", "overwrite", "update", "soft_delete"],
    "connectionSpecification": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Holded Destination Spec",
        "type": "object",
        "required": ["credentials"],
        "additionalProperties": True,
        "properties": {
            **{name: copy.deepcopy(_source[name]) for name in _shared},
            "dry_run": {
                "title": "Dry run",
                "type": "boolean",
                "default": False,
                "order": 20,
                "description": "Log the plan (operation and changed fields per record) and write nothing.",
            },
            "rejected_records_path": {
                "title": "Rejected records file",
                "type": "string",
                "order": 21,
                "description": "JSONL file every refused record is appended to, with its reason.",
            },
            "concurrency": {
                "title": "Write concurrency",
                "type": "integer",
                "default": 4,
                "minimum": 1,
                "maximum": 32,
                "order": 23,
                "description": "Records written at the same time where order does not matter.",
            },
            "matching_keys": {
                "title": "Matching keys",
                "type": "object",
                "order": 24,
                "additionalProperties": {"type": "string"},
                "examples": [{"genericCompany": "taxId", "genericUser": "email"}],
                "description": (
                    "Per stream, the unified field an upsert matches Holded records on (besides the id), compared "
                    "trimmed, case-insensitively and Unicode-normalised."
                ),
            },
            "rejection_threshold": {
                "title": "Rejection threshold",
                "type": "number",
                "default": 0.1,
                "minimum": 0,
                "maximum": 1,
                "order": 22,
                "description": "Fail the sync when more than this share of a stream's records is refused.",
            },
        },
    },
}
