"""The Airbyte CDK's standard destination tests (`DestinationTestSuiteBase`) for `destination-holded`, on the sandbox.

The CDK finds the connector root by walking up from this file to the first directory holding `metadata.yaml`
(the project root) and reads the scenarios from `acceptance-test-config.yml` there. That file holds the
source's scenarios (see `test_standard_source.py`), so this class reads its own,
`integration_tests/acceptance/destination-acceptance-test-config.yml`, by overriding the CDK's
`acceptance_test_config`; the CDK's `get_scenarios` then parses, validates and merges its entries as usual.
The connector root stays the project root: the CDK imports nothing from it here (`connector` is set), and the
file's paths are relative to it, as in the source's file.

The configs are templates, rendered as for the source: `get_scenarios` points every scenario at a copy in a
per-process temporary directory, and the module fixture starts its own sandbox on a free port with a made-up
API key (with digits, so the CDK's secret leak check searches the output for it), renders the copies there,
and removes them and stops the sandbox afterwards.

Every scenario runs once with each Holded API: an API v1 key (`destination_config.json`) and an API v2 token
(`destination_config_v2.json`).

The image tests (the CDK's `test_docker_image_*`) are skipped: they build and run the connector's Docker image,
which needs a Docker daemon, and the spec backward-compatibility one also the public registry.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from airbyte_cdk.test.models import ConnectorTestScenario
from airbyte_cdk.test.standard_tests import DestinationTestSuiteBase
from airbyte_cdk.test.standard_tests._job_runner import run_test_job
from airbyte_cdk.test.standard_tests._spec_lint import assert_spec_is_valid, get_single_spec
from boltons.typeutils import classproperty

from destination_holded.destination import DestinationHolded
from integration_tests.acceptance_support import (
    TEMPLATES,
    SkipImageTests,
    assert_both_dialects,
    pointed_at,
    sandbox_with_configs,
)

# `pytest_generate_tests` (one parametrization per scenario) and the fixtures the CDK's tests take.
pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]

SCENARIOS_FILE = TEMPLATES / "destination-acceptance-test-config.yml"
RENDERED = Path(tempfile.gettempdir()) / f"destination-holded-standard-tests-{os.getpid()}"

NO_DISCOVER_OR_READ = (
    "image test of `discover`/`read`: a destination has neither (the CDK skips it for destinations too), "
    "and it would need a Docker daemon, which there is not here."
)


@pytest.fixture(scope="module", autouse=True)
def sandbox_configs() -> Iterator[Path]:
    with sandbox_with_configs(
        TestDestinationHoldedStandard.get_connector_root_dir(), TestDestinationHoldedStandard.get_scenarios(), RENDERED
    ) as rendered:
        yield rendered


class TestDestinationHoldedStandard(SkipImageTests, DestinationTestSuiteBase):
    """Every standard destination test of the CDK, over the scenarios of `destination-acceptance-test-config.yml`."""

    # The CDK derives the name from the connector root's directory (here the checkout's), and tells a
    # destination by its `destination-` prefix; state it, and the class, which it could not import by that name.
    connector_name = "destination-holded"
    connector = DestinationHolded

    @classproperty
    def acceptance_test_config(cls) -> Any:
        """The destination's scenarios file, in place of the connector root's `acceptance-test-config.yml`.

        Unlike the CDK's, a missing file fails collection instead of leaving the suite without scenarios.
        """
        path = cls.get_connector_root_dir() / SCENARIOS_FILE
        if not path.is_file():
            raise ValueError(f"The destination's standard test scenarios file is missing: {path}")
        config = yaml.safe_load(path.read_text())
        if not isinstance(config, dict) or "acceptance_tests" not in config:
            raise ValueError(f"{path} has no `acceptance_tests` section.")
        return config

    @classmethod
    def _raise_if_invalid(cls, problems: list[str]) -> None:
        """As the CDK's, but naming the file the problems are in (the CDK names `acceptance-test-config.yml`)."""
        if problems:
            path = cls.get_connector_root_dir().absolute() / SCENARIOS_FILE
            raise ValueError(f"`{path}` is not valid for the standard tests:\n" + "\n".join(f"- {p}" for p in problems))

    @classmethod
    def get_scenarios(cls) -> list[ConnectorTestScenario]:
        """The CDK's scenarios, each reading the rendered copy of its config template."""
        return pointed_at(super().get_scenarios(), RENDERED)

    # --- additions to the CDK's destination suite --------------------------------------------------------------

    def test_scenarios_cover_a_good_and_a_bad_credential_of_each_api(self) -> None:
        """The scenarios file still yields a config whose `check` succeeds and one whose `check` fails, each
        with an API v1 key and with an API v2 token.

        Guards against the file losing an entry: an empty scenario list only skips the CDK's tests.
        """
        scenarios = self.get_scenarios()
        assert {s.status for s in scenarios} == {"succeed", "failed"}, scenarios
        assert all(s.commands == {"spec", "check"} for s in scenarios), scenarios
        assert_both_dialects(self.get_connector_root_dir(), scenarios)

    def test_spec(self) -> None:
        """The source suite's `test_spec`, which the CDK's destination suite lacks: `spec` emits one valid spec.

        The spec must pass the CDK's credential-free lint (secrets marked `airbyte_secret`), and, being a
        destination's, declare the sync modes it supports.
        """
        result = run_test_job(
            self.create_connector(scenario=None),
            "spec",
            connector_root=self.get_connector_root_dir(),
        )
        spec = get_single_spec(result, connector_name=self.connector_name)
        assert_spec_is_valid(spec, connector_name=self.connector_name)
        assert spec.supported_destination_sync_modes, "a destination's spec must list its sync modes"

    # --- image tests: not run here (see NO_DOCKER) -------------------------------------------------------------

    @pytest.mark.skip(reason=NO_DISCOVER_OR_READ)
    def test_docker_image_build_and_discover(self) -> None: ...

    @pytest.mark.skip(reason=NO_DISCOVER_OR_READ)
    def test_docker_image_build_and_read(self) -> None: ...
