"""A `read`'s input files, read and checked as the CDK's launcher does, without `airbyte_cdk`.

- the config: a JSON object, our shorthand expanded (`expand_shorthand`), the CDK's internal test keys
  (`_limit`, `_page_size`) set aside, then checked against the spec's JSON schema with `jsonschema.validate`
  (what the CDK's `check_config_against_spec_or_exit` calls): a mismatch is a config_error naming it;
- the secrets: every `airbyte_secret` field of the spec found in the config (the CDK's `get_secrets`);
- the configured catalog and the state, checked against the protocol's required fields and enums (the CDK
  loads them with its serializer, which refuses the same files), the state in every shape the CDK's
  `ConnectorStateManager` reads: per-stream messages, one GLOBAL message, LEGACY messages (ignored, as the
  CDK does), an empty or missing file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft7Validator, validate
from jsonschema.exceptions import ValidationError

from holded_core.adapter import StreamRequest
from holded_core.config import expand_shorthand
from source_holded.protocol import CONFIG_ERROR, Failure

INTERNAL_KEYS = frozenset({"_limit", "_page_size"})  # the CDK's `InternalConfig.KEYWORDS`

_SYNC_MODES = ["full_refresh", "incremental"]
_STREAM_STATE = {
    "type": "object",
    "required": ["stream_descriptor"],
    "properties": {
        "stream_descriptor": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}, "namespace": {"type": ["string", "null"]}},
        },
        "stream_state": {"type": ["object", "null"]},
    },
}
CATALOG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["streams"],
    "properties": {
        "streams": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["stream", "sync_mode", "destination_sync_mode"],
                "properties": {
                    "stream": {
                        "type": "object",
                        "required": ["name", "json_schema", "supported_sync_modes"],
                        "properties": {
                            "name": {"type": "string"},
                            "json_schema": {"type": "object"},
                            "supported_sync_modes": {"type": "array", "items": {"enum": _SYNC_MODES}},
                            "namespace": {"type": ["string", "null"]},
                        },
                    },
                    "sync_mode": {"enum": _SYNC_MODES},
                    "destination_sync_mode": {"enum": ["append", "overwrite", "append_dedup", "update", "soft_delete"]},
                },
            },
        }
    },
}
STATE_MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"enum": ["GLOBAL", "STREAM", "LEGACY", None]},
        "stream": {"anyOf": [_STREAM_STATE, {"type": "null"}]},
        "global": {
            "anyOf": [
                {
                    "type": "object",
                    "required": ["stream_states"],
                    "properties": {
                        "shared_state": {"type": ["object", "null"]},
                        "stream_states": {"type": "array", "items": _STREAM_STATE},
                    },
                },
                {"type": "null"},
            ]
        },
        "data": {"type": ["object", "null"]},
    },
}


def read_json_file(path: str) -> Any:
    """A JSON file's content.

    Raises:
        OSError: the file cannot be read.
        ValueError: it is not JSON (the CDK's message, naming the file).
    """
    with open(path) as file:
        contents = file.read()
    try:
        return json.loads(contents)
    except json.JSONDecodeError as error:
        raise ValueError(f"Could not read json file {path}: {error}. Please ensure that it is a valid JSON.") from None


def read_config(path: str) -> dict[str, Any]:
    """The config file, its shorthand expanded (`api_token` / `api_key` at the top level).

    Raises:
        ValueError: the file is not JSON or not an object (the CDK's messages).
    """
    config = read_json_file(path)
    if not isinstance(config, dict):
        raise ValueError(
            f"The content of {path} is not an object and therefore is not a valid config. Please ensure the file "
            "represent a config."
        )
    return expand_shorthand(config)


def connector_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config without the CDK's internal test keys (the CDK's `split_config`, first half)."""
    return {k: v for k, v in config.items() if k not in INTERNAL_KEYS}


def check_against_spec(config: Mapping[str, Any], connection_specification: Mapping[str, Any]) -> None:
    """Check a config against the spec's JSON schema, as the CDK's `check_config_against_spec_or_exit`.

    Raises:
        Failure: a config_error, "Config validation error: " and what jsonschema found.
    """
    try:
        validate(instance=config, schema=connection_specification)
    except ValidationError as error:
        raise Failure(
            message="Config validation error: " + error.message,
            internal_message=error.message,
            failure_type=CONFIG_ERROR,
        ) from None  # not chained: the ValidationError's text quotes the config, secrets included


def secret_values(connection_specification: Mapping[str, Any], config: Mapping[str, Any]) -> list[Any]:
    """The config's values at every `airbyte_secret` path of the spec (the CDK's `get_secrets`)."""
    values = []
    for path in _secret_paths(connection_specification.get("properties", {}), []):
        node: Any = config
        for key in path:
            if not isinstance(node, Mapping) or key not in node:
                break
            node = node[key]
        else:
            values.append(node)
    return values


def _secret_paths(schema: Any, path: list[str]) -> list[list[str]]:
    if isinstance(schema, dict):
        return [p for k, v in schema.items() for p in _secret_paths(v, [*path, k])]
    if isinstance(schema, list):
        return [p for item in schema for p in _secret_paths(item, path)]
    if path and path[-1] == "airbyte_secret" and schema is True:
        return [[p for p in path[:-1] if p not in ("properties", "oneOf")]]
    return []


def read_catalog(path: str) -> list[StreamRequest]:
    """The configured catalog's streams, each incremental or not.

    Raises:
        ValueError: the file is not JSON, or not a configured catalog (naming the first field in error).
    """
    catalog = read_json_file(path)
    _check_shape(catalog, CATALOG_SCHEMA, f"{path} is not a configured catalog")
    return [StreamRequest(s["stream"]["name"], s["sync_mode"] == "incremental") for s in catalog["streams"]]


def read_state(path: str | None, stream_names: list[str]) -> dict[str, dict[str, Any]]:
    """Each named stream's saved state ({} when it has none), from a state file in any shape the CDK reads.

    Raises:
        ValueError: the file is not JSON, not a list of state messages, a message has none of `stream`,
            `global` and `data`, or a GLOBAL state carries a shared state (never this connector's).
    """
    messages = read_json_file(path) if path else None
    if not messages:
        return {name: {} for name in stream_names}
    if not isinstance(messages, list):
        raise ValueError(f"{path} is not a state: a list of Airbyte state messages was expected")
    for message in messages:
        _check_shape(message, STATE_MESSAGE_SCHEMA, f"{path} holds something that is not a state message")
        if not message.get("stream") and not message.get("data") and not message.get("global"):
            raise ValueError("AirbyteStateMessage should contain either a stream, global, or state field")
    if len(messages) == 1 and messages[0].get("type") == "GLOBAL":
        global_state = messages[0]["global"]
        if global_state.get("shared_state") is not None:  # even {}: the CDK refuses any shared state
            raise ValueError(
                "Received a GLOBAL AirbyteStateMessage that contains a shared_state. This library only ever "
                "generates per-STREAM STATE messages so this was not generated by this connector. This must be an "
                "orchestrator or platform error. GLOBAL state messages with shared_state will not be processed "
                "correctly. "
            )
        stream_states = global_state["stream_states"]
    else:  # the CDK keeps the STREAM messages only (a LEGACY one is read, then ignored)
        stream_states = [m["stream"] for m in messages if m.get("type") == "STREAM" and m.get("stream")]
    saved = {
        s["stream_descriptor"]["name"]: s.get("stream_state") or {}
        for s in stream_states
        if s["stream_descriptor"].get("namespace") is None  # the CDK looks streams up without a namespace
    }
    return {name: saved.get(name, {}) for name in stream_names}


def _check_shape(instance: Any, schema: dict[str, Any], what: str) -> None:
    error = next(iter(Draft7Validator(schema).iter_errors(instance)), None)
    if error is not None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path) or "(top level)"
        raise ValueError(f"{what}: {where.lstrip('.')}: {error.message}")
