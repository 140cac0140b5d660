"""The source's connection specification (JSON Schema, Airbyte conventions)."""

from __future__ import annotations

from typing import Any

from holded_core.config import DEFAULT_BASE_URL
from holded_core.errors import API_KEY_V1_WHERE, TOKEN_WHERE

CREDENTIALS: dict[str, Any] = {
    "title": "Authentication",
    "type": "object",
    "order": 0,
    "oneOf": [
        {
            "title": "API token (Holded API v2)",
            "type": "object",
            "required": ["auth_type", "token"],
            "properties": {
                "auth_type": {"type": "string", "const": "api_token", "default": "api_token"},
                "token": {
                    "title": "API token",
                    "type": "string",
                    "airbyte_secret": True,
                    "pattern": "^pat_",
                    "description": (
                        f"A token of Holded's API v2, pat_... ({TOKEN_WHERE}), what Holded issues today: streams "
                        "are read, and the destination writes, through "
                        "API v2. Tick the `.read` permission of each stream synced (and, to write, the `.write` "
                        "permission of each model written); the connector's docs list them, `holded permissions` "
                        "prints them."
                    ),
                },
            },
        },
        {
            "title": "API key (Holded API v1)",
            "type": "object",
            "required": ["api_key"],
            "properties": {
                "auth_type": {"type": "string", "const": "api_key", "default": "api_key"},
                "api_key": {
                    "title": "API key",
                    "type": "string",
                    "airbyte_secret": True,
                    "description": (
                        "A key of Holded's API v1 (deprecated, for existing integrations; 32 hex characters; "
                        f"{API_KEY_V1_WHERE}). Sent as the `key` header."
                    ),
                },
            },
        },
        {
            "title": "OAuth2 (refresh token)",
            "type": "object",
            "required": ["auth_type", "client_id", "client_secret", "refresh_token", "token_url"],
            "properties": {
                "auth_type": {"type": "string", "const": "oauth2", "default": "oauth2"},
                "client_id": {"type": "string", "title": "Client ID", "airbyte_secret": True},
                "client_secret": {"type": "string", "title": "Client secret", "airbyte_secret": True},
                "refresh_token": {"type": "string", "title": "Refresh token", "airbyte_secret": True},
                "token_url": {"type": "string", "title": "Token URL", "format": "uri"},
            },
        },
        {
            "title": "Bearer token",
            "type": "object",
            "required": ["auth_type", "token"],
            "properties": {
                "auth_type": {"type": "string", "const": "bearer", "default": "bearer"},
                "token": {"type": "string", "title": "Token", "airbyte_secret": True},
            },
        },
    ],
}

# OAuth is configured by the user (Holded v1 has no OAuth of its own: e.g. a gateway in front of it).
ADVANCED_AUTH: dict[str, Any] = {
    "auth_flow_type": "oauth2.0",
    "predicate_key": ["credentials", "auth_type"],
    "predicate_value": "oauth2",
    "oauth_config_specification": {
        "complete_oauth_output_specification": {
            "type": "object",
            "properties": {
                "refresh_token": {"type": "string", "path_in_connector_config": ["credentials", "refresh_token"]}
            },
        },
        "complete_oauth_server_input_specification": {
            "type": "object",
            "properties": {"client_id": {"type": "string"}, "client_secret": {"type": "string"}},
        },
        "complete_oauth_server_output_specification": {
            "type": "object",
            "properties": {
                "client_id": {"type": "string", "path_in_connector_config": ["credentials", "client_id"]},
                "client_secret": {"type": "string", "path_in_connector_config": ["credentials", "client_secret"]},
            },
        },
    },
}

SPEC: dict[str, Any] = {
    "documentationUrl": "https://github.com/holded-connector/holded-connector#readme",
    "supportsIncremental": True,
    "advanced_auth": ADVANCED_AUTH,
    "connectionSpecification": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Holded Source Spec",
        "type": "object",
        "required": ["credentials"],
        "additionalProperties": True,
        "properties": {
            "credentials": CREDENTIALS,
            "api_version": {
                "title": "API version",
                "type": "string",
                "enum": ["auto", "v1", "v2"],
                "default": "auto",
                "order": 12,
                "description": "auto: the credential decides (an API token is v2, an API key v1).",
            },
            "base_url": {
                "title": "Base URL",
                "type": "string",
                "default": DEFAULT_BASE_URL,
                "order": 1,
                "description": "Holded API root. Point it at the local sandbox to rehearse.",
            },
            "requests_per_second": {
                "title": "Requests per second",
                "type": "number",
                "default": 10,
                "minimum": 0.1,
                "order": 2,
            },
            "read_ahead": {
                "title": "Page read-ahead",
                "type": "integer",
                "default": 2,
                "minimum": 0,
                "maximum": 32,
                "order": 3,
                "description": "Pages fetched in parallel ahead of the one being read.",
            },
            "stream_concurrency": {
                "title": "Stream concurrency",
                "type": "integer",
                "default": 3,
                "minimum": 1,
                "maximum": 16,
                "order": 4,
                "description": "Holded listings read at the same time (all share one rate budget).",
            },
            "start_date": {
                "title": "Start date",
                "type": "string",
                "format": "date",
                "pattern": "^$|^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+(Z|[+-][0-9:]+)?)?$",
                "examples": ["2024-01-01"],
                "order": 5,
                "description": "Only documents (invoices, payments...) dated on or after this day (from its "
                "midnight in the account's `timezone`). Empty: all.",
            },
            "default_currency": {
                "title": "Default currency",
                "type": "string",
                "default": "EUR",
                "pattern": "^[A-Za-z]{3}$",
                "order": 6,
                "description": "Currency of CRM opportunities (Holded leads carry none).",
            },
            "timezone": {
                "title": "Account time zone",
                "type": "string",
                "default": "Europe/Madrid",
                "examples": ["Europe/Madrid", "Atlantic/Canary"],
                "order": 11,
                "description": "IANA time zone of the Holded account. Holded keeps calendar days (an invoice's "
                "date and due date, a lead's close date, a project's dates) as midnight there: they are read "
                "and written as YYYY-MM-DD days in this zone, and a date-only `start_date` starts at its midnight.",
            },
            "include_raw": {
                "title": "Include raw Holded records",
                "type": "boolean",
                "default": False,
                "order": 7,
                "description": "Add `raw` (the Holded record as received) to unified records.",
            },
            "include_contact_persons": {
                "title": "Contact persons as contacts",
                "type": "boolean",
                "default": True,
                "order": 8,
                "description": "Also emit companies' contact persons in genericContact (id <companyId>:<personId>).",
            },
            "field_mappings": {
                "title": "Field mappings",
                "type": "array",
                "order": 9,
                "description": "Map a Holded custom field (by name) or any Holded path onto a unified field.",
                "items": {
                    "type": "object",
                    "required": ["stream", "field"],
                    "properties": {
                        "stream": {"type": "string", "description": "unified stream, e.g. genericCompany"},
                        "field": {"type": "string", "description": "unified field to fill (existing or new)"},
                        "holded_custom_field": {"type": "string", "description": "Holded custom field name"},
                        "holded_path": {"type": "string", "description": "dotted Holded path, e.g. iban"},
                        "type": {
                            "type": "string",
                            "enum": ["string", "number", "integer", "boolean", "object", "array"],
                            "default": "string",
                        },
                    },
                },
            },
            "custom_streams": {
                "title": "Custom streams",
                "type": "array",
                "order": 10,
                "description": "Your own streams over any Holded v1 list endpoint.",
                "items": {
                    "type": "object",
                    "required": ["name", "path"],
                    "properties": {
                        "name": {"type": "string"},
                        "path": {"type": "string", "examples": ["/invoicing/v1/products"]},
                        "primary_key": {"type": "string", "default": "id"},
                        "cursor_field": {"type": "string"},
                    },
                },
            },
            "mass_deletion_share": {
                "title": "Mass deletion share",
                "type": "number",
                "default": 0.2,
                "exclusiveMinimum": 0,
                "maximum": 1,
                "order": 11,
                "description": (
                    "A record missing from a listing is deleted only once Holded confirms it (404 by id). When "
                    "more than this share of a stream's records vanish in one sync, a few are read again first, "
                    "and if Holded still has any, none is deleted that sync."
                ),
            },
        },
    },
}
