"""Airbyte packaging of both connectors: metadata.yaml, Dockerfile, .dockerignore, console scripts, docs pages.

There is no Docker daemon here, so the images are never built. What is checked instead:

- each metadata.yaml has the keys Airbyte's registry and tooling use, with values that agree with the project
  (pyproject's version and license, the client's default host, the Dockerfile), and validates against Airbyte's
  own metadata schema (`ConnectorMetadataDefinitionV0` from the `airbyte-connector-models` package: its JSON
  schema for the structure, its pydantic model for the formats: uuid, date, uri);
- each Dockerfile (read by the small parser below) builds FROM the metadata's base image, installs the project
  from /airbyte/integration_code, runs as a non-root user, and names a console script that pyproject declares
  and the venv has, as AIRBYTE_ENTRYPOINT and ENTRYPOINT;
- the image's install step is rehearsed: a wheel is built from exactly what the Dockerfile copies, and it must
  carry the console script;
- the console script answers `spec`;
- the docs pages name every spec field and every stream, and the current version in their changelog.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
import uuid
import zipfile
from dataclasses import dataclass
from fnmatch import fnmatch
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the venv the tests run in (.venv/bin under `make test`)
SOURCE_DEFINITION_ID = "5b0c9a3e-6f2d-4d8e-9a1c-3f7e2b4c8d11"  # published with 0.1.0: never changes
BASE_IMAGE = re.compile(r"^docker\.io/airbyte/python-connector-base:\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$")
INTEGRATION_CODE = "/airbyte/integration_code"


@dataclass(frozen=True)
class Connector:
    name: str  # the console script, the image name after `airbyte/`, the GitHub issue label
    kind: str  # source | destination
    metadata: Path
    dockerfile: Path
    docs: Path

    def __str__(self) -> str:
        return self.name


CONNECTORS = (
    Connector(
        "source-holded",
        "source",
        ROOT / "metadata.yaml",
        ROOT / "connectors" / "source-holded" / "Dockerfile",
        ROOT / "docs" / "integrations" / "sources" / "holded.md",
    ),
    Connector(
        "destination-holded",
        "destination",
        ROOT / "connectors" / "destination-holded" / "metadata.yaml",
        ROOT / "connectors" / "destination-holded" / "Dockerfile",
        ROOT / "docs" / "integrations" / "destinations" / "holded.md",
    ),
)
each_connector = pytest.mark.parametrize("connector", CONNECTORS, ids=str)


@cache
def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


@cache
def metadata(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text())
    assert isinstance(loaded, dict), f"{path}: not a YAML mapping"
    return loaded


def data(connector: Connector) -> dict[str, Any]:
    return metadata(connector.metadata)["data"]


# ------------------------------------------------------------------------------------------ Dockerfile reading


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case
    args: str
    line: int


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with their arguments: comments and parser directives dropped, `\\` continuations joined."""
    out: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):  # comment lines inside a continued instruction
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        keyword, _, args = " ".join(part for part in pending if part).partition(" ")
        out.append(Instruction(keyword.upper(), args.strip(), start))
        pending = []
    assert not pending, "the Dockerfile ends inside a continued instruction"
    return out


def only(instructions: list[Instruction], keyword: str) -> list[Instruction]:
    return [i for i in instructions if i.keyword == keyword]


def key_values(args: str) -> dict[str, str]:
    """ENV / LABEL arguments: `KEY=value KEY2="quoted value"`, or the legacy `KEY value` form."""
    words = shlex.split(args)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    return dict(word.split("=", 1) for word in words)


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), f"not an exec-form array: {args}"
    return value


@cache
def dockerfile(path: Path) -> list[Instruction]:
    return parse_dockerfile(path.read_text())


def copies(path: Path) -> list[tuple[list[str], str]]:
    """(sources, destination) of every COPY from the build context."""
    out = []
    for instruction in only(dockerfile(path), "COPY"):
        words = [w for w in shlex.split(instruction.args) if not w.startswith("--")]
        assert not instruction.args.startswith("--from"), "only the build context is copied"
        out.append((words[:-1], words[-1]))
    return out


# ---------------------------------------------------------------------------------------- .dockerignore


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go filepath.Match plus `**`) as a regex over context-relative paths."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i : end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


@cache
def dockerignore() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        rules.append((negate, _pattern_regex(line.lstrip("!").strip("/"))))
    return rules


def ignored(relative: str) -> bool:
    """Whether the build context leaves `relative` out (a path under an excluded directory is excluded)."""
    parts = relative.strip("/").split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    verdict = False
    for negate, regex in dockerignore():
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            verdict = not negate
    return verdict


# ------------------------------------------------------------------------------------------------ helpers


def declared_packages() -> set[str]:
    """Top-level packages `pip install .` takes, per [tool.setuptools.packages.find] include."""
    include = pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    return {
        p.name
        for p in ROOT.iterdir()
        if (p / "__init__.py").is_file() and any(fnmatch(p.name, pattern) for pattern in include)
    }


def run_spec(name: str) -> dict[str, Any]:
    result = subprocess.run(
        [str(BIN / name), "spec"], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    assert result.returncode == 0, f"{name} spec exited {result.returncode}: {result.stderr[-2000:]}"
    messages = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    specs = [m["spec"] for m in messages if m.get("type") == "SPEC"]
    assert len(specs) == 1, f"{name} spec printed {len(specs)} SPEC messages:\n{result.stdout[-2000:]}"
    return specs[0]


@cache
def spec_of(name: str) -> dict[str, Any]:
    return run_spec(name)


# ------------------------------------------------------------------------------------------------ metadata


@each_connector
def test_metadata_has_what_airbyte_needs(connector: Connector) -> None:
    top = metadata(connector.metadata)
    assert top["metadataSpecVersion"] == "1.0"
    d = data(connector)
    project = pyproject()["project"]
    assert d["name"] == "Holded"
    assert d["connectorType"] == connector.kind
    assert d["connectorSubtype"] == "api"
    assert d["dockerRepository"] == f"airbyte/{connector.name}"
    assert d["dockerImageTag"] == project["version"], "the image installs the project: same version"
    assert d["githubIssueLabel"] == connector.name
    assert d["license"] == project["license"]["text"] == "MIT"
    assert d["releaseStage"] == "alpha"
    assert d["supportLevel"] == "community"
    assert {"language:python", "cdk:python"} <= set(d["tags"])
    assert BASE_IMAGE.match(d["connectorBuildOptions"]["baseImage"]), d["connectorBuildOptions"]
    assert set(d["registryOverrides"]) == {"oss", "cloud"}
    assert all(isinstance(o["enabled"], bool) for o in d["registryOverrides"].values())
    assert "rolloutConfiguration" in d["releases"]
    assert {"ql", "sl"} <= set(d["ab_internal"])


@each_connector
def test_allowed_hosts_are_holded(connector: Connector) -> None:
    from holded_core.config import DEFAULT_BASE_URL

    hosts = data(connector)["allowedHosts"]["hosts"]
    assert hosts == ["api.holded.com"]
    assert urlsplit(DEFAULT_BASE_URL).hostname in hosts, "the default base_url must be reachable under allowedHosts"


@each_connector
def test_documentation_url_is_this_repos_docs_page(connector: Connector) -> None:
    url = data(connector)["documentationUrl"]
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.hostname == "github.com", url
    _owner, _repo, blob, _branch, *path = parts.path.strip("/").split("/")
    assert blob == "blob"
    assert ROOT.joinpath(*path) == connector.docs, url
    assert connector.docs.is_file(), f"{url} points at {connector.docs}, which is missing"


def test_definition_ids_are_fixed_distinct_uuids() -> None:
    ids = [data(c)["definitionId"] for c in CONNECTORS]
    for value in ids:
        assert str(uuid.UUID(value)) == value, f"{value!r} is not a canonical (lower-case, hyphenated) uuid"
    assert len(set(ids)) == len(ids), "source and destination need their own definitionId"
    assert data(CONNECTORS[0])["definitionId"] == SOURCE_DEFINITION_ID


def test_data_activation_flag_matches_what_the_destination_can_do() -> None:
    """`supportsDataActivation: true` makes the platform ask the destination for `discover`; it has none."""
    from destination_holded.destination import DestinationHolded

    source, destination = (data(c) for c in CONNECTORS)
    assert "supportsDataActivation" not in source, "a destination-only flag"
    assert isinstance(destination["supportsDataActivation"], bool)
    try:
        DestinationHolded().parse_args(["discover", "--config", "config.json"])
        has_discover = True
    except SystemExit:
        has_discover = False
    assert destination["supportsDataActivation"] == has_discover


@each_connector
def test_metadata_validates_against_airbytes_schema(connector: Connector) -> None:
    from importlib.resources import files

    from airbyte_connector_models.metadata.v0.connector_metadata_definition_v0 import ConnectorMetadataDefinitionV0

    schema = json.loads(
        files("airbyte_connector_models.metadata.v0").joinpath("ConnectorMetadataDefinitionV0.json").read_text()
    )
    document = metadata(connector.metadata)
    problems = [
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in jsonschema.Draft7Validator(schema).iter_errors(document)
    ]
    assert not problems, "\n".join(problems)
    model = ConnectorMetadataDefinitionV0.model_validate(document)  # uuid, date and uri formats, no extra keys
    assert str(model.data.definition_id) == data(connector)["definitionId"]


def test_airbytes_schema_rejects_a_broken_metadata() -> None:
    """The schema check above can fail: an unknown key and a bad subtype are reported."""
    from importlib.resources import files

    schema = json.loads(
        files("airbyte_connector_models.metadata.v0").joinpath("ConnectorMetadataDefinitionV0.json").read_text()
    )
    broken = json.loads(json.dumps(metadata(CONNECTORS[0].metadata)))
    broken["data"]["connectorSubtype"] = "rest"
    broken["data"]["dockerImage"] = "airbyte/source-holded"
    messages = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(broken)]
    assert any("'rest' is not one of" in m for m in messages), messages
    assert any("'dockerImage' was unexpected" in m for m in messages), messages


@each_connector
def test_the_cdk_reads_the_metadata(connector: Connector) -> None:
    """What `airbyte-cdk image build` and the standard suites' image tests read from it."""
    from airbyte_cdk.models.connector_metadata import ConnectorLanguage, MetadataFile

    parsed = MetadataFile.from_file(connector.metadata)
    assert parsed.data.language == ConnectorLanguage.PYTHON
    assert parsed.data.connectorBuildOptions is not None
    assert parsed.data.connectorBuildOptions.baseImage == data(connector)["connectorBuildOptions"]["baseImage"]


def test_the_standard_suites_find_the_source_at_the_project_root() -> None:
    """The CDK's suites walk up from integration_tests/ to the first metadata.yaml: it must be the source's."""
    from airbyte_cdk.utils.connector_paths import find_connector_root

    root = find_connector_root([ROOT / "integration_tests"])
    assert root == ROOT
    assert data(CONNECTORS[0])["connectorType"] == "source"
    assert (root / "acceptance-test-config.yml").is_file()


# ---------------------------------------------------------------------------------------------- Dockerfile


def test_the_dockerfile_parser_joins_continuations_and_skips_comments() -> None:
    parsed = parse_dockerfile(
        '# syntax=docker/dockerfile:1\nFROM base:1\n# a comment\nRUN a \\\n    # inside\n    && b\nENV A="x y"\n'
    )
    assert [(i.keyword, i.args) for i in parsed] == [("FROM", "base:1"), ("RUN", "a && b"), ("ENV", 'A="x y"')]
    assert key_values('A="x y" B=2') == {"A": "x y", "B": "2"}
    assert key_values("A x y") == {"A": "x y"}


@each_connector
def test_dockerfile_builds_from_the_metadatas_base_image(connector: Connector) -> None:
    froms = only(dockerfile(connector.dockerfile), "FROM")
    assert len(froms) == 1, "one stage"
    assert froms[0].args == data(connector)["connectorBuildOptions"]["baseImage"]


@each_connector
def test_dockerfile_entrypoint_is_the_console_script(connector: Connector) -> None:
    instructions = dockerfile(connector.dockerfile)
    scripts = pyproject()["project"]["scripts"]
    env: dict[str, str] = {}
    for instruction in only(instructions, "ENV"):
        env.update(key_values(instruction.args))
    entrypoints = only(instructions, "ENTRYPOINT")
    assert len(entrypoints) == 1
    command = exec_form(entrypoints[0].args)
    assert command == [connector.name]
    assert env.get("AIRBYTE_ENTRYPOINT") == connector.name
    assert connector.name in scripts, f"{connector.name} is not in [project.scripts]"
    assert (BIN / connector.name).is_file(), f"{connector.name} is not installed in {BIN}: run `make setup`"
    expected_module = f"{connector.name.replace('-', '_')}.run"
    assert scripts[connector.name].split(":")[0] == expected_module


@each_connector
def test_dockerfile_runs_as_a_non_root_user(connector: Connector) -> None:
    instructions = dockerfile(connector.dockerfile)
    users = only(instructions, "USER")
    assert users, "no USER: the image would run as root"
    user = users[-1].args.split(":")[0]
    assert user not in ("root", "0"), f"USER {users[-1].args} is root"
    assert user == "airbyte", "the base image's non-root user (uid 1000)"
    last_run = max(i.line for i in only(instructions, "RUN"))
    assert users[-1].line > last_run, "install as root, then switch: the runtime user owns nothing it could alter"


@each_connector
def test_dockerfile_installs_the_project_with_pip(connector: Connector) -> None:
    instructions = dockerfile(connector.dockerfile)
    workdirs = only(instructions, "WORKDIR")
    assert [w.args for w in workdirs] == [INTEGRATION_CODE]
    runs = " && ".join(i.args for i in only(instructions, "RUN"))
    assert re.search(r"\bpip install (--no-cache-dir )?\.(\s|$)", runs), runs
    labels: dict[str, str] = {}
    for instruction in only(instructions, "LABEL"):
        labels.update(key_values(instruction.args))
    assert labels.get("io.airbyte.name") == data(connector)["dockerRepository"]
    assert labels.get("io.airbyte.version") == data(connector)["dockerImageTag"]


def context_files() -> list[str]:
    """The build context: every file under the project root that .dockerignore lets through (posix, relative).

    Directories the rules exclude are not entered (none of the rules lets a path inside one back in).
    """
    out = []
    for folder, dirs, files in os.walk(ROOT):
        base = Path(folder).relative_to(ROOT).as_posix()
        prefix = "" if base == "." else f"{base}/"
        dirs[:] = [d for d in dirs if not ignored(prefix + d)]
        out.extend(prefix + f for f in files if not ignored(prefix + f))
    return out


def copied_files(path: Path) -> dict[str, str]:
    """Where each context file lands, relative to the WORKDIR: {image path: context path}, per COPY semantics."""
    context = context_files()
    out: dict[str, str] = {}
    for sources, destination in copies(path):
        into = destination.removeprefix(INTEGRATION_CODE).removeprefix("./").strip("/")
        into = f"{into}/" if into else ""
        for source in sources:
            source = source.removeprefix("./").strip("/")
            if source in ("", "."):  # the whole context
                out.update({into + f: f for f in context})
            elif source in context:  # a file: into a folder (trailing /) or to that name
                out[(into + Path(source).name) if destination.endswith("/") else into.rstrip("/")] = source
            else:  # a folder: its contents
                out.update({into + f[len(source) + 1 :]: f for f in context if f.startswith(source + "/")})
    return out


@each_connector
def test_dockerfile_copies_everything_pip_needs(connector: Connector) -> None:
    for sources, destination in copies(connector.dockerfile):
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the build context (the project root)"
        assert destination.startswith(("./", ".", INTEGRATION_CODE)), destination
    copied = copied_files(connector.dockerfile)
    readme = pyproject()["project"]["readme"]
    missing = {"pyproject.toml", readme} - set(copied)
    for package in declared_packages():
        for module in (ROOT / package).rglob("*.py"):
            relative = module.relative_to(ROOT).as_posix()
            if "__pycache__" not in relative and relative not in copied:
                missing.add(relative)
    assert not missing, f"pip install . needs these, which the image does not get: {sorted(missing)}"
    assert not any(f.startswith((".git/", ".venv", "secrets/")) for f in copied.values())


def test_dockerignore_keeps_local_state_out_and_the_code_in() -> None:
    for path in (
        ".git/HEAD",
        ".venv/bin/python",
        ".venv-other/x",
        "holded_core/__pycache__/client.cpython-311.pyc",
        ".pytest_cache/v",
        ".ruff_cache/x",
        "bench/out/result.json",
        "secrets/config.json",
        "config.json",
        "holded_connector.egg-info/PKG-INFO",
        "local.duckdb",
    ):
        assert ignored(path), f"{path} would be sent to the daemon"
    for path in ("pyproject.toml", "README.md", "holded_core/client.py", "holded_sandbox/routes/__init__.py"):
        assert not ignored(path), f"{path} is needed by the build"


@each_connector
def test_the_images_install_step_gives_the_console_script(connector: Connector, tmp_path: Path) -> None:
    """`pip install .` as the image runs it, rehearsed: a wheel built from exactly what the Dockerfile copies."""
    stage = tmp_path / "integration_code"
    for target, source in copied_files(connector.dockerfile).items():
        (stage / target).parent.mkdir(parents=True, exist_ok=True)
        (stage / target).write_bytes((ROOT / source).read_bytes())
    out = tmp_path / "wheels"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(stage)],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        scripts_text = archive.read(entry_points).decode()
    target = pyproject()["project"]["scripts"][connector.name]
    assert f"{connector.name} = {target}" in scripts_text, scripts_text
    module = target.split(":")[0]
    assert f"{module.replace('.', '/')}.py" in names, f"{module} is not in the wheel"


# ----------------------------------------------------------------------------------------- console script


@each_connector
def test_the_console_script_answers_spec(connector: Connector) -> None:
    spec = spec_of(connector.name)
    assert spec["connectionSpecification"]["type"] == "object"
    assert "credentials" in spec["connectionSpecification"]["required"]
    if connector.kind == "destination":
        assert spec["supported_destination_sync_modes"]
    else:
        assert spec.get("supportsIncremental") is True


# ------------------------------------------------------------------------------------------------- docs


@each_connector
def test_docs_page_covers_the_spec_and_the_version(connector: Connector) -> None:
    page = connector.docs.read_text()
    properties = spec_of(connector.name)["connectionSpecification"]["properties"]
    missing = [name for name in properties if f"`{name}`" not in page]
    assert not missing, f"{connector.docs.name}: spec fields not documented: {missing}"
    options = properties["credentials"]["oneOf"]
    modes = [o["properties"]["auth_type"]["const"] for o in options]
    assert all(f"`{mode}`" in page for mode in modes), modes
    version = data(connector)["dockerImageTag"]
    assert re.search(rf"^\|\s*{re.escape(version)}\s*\|", page, re.M), f"no changelog row for {version}"


def test_source_docs_list_every_stream_with_its_primary_key() -> None:
    from holded_core.settings import parse_settings

    page = CONNECTORS[0].docs.read_text()
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\|\s*`([A-Za-z_]+)`\s*\|.*$", page, re.M)}
    settings = parse_settings({"credentials": {"api_key": "docs"}})
    for spec in settings.streams():
        assert spec.name in rows, f"stream {spec.name} is missing from the streams table"
        for key in spec.primary_key:
            assert f"`{key}`" in rows[spec.name], f"{spec.name}: primary key {key} not in its row"
        if spec.cursor:
            assert f"`{spec.cursor}`" in rows[spec.name], f"{spec.name}: cursor {spec.cursor} not in its row"
