"""The source's connection specification (JSON Schema, Airbyte conventions)."""

from __future__ import annotations

from typing import Any

from holded_core.config import DEFAULT_BASE_URL

CREDENTIALS: dict[str, Any] = {
    "title": "Authentication",
    "type": "object",
    "order": 0,
    "oneOf": [
        {
            "title": "API key",
            "type": "object",
            "required": ["api_key"],
            "properties": {
                "auth_type": {"type": "string", "const": "api_key", "default": "api_key"},
                "api_key": {
                    "title": "API key",
                    "type": "string",
                    "airbyte_secret": True,
                    "description": "Holded API key (Settings > Developers > API). Sent as the `key` header.",
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

SPEC: dict[str, Any] = {
    "documentationUrl": "https://github.com/holded-connector/holded-connector#readme",
    "connectionSpecification": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Holded Source Spec",
        "type": "object",
        "required": ["credentials"],
        "additionalProperties": True,
        "properties": {
            "credentials": CREDENTIALS,
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
        },
    },
}
