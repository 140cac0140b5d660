"""`source_holded.inputs` (the CDK-free read's config, secrets, catalog and state) against the CDK's own
functions on the same inputs, in-process; `integration_tests/test_source_lines.py` runs both launchers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.sources import Source
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.utils.airbyte_secrets_utils import get_secrets

from source_holded import inputs
from source_holded.spec import SPEC

SPECIFICATION = SPEC["connectionSpecification"]
STREAM_STATE = {"stream_descriptor": {"name": "genericUser"}, "stream_state": {"v": 1, "listed": 3}}
OTHER_STATE = {"stream_descriptor": {"name": "genericCompany"}, "stream_state": {"v": 1, "listed": 9}}


@pytest.mark.parametrize(
    "state",
    [
        [{"type": "STREAM", "stream": STREAM_STATE}, {"type": "STREAM", "stream": OTHER_STATE}],
        [{"type": "GLOBAL", "global": {"stream_states": [STREAM_STATE, OTHER_STATE]}}],
        [{"type": "GLOBAL", "global": {"stream_states": [STREAM_STATE]}}, {"type": "STREAM", "stream": OTHER_STATE}],
        [{"type": "LEGACY", "data": {"genericUser": {"v": 1}}}],
        [{"stream": STREAM_STATE}],  # no type: the CDK reads it and keeps nothing of it
        [{"type": "STREAM", "stream": {**STREAM_STATE, "stream_state": None}}],
        [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "genericUser", "namespace": "n"}}}],
        [],
        {},
        None,
    ],
    ids=[
        "per stream",
        "global",
        "global among others",
        "legacy",
        "untyped",
        "null stream state",
        "namespaced",
        "empty list",
        "empty object",
        "null",
    ],
)
def test_given_a_state_file_then_each_streams_saved_state_is_the_cdks(tmp_path: Path, state: Any) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    names = ["genericUser", "genericCompany", "crmStage"]

    manager = ConnectorStateManager(state=Source.read_state(str(path)))
    theirs = {name: manager.get_stream_state(name, None) for name in names}

    assert inputs.read_state(str(path), names) == theirs


@pytest.mark.parametrize(
    "state",
    [
        [{"type": "STREAM"}],
        [{"type": "GLOBAL", "global": {"shared_state": {"a": 1}, "stream_states": [STREAM_STATE]}}],
        [{"type": "GLOBAL", "global": {"shared_state": {}, "stream_states": [STREAM_STATE]}}],
        [{"type": "STREAM", "stream": {"stream_descriptor": {}}}],
        [{"type": "SIDEWAYS", "stream": STREAM_STATE}],
        {"genericUser": {"v": 1}},
    ],
    ids=[
        "nothing in it",
        "global with a shared state",
        "global with an empty shared state",
        "no name",
        "unknown type",
        "a legacy object",
    ],
)
def test_given_a_state_file_the_cdk_refuses_then_it_is_refused(tmp_path: Path, state: Any) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))

    with pytest.raises(Exception):  # the CDK's serializer or state manager  # noqa: B017
        ConnectorStateManager(state=Source.read_state(str(path)))
    with pytest.raises(ValueError):
        inputs.read_state(str(path), ["genericUser"])


def test_given_no_state_file_then_every_stream_starts_empty() -> None:
    assert inputs.read_state(None, ["genericUser"]) == {"genericUser": {}}


@pytest.mark.parametrize(
    "credentials",
    [
        {"auth_type": "api_token", "token": "pat_abcdef123456"},
        {"auth_type": "api_key", "api_key": "k" * 32},
        {"auth_type": "oauth2", "client_id": "cid", "client_secret": "cs", "refresh_token": "rt", "token_url": "u"},
        {"auth_type": "bearer", "token": "b" * 10},
    ],
    ids=["api token", "api key", "oauth2", "bearer"],
)
def test_given_a_config_then_its_secret_values_are_the_cdks(credentials: dict[str, Any]) -> None:
    config = {"credentials": credentials, "base_url": "https://api.holded.com/api"}

    assert inputs.secret_values(SPECIFICATION, config) == get_secrets(SPECIFICATION, config)


def test_given_a_catalog_then_each_stream_is_read_incrementally_or_not(tmp_path: Path) -> None:
    stream = {"name": "genericUser", "json_schema": {}, "supported_sync_modes": ["incremental"]}
    catalog = {
        "streams": [
            {"stream": stream, "sync_mode": "incremental", "destination_sync_mode": "append"},
            {
                "stream": {**stream, "name": "crmStage"},
                "sync_mode": "full_refresh",
                "destination_sync_mode": "overwrite",
            },
        ]
    }
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog))

    assert [(r.name, r.incremental) for r in inputs.read_catalog(str(path))] == [
        ("genericUser", True),
        ("crmStage", False),
    ]
    catalog["streams"][1]["destination_sync_mode"] = "upsert"
    path.write_text(json.dumps(catalog))
    with pytest.raises(ValueError, match=r"streams\[1\]\.destination_sync_mode"):
        inputs.read_catalog(str(path))
