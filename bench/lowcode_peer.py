"""The low-code peer of `source-holded read`: a declarative (YAML-style) CDK source over the same Holded lists.

    .venv/bin/python bench/lowcode_peer.py read --config CONFIG --catalog CATALOG

What an Airbyte user would get from the Connector Builder for these seven listings: one declarative
stream per listing (`manifest(dialect)`), run by the CDK's `ConcurrentDeclarativeSource` (what
`YamlDeclarativeSource` and `source-declarative-manifest` run in airbyte-cdk 7) through the CDK's own
`launch`, with the airbyte-cdk installed here. It emits the Holded records as they are listed (no
mapping, no change tracking, no state): the benchmark's measure of what the CDK's own machinery costs
for the same pages. `bench/source_read.py` runs it as a fresh process, like the source.

CONFIG: `{"dialect": "v1" | "v2", "base_url": ..., "api_key": ... (v1) | "token": ... (v2)}`.
"""

from __future__ import annotations

import json
import sys
from typing import Any

# name, v1 route, v2 route, v2 page size (the largest each v2 route takes, as the source asks for it)
LISTINGS: tuple[tuple[str, str, str, int], ...] = (
    ("contacts", "/invoicing/v1/contacts", "/v2/contacts", 100),
    ("employees", "/team/v1/employees", "/v2/employees", 200),
    ("projects", "/projects/v1/projects", "/v2/projects", 100),
    ("funnels", "/crm/v1/funnels", "/v2/funnels", 200),
    ("leads", "/crm/v1/leads", "/v2/leads", 200),
    ("events", "/crm/v1/events", "/v2/events", 200),
    ("invoices", "/invoicing/v1/documents/invoice", "/v2/invoices", 100),
)
V1_PAGE = 500  # Holded v1 answers 500 records a page; the first short page is the last
CONCURRENCY = 3  # the source's default stream_concurrency


def _option(field: str) -> dict[str, Any]:
    return {"type": "RequestOption", "inject_into": "request_parameter", "field_name": field}


def manifest(dialect: str) -> dict[str, Any]:
    """The declarative manifest of the seven listings for Holded API `dialect` (v1: `?page=N`, `key`
    header; v2: `?limit=&cursor=` answering `{items, cursor, has_more}`, a bearer token)."""
    if dialect == "v2":
        auth: dict[str, Any] = {"type": "BearerAuthenticator", "api_token": "{{ config['token'] }}"}
    else:
        auth = {
            "type": "ApiKeyAuthenticator",
            "api_token": "{{ config['api_key'] }}",
            "inject_into": {"type": "RequestOption", "inject_into": "header", "field_name": "key"},
        }
    streams = []
    for name, v1_path, v2_path, v2_size in LISTINGS:
        if dialect == "v2":
            paginator = {
                "type": "DefaultPaginator",
                "pagination_strategy": {
                    "type": "CursorPagination",
                    "cursor_value": "{{ response.cursor }}",
                    "stop_condition": "{{ not response.has_more }}",
                    "page_size": v2_size,
                },
                "page_token_option": _option("cursor"),
                "page_size_option": _option("limit"),
            }
            field_path = ["items"]
        else:
            paginator = {
                "type": "DefaultPaginator",
                "pagination_strategy": {
                    "type": "PageIncrement",
                    "page_size": V1_PAGE,
                    "start_from_page": 1,
                    "inject_on_first_request": True,
                },
                "page_token_option": _option("page"),
            }
            field_path = ["employees"] if name == "employees" else []  # v1 wraps this one list
        streams.append(
            {
                "type": "DeclarativeStream",
                "name": name,
                "primary_key": ["id"],
                "retriever": {
                    "type": "SimpleRetriever",
                    "requester": {
                        "type": "HttpRequester",
                        "url_base": "{{ config['base_url'] }}",
                        "path": v2_path if dialect == "v2" else v1_path,
                        "http_method": "GET",
                        "authenticator": auth,
                    },
                    "record_selector": {
                        "type": "RecordSelector",
                        "extractor": {"type": "DpathExtractor", "field_path": field_path},
                    },
                    "paginator": paginator,
                },
                "schema_loader": {
                    "type": "InlineSchemaLoader",
                    "schema": {"type": "object", "additionalProperties": True, "properties": {}},
                },
            }
        )
    return {
        "version": "6.0.0",
        "type": "DeclarativeSource",
        "check": {"type": "CheckStream", "stream_names": ["contacts"]},
        "concurrency_level": {
            "type": "ConcurrencyLevel",
            "default_concurrency": CONCURRENCY,
            "max_concurrency": CONCURRENCY,
        },
        "streams": streams,
        "spec": {
            "type": "Spec",
            "connection_specification": {
                "type": "object",
                "required": ["base_url"],
                "properties": {
                    "dialect": {"type": "string", "enum": ["v1", "v2"]},
                    "base_url": {"type": "string"},
                    "api_key": {"type": "string", "airbyte_secret": True},
                    "token": {"type": "string", "airbyte_secret": True},
                },
            },
        },
    }


def catalog(dialect: str) -> dict[str, Any]:
    """The configured catalog of the seven streams, full_refresh/overwrite."""
    schema = {"type": "object", "additionalProperties": True, "properties": {}}
    return {
        "streams": [
            {
                "stream": {"name": name, "json_schema": schema, "supported_sync_modes": ["full_refresh"]},
                "sync_mode": "full_refresh",
                "destination_sync_mode": "overwrite",
            }
            for name, *_ in LISTINGS
        ]
    }


def main(args: list[str]) -> None:
    from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch
    from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource

    parsed = AirbyteEntrypoint.parse_args(args)
    config: dict[str, Any] = {}
    if getattr(parsed, "config", None):
        with open(parsed.config) as fh:
            config = json.load(fh)
    configured = None
    if getattr(parsed, "catalog", None):
        configured = ConcurrentDeclarativeSource.read_catalog(parsed.catalog)
    source = ConcurrentDeclarativeSource(
        catalog=configured, config=config, state=[], source_config=manifest(config.get("dialect", "v1"))
    )
    launch(source, args)


if __name__ == "__main__":
    main(sys.argv[1:])
