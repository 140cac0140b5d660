"""What the CDK standard suites (source and destination) share: config templates rendered for a sandbox
started on a free port, scenarios pointed at the rendered copies, and the skipped image tests.

The configs under `integration_tests/acceptance/` are templates: the sandbox's port is only known once it
runs, and its API v1 key and API v2 token are made up per run (with digits, so the CDK's secret-leak check
searches the output for them). Each suite's scenarios come in both dialects: `*config.json` with the v1 key,
`*config_v2.json` with the v2 token (`dialect_of` tells them apart). The configs are read only when a test
runs, so the rendered files need not exist at collection.
"""

from __future__ import annotations

import json
import secrets
import shutil
import string
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.test.models import ConnectorTestScenario

from holded_sandbox.testing import running_sandbox

TEMPLATES = Path("integration_tests") / "acceptance"  # relative to the connector root, as in the YAML
API_KEY = f"standard-tests-{secrets.token_hex(8)}-0"
API_TOKEN = f"pat_standard-tests-{secrets.token_hex(8)}-0"
NO_DOCKER = (
    "image test: it builds and runs the connector's Docker image, and there is no Docker daemon here "
    "(the spec backward-compatibility test also needs the public connector registry). Run "
    "`airbyte-cdk image test` on a machine with Docker for these."
)


def render(template: Path, destination: Path, values: dict[str, str]) -> None:
    """Write `template` (JSON) to `destination` with `${NAME}` placeholders in its strings filled in."""

    def fill(node: Any) -> Any:
        if isinstance(node, str):
            return string.Template(node).substitute(values)  # an unknown placeholder raises KeyError
        if isinstance(node, dict):
            return {key: fill(value) for key, value in node.items()}
        if isinstance(node, list):
            return [fill(value) for value in node]
        return node

    destination.write_text(json.dumps(fill(json.loads(template.read_text()))))


def pointed_at(scenarios: Iterable[ConnectorTestScenario], rendered: Path) -> list[ConnectorTestScenario]:
    """The scenarios, each reading the rendered copy of its config template."""
    out = []
    for scenario in scenarios:
        path = scenario.config_path
        if path is not None and not path.is_absolute() and path.parent == TEMPLATES:
            scenario = scenario.model_copy(update={"config_path": rendered / path.name})
        out.append(scenario)
    return out


@contextmanager
def sandbox_with_configs(
    connector_root: Path, scenarios: Iterable[ConnectorTestScenario], rendered: Path
) -> Iterator[Path]:
    """Serve the sandbox on a free port and render the scenario configs for it; clean both up after."""
    paths = {s.config_path for s in scenarios if s.config_path is not None}
    with running_sandbox(scale=0.05, seed=1, api_key=API_KEY, api_token=API_TOKEN) as sandbox:
        rendered.mkdir(parents=True, exist_ok=True)
        try:
            values = {
                "SANDBOX_BASE_URL": sandbox.base_url,
                "SANDBOX_API_KEY": sandbox.api_key,
                "SANDBOX_API_TOKEN": API_TOKEN,
            }
            for path in paths:
                if path.parent == rendered:
                    render(connector_root / TEMPLATES / path.name, path, values)
            yield rendered
        finally:
            shutil.rmtree(rendered, ignore_errors=True)


def dialect_of(connector_root: Path, scenario: ConnectorTestScenario) -> str:
    """`v1` or `v2`: the Holded API a scenario's config template speaks (by its credential's `auth_type`)."""
    assert scenario.config_path is not None, scenario
    template = json.loads((connector_root / TEMPLATES / scenario.config_path.name).read_text())
    return {"api_key": "v1", "api_token": "v2"}[template["credentials"]["auth_type"]]


def assert_both_dialects(connector_root: Path, scenarios: Iterable[ConnectorTestScenario]) -> None:
    """Every scenario kind (a check that succeeds, one that fails; read and discover where the suite has
    them) runs once with a v1 key and once with a v2 token. Guards against a scenarios file losing an
    entry: a missing scenario only removes the CDK's test for it, it fails nothing."""
    kinds: dict[tuple[str, ...], set[str]] = {}
    for scenario in scenarios:
        kind = (str(scenario.status), *sorted(scenario.commands))
        kinds.setdefault(kind, set()).add(dialect_of(connector_root, scenario))
    assert kinds and all(dialects == {"v1", "v2"} for dialects in kinds.values()), kinds


class SkipImageTests:
    """Mixed in before the CDK's suite class: its Docker image tests cannot run here (see NO_DOCKER)."""

    @pytest.mark.skip(reason=NO_DOCKER)
    def test_docker_image_build_and_spec(self) -> None: ...

    @pytest.mark.skip(reason=NO_DOCKER)
    def test_docker_image_spec_backward_compatibility(self) -> None: ...

    @pytest.mark.skip(reason=NO_DOCKER)
    def test_docker_image_build_and_check(self) -> None: ...

    @pytest.mark.skip(reason=NO_DOCKER)
    def test_docker_image_build_and_config_matches_spec(self) -> None: ...
