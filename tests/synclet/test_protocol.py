"""The messages tilt-lsp and the synclet exchange survive the wire, and bad ones are named."""

from __future__ import annotations

import json

import pytest

from synclet.protocol import (
    Deleted,
    Done,
    Extracted,
    Failed,
    Output,
    ProtocolError,
    Restarted,
    RunStep,
    Started,
    StepExited,
    StepStarted,
    UpdateSpec,
    encode_request,
    event_from_json,
    is_final,
    update_path,
)

SPEC = UpdateSpec(
    deletes=("/app/old.py",),
    changed=("/app/src/main.py", "/app/requirements.txt"),
    run_steps=(
        RunStep(("pip", "install", "-r", "/app/requirements.txt"), ("/app/requirements.txt",)),
        RunStep(("sh", "-c", "echo hi")),
    ),
    restart="container",
    dest="/app",
)


def test_spec_round_trips_as_one_line() -> None:
    line = SPEC.to_json()
    assert "\n" not in line
    assert UpdateSpec.from_json(line) == SPEC
    assert UpdateSpec.from_json(line.encode()) == SPEC


def test_request_body_is_spec_line_then_tar() -> None:
    body = encode_request(SPEC, b"TAR")
    line, _, rest = body.partition(b"\n")
    assert UpdateSpec.from_json(line) == SPEC
    assert rest == b"TAR"


def test_defaults_and_trigger_matching() -> None:
    spec = UpdateSpec.from_json('{"restart": "none"}')
    assert spec == UpdateSpec(deletes=(), changed=(), run_steps=(), restart="none", dest="/")
    step = RunStep(("x",), ("/app/deps",))
    assert step.triggered_by(["/app/deps"])
    assert step.triggered_by(["/app/deps/a.txt"])
    assert not step.triggered_by(["/app/depsx"])
    assert not step.triggered_by(["/app/src/a.py"])
    assert RunStep(("x",)).triggered_by([])
    # Only the always-run step fires for a source change.
    spec = UpdateSpec((), ("/app/src/main.py",), SPEC.run_steps, "none")
    assert [i for i, _ in spec.triggered_steps()] == [1]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[]", "must be a JSON object"),
        ("{", "not valid JSON"),
        ('{"restart": "reboot"}', "restart must be one of none, container, process"),
        ('{"restart": "none", "deletes": "/app/x"}', "deletes must be a list of strings"),
        ('{"restart": "none", "deletes": ["app/x"]}', "must be absolute"),
        ('{"restart": "none", "dest": "app"}', "dest must be an absolute"),
        ('{"restart": "none", "run_steps": [{"command": []}]}', "command must not be empty"),
        ('{"restart": "none", "run_steps": [{"command": "ls"}]}', "command must be a list"),
    ],
)
def test_bad_specs_are_named(text: str, needle: str) -> None:
    with pytest.raises(ProtocolError, match=needle):
        UpdateSpec.from_json(text)


def test_events_round_trip_as_ndjson() -> None:
    events = [
        Started(),
        Deleted(count=2),
        Extracted(files=3, bytes=120, method="archive-api"),
        StepStarted(index=0, command=("make",)),
        Output(index=0, line="ok ✓"),
        StepExited(index=0, exit_code=0),
        Restarted(mode="container"),
        Done(duration_ms=42),
        Failed(kind="user", message="run step 0 (make) exited with code 2"),
    ]
    for event in events:
        line = event.encode()
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        assert json.loads(line)["event"] == event.EVENT
        assert event_from_json(line) == event
        assert type(event).from_json(line) == event
    assert [is_final(e) for e in events][-2:] == [True, True]
    assert not any(is_final(e) for e in events[:-2])


def test_event_wire_names() -> None:
    assert json.loads(Extracted(files=1, bytes=2, method="tar").to_json()) == {
        "event": "extracted",
        "files": 1,
        "bytes": 2,
        "method": "tar",
    }
    assert json.loads(Failed(kind="refused", message="m").to_json()) == {
        "event": "failed",
        "kind": "refused",
        "message": "m",
    }


def test_unknown_or_mistyped_events_are_refused() -> None:
    with pytest.raises(ProtocolError, match="unknown event 'exploded'"):
        event_from_json('{"event": "exploded"}')
    with pytest.raises(ProtocolError, match="exit_code must be an integer"):
        event_from_json('{"event": "step_exited", "index": 0, "exit_code": "1"}')
    with pytest.raises(ProtocolError, match="expected a 'done' event"):
        Done.from_json(Started().to_json())
    # Extra keys are tolerated: a newer synclet may add fields.
    assert event_from_json('{"event": "deleted", "count": 1, "extra": true}') == Deleted(count=1)


def test_update_path() -> None:
    assert update_path("abc123") == "/v1/containers/abc123/update"
