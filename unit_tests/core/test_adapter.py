"""The adapter layer every protocol shares (`holded_core.adapter`): selection, the read loop, check,
the rotated-token hand-back, the incomplete-streams error and the exit codes."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from holded_core.adapter import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    Handler,
    IncompleteStreams,
    ReadRun,
    StreamRequest,
    TokenHandBack,
    UnknownStreams,
    check,
    run_command,
    select_streams,
)
from holded_core.errors import HoldedAuthError, HoldedConfigError, HoldedError, HoldedPermissionError
from holded_core.secrets import redact
from holded_core.settings import parse_settings
from holded_core.streams import EVENTS_STREAM
from holded_core.sync import LogOut, RecordOut, StateOut, StatusOut
from holded_sandbox.testing import connector_config
from unit_tests.conftest import control

OFFLINE = {"credentials": {"auth_type": "api_key", "api_key": "offline-key-123456"}}


class Collect(Handler[Any]):
    """Every output, in order, as (kind, stream) pairs plus the records."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self.records: dict[str, list[dict[str, Any]]] = {}

    def on_record(self, out: RecordOut) -> None:
        self.records.setdefault(out.stream, []).append(out.data)

    def on_state(self, out: StateOut) -> list[str]:
        self.seen.append(("state", out.stream))
        return [f"state {out.stream}"]  # what a generator protocol would yield

    def on_status(self, out: StatusOut) -> None:
        self.seen.append((out.status, out.stream))

    def on_log(self, out: LogOut) -> None:
        self.seen.append(("log", out.level))


# ---------------------------------------------------------------------------------- selection


def test_given_no_request_when_selecting_then_the_ten_unified_streams_and_the_events_are_chosen():
    settings = parse_settings(OFFLINE)
    selection = select_streams(settings, None)
    assert selection.names == [spec.name for spec in settings.unified()] + [EVENTS_STREAM]
    assert selection.events and EVENTS_STREAM not in [s.spec.name for s in selection.selected]


def test_given_names_not_offered_when_selecting_then_they_are_kept_apart_and_refused_in_one_line():
    selection = select_streams(parse_settings(OFFLINE), ["genericCompany", "nope", "nada"], fix="drop them")
    assert selection.names == ["genericCompany"] and selection.unknown == ("nope", "nada")
    with pytest.raises(UnknownStreams) as raised:
        selection.refuse_unknown()
    assert str(raised.value) == "streams 'nope', 'nada' are not offered with this config: drop them"
    assert isinstance(raised.value, HoldedConfigError) and raised.value.names == ("nope", "nada")


def test_given_a_full_refresh_stream_when_building_states_then_its_saved_state_is_not_read():
    selection = select_streams(
        parse_settings(OFFLINE), [StreamRequest("genericCompany"), StreamRequest("genericUser", incremental=False)]
    )
    saved = {"genericCompany": {"v": 1}, "genericUser": {"v": 1}}
    assert selection.states(saved) == {"genericCompany": {"v": 1}, "genericUser": {}}
    assert selection.without("genericUser").names == ["genericCompany"]


def test_given_deselected_fields_when_selecting_then_the_key_is_never_dropped():
    selection = select_streams(
        parse_settings(OFFLINE), [StreamRequest("genericCompany", dropped=frozenset({"id", "email"}))]
    )
    assert selection.dropped == {"genericCompany": frozenset({"email"})}


# ---------------------------------------------------------------------------------- reading


def test_given_a_request_when_the_read_runs_then_outputs_reach_their_callbacks_trimmed_and_unknowns_fail(sandbox):
    settings = parse_settings(connector_config(sandbox))
    request = [StreamRequest("genericCompany", dropped=frozenset({"email"})), StreamRequest("nope")]
    handler = Collect()
    run = ReadRun(settings, select_streams(settings, request), handler)
    yielded = list(run)
    assert handler.seen[0] == ("incomplete", "nope")  # an unknown stream fails first, as a stream of its own
    assert ("complete", "genericCompany") in handler.seen and yielded[-1] == "state genericCompany"
    assert handler.records["genericCompany"] and not any("email" in r for r in handler.records["genericCompany"])
    incomplete = run.incomplete()
    assert incomplete is not None and incomplete.names == ["nope"] and incomplete.config_only
    assert str(incomplete) == "these streams did not complete: nope (see the errors above); the others did"


def test_given_a_module_without_access_when_the_read_runs_then_only_its_streams_are_incomplete(sandbox):
    control(sandbox, "PATCH", "faults", denied_modules=["crm"])
    settings = parse_settings(connector_config(sandbox))
    run = ReadRun(settings, select_streams(settings, ["crmPipeline", "genericUser"]), Collect())
    run.drive()
    incomplete = run.incomplete()
    assert incomplete is not None and incomplete.names == ["crmPipeline"]
    assert isinstance(incomplete.failures["crmPipeline"], HoldedPermissionError) and incomplete.config_only


def test_incomplete_streams_without_a_known_cause_are_not_called_config_errors():
    assert not IncompleteStreams({EVENTS_STREAM: None}).config_only
    assert not IncompleteStreams({"a": HoldedError("Holded answered 500")}).config_only
    assert IncompleteStreams({"a": HoldedAuthError("refused"), EVENTS_STREAM: None}).config_only


# ---------------------------------------------------------------------------------- check


def test_check_passes_against_the_sandbox_and_names_denied_modules_and_their_streams(sandbox):
    assert check(connector_config(sandbox)).ok and check(connector_config(sandbox)).read_note is None
    control(sandbox, "PATCH", "faults", denied_modules=["team"])
    result = check(connector_config(sandbox))
    assert result.ok and result.denied == ("team",) and "genericUser" in result.affected
    assert result.read_note is not None and "These streams will fail: " in result.read_note
    assert result.write_note == "connected; writes to these modules will be refused (plan or permissions): team"


def test_check_fails_in_one_line_for_a_bad_config_or_no_module_at_all(sandbox):
    bad = check({"credentials": {}})
    assert not bad.ok and bad.config_error and "credentials" in str(bad.error)
    control(sandbox, "PATCH", "faults", denied_modules=["invoicing", "crm", "projects", "team", "accounting"])
    none = check(connector_config(sandbox))
    assert none.error == "the credential cannot reach any Holded module; check the plan and API access"


# ------------------------------------------------------------------------------- token hand-back


def test_a_rotated_token_is_masked_and_saved_at_once_or_handed_back_as_a_whole_config():
    config = {"credentials": {"auth_type": "oauth2", "refresh_token": "old"}, "base_url": "https://x/api"}
    saved: list[str] = []
    to_file = TokenHandBack(config, save=saved.append)
    to_file("rotated-token-1234567890")
    assert saved == ["rotated-token-1234567890"] and to_file.drain() == []
    assert "rotated-token-1234567890" not in redact("token rotated-token-1234567890")
    to_platform = TokenHandBack(config)
    to_platform("rotated-token-1111111111")
    to_platform("rotated-token-2222222222")
    drained = to_platform.drain()
    assert [c["credentials"]["refresh_token"] for c in drained] == [
        "rotated-token-1111111111",
        "rotated-token-2222222222",
    ]
    assert drained[0]["base_url"] == "https://x/api" and to_platform.drain() == []
    assert config["credentials"]["refresh_token"] == "old"


# ---------------------------------------------------------------------------------- exit codes


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (HoldedConfigError("`base_url` is wrong"), EXIT_USAGE),
        (ValueError("usage"), EXIT_USAGE),
        (HoldedError("Holded answered 500"), EXIT_FAILED),
        (IncompleteStreams({"a": None}), EXIT_FAILED),
        (KeyboardInterrupt(), EXIT_INTERRUPTED),
    ],
)
def test_every_failure_is_one_line_and_its_exit_code(capsys, error, code):
    def body() -> int:
        raise error

    assert run_command("prog", body, usage=(ValueError,), on_bug=lambda exc: 99) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("prog: ")


def test_a_bug_goes_to_its_handler_and_success_is_the_bodys_code(capsys):
    def bug() -> int:
        raise RuntimeError("boom")

    assert run_command("prog", bug, on_bug=lambda exc: 42 if isinstance(exc, RuntimeError) else 0) == 42
    assert run_command("prog", lambda: EXIT_OK, on_bug=lambda exc: 1) == EXIT_OK
    assert capsys.readouterr().err == "" and sys.stdout is not None


def test_the_core_and_its_adapter_layer_run_without_airbyte_imported():
    code = "import sys, holded_core.adapter, holded_cli.main, singer_holded.tap, singer_holded.target; " \
        "print(sorted(m for m in sys.modules if m.startswith('airbyte')))"  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr


def test_holded_check_renders_the_result_in_one_line_and_its_exit_code(sandbox, monkeypatch, capsys):
    from holded_cli.main import main

    monkeypatch.setenv("HOLDED_API_KEY", sandbox.api_key)
    assert main(["check", "--base-url", sandbox.base_url]) == EXIT_OK
    assert capsys.readouterr().out == "holded check: connected; every module is available to this credential\n"
    control(sandbox, "PATCH", "faults", denied_modules=["team"])
    assert main(["check", "--base-url", sandbox.base_url]) == EXIT_OK
    assert "not available to this credential (plan or permissions): team" in capsys.readouterr().out
    monkeypatch.setenv("HOLDED_API_KEY", "refused-key-123456")
    assert main(["check", "--base-url", sandbox.base_url]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("holded check: `credentials.api_key`") and err.count("\n") == 1
    assert "refused-key-123456" not in err
