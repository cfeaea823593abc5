"""local_resource and the things it takes: commands, deps, probes, trigger modes."""

from __future__ import annotations

from pathlib import Path

from tilt_lsp.tiltfile.model import Command, ResourceKind, TriggerMode


def test_local_resource_with_every_argument(load, tmp_path: Path) -> None:
    model = load(
        """
        local_resource(
            'api',
            cmd='make build',
            serve_cmd=['python3', 'server.py'],
            deps=['src', 'server.py'],
            ignore=['src/*.tmp'],
            resource_deps=['db'],
            trigger_mode=TRIGGER_MODE_MANUAL,
            auto_init=False,
            env={'MODE': 'dev', 'N': 3},
            serve_env={'PORT': '8000'},
            dir='src',
            serve_dir='.',
            allow_parallel=True,
            readiness_probe=probe(tcp_socket=tcp_socket_action(8000), period_secs=1),
            labels=['backend'],
            tags=['fast'],
            links=['http://localhost:8000', link('http://localhost:8000/docs', 'docs')],
        )
        local_resource('db', serve_cmd='sleep 1000')
        """,
        {"src/main.c": "int main(){}"},
    )
    api = model.resource("api")
    assert api is not None and api.local is not None
    assert api.kind is ResourceKind.LOCAL
    assert api.local.cmd == Command(("sh", "-c", "make build"), shell=True)
    assert api.local.serve_cmd == Command(("python3", "server.py"), shell=False)
    assert api.local.deps == (str(tmp_path / "src"), str(tmp_path / "server.py"))
    assert api.local.ignore == ("src/*.tmp",)
    assert api.resource_deps == ("db",)
    assert api.trigger_mode is TriggerMode.MANUAL
    assert api.auto_init is False
    assert dict(api.local.env) == {"MODE": "dev", "N": "3"}
    assert dict(api.local.serve_env) == {"PORT": "8000"}
    assert api.local.dir == str(tmp_path / "src")
    assert api.local.serve_dir == str(tmp_path)
    assert api.local.allow_parallel is True
    probe = api.local.readiness_probe
    assert probe is not None and (probe.action, probe.port, probe.period_secs) == (
        "tcp_socket",
        8000,
        1,
    )
    assert api.labels == ("backend", "fast")
    assert [(link.url, link.name) for link in api.links] == [
        ("http://localhost:8000", ""),
        ("http://localhost:8000/docs", "docs"),
    ]
    assert api.location is not None and api.location.line == 1


def test_probes_exec_and_http(load) -> None:
    model = load(
        """
        local_resource('a', serve_cmd='x', readiness_probe=probe(exec=exec_action(['true'])))
        local_resource('b', serve_cmd='x', readiness_probe=probe(
            http_get=http_get_action(port=9000, path='/healthz'), initial_delay_secs=2))
        """
    )
    a, b = (model.resource(n) for n in "ab")
    assert a and a.local and a.local.readiness_probe
    assert a.local.readiness_probe.command == Command(("true",), shell=False)
    assert b and b.local and b.local.readiness_probe
    p = b.local.readiness_probe
    assert (p.action, p.port, p.path, p.initial_delay_secs) == ("http_get", 9000, "/healthz", 2)


def test_trigger_mode_sets_the_default_even_when_called_later(load) -> None:
    model = load(
        """
        local_resource('early', cmd='true')
        local_resource('auto', cmd='true', trigger_mode=TRIGGER_MODE_AUTO)
        trigger_mode(TRIGGER_MODE_MANUAL)
        """
    )
    modes = {r.name: r.trigger_mode for r in model.resources}
    assert modes == {"early": TriggerMode.MANUAL, "auto": TriggerMode.AUTO}
