"""load(), files, commands, printing and the os/config namespaces."""

from __future__ import annotations

import json
from pathlib import Path


def test_load_relative_to_the_loading_file_and_paths_relative_to_the_executing_file(
    load, tmp_path: Path
) -> None:
    model = load(
        """
        load('lib/defs.star', 'svc', 'NAME')
        svc(NAME)
        """,
        {
            "lib/defs.star": """
                load('more.star', 'CMD')
                NAME = 'from-lib'
                def svc(name):
                    local_resource(name, cmd=CMD, deps=['src'])
                """,
            "lib/more.star": "CMD = 'echo ' + config.main_dir\n",
        },
    )
    (res,) = model.resources
    assert res.name == "from-lib"
    assert res.local is not None
    assert res.local.cmd is not None and res.local.cmd.argv[-1] == f"echo {tmp_path}"
    # svc() runs while the Tiltfile executes, so 'src' is relative to the Tiltfile (as in Tilt).
    assert res.local.deps == (str(tmp_path / "src"),)
    assert str(tmp_path / "lib" / "defs.star") in model.config_files
    assert str(tmp_path / "lib" / "more.star") in model.config_files


def test_reading_files_and_running_commands(load, tmp_path: Path) -> None:
    model = load(
        """
        settings = read_json('settings.json')
        values = read_yaml('values.yaml')
        missing = read_file('nope.txt', default='fallback')
        text = str(read_file('name.txt')).strip()
        out = str(local('echo $GREETING-$(pwd)', env={'GREETING': 'hi'}, quiet=True)).strip()
        watch_file('extra.cfg')
        s = struct(port=settings['port'], replicas=values['replicas'])
        print('port', s.port, 'replicas', s.replicas, missing, text, out)
        local_resource(text, cmd='true')
        print(decode_json('{"a": [1, 2]}')['a'], decode_yaml('b: 2')['b'], len(decode_yaml_stream('a: 1\\n---\\nb: 2\\n')))
        print(str(encode_json({'k': 1})).strip() == '{\\n  "k": 1\\n}', str(encode_yaml({'k': 1})).strip())
        print(sorted([os.path.basename(f) for f in listdir('.')])[:2])
        """,
        {
            "settings.json": json.dumps({"port": 8080}),
            "values.yaml": "replicas: 3\n",
            "name.txt": "svc\n",
        },
    )
    lines = model.output.splitlines()
    assert f"port 8080 replicas 3 fallback svc hi-{tmp_path}" in lines
    assert "[1, 2] 2 2" in lines
    assert "True k: 1" in lines
    assert '["Tiltfile", "name.txt"]' in lines
    assert [r.name for r in model.resources] == ["svc"]
    for name in ("settings.json", "values.yaml", "nope.txt", "name.txt", "extra.cfg"):
        assert str(tmp_path / name) in model.config_files


def test_os_and_config_namespaces(load, tmp_path: Path) -> None:
    model = load(
        """
        print(os.getcwd() == config.main_dir, config.main_path.endswith('Tiltfile'))
        print(os.path.join('a', 'b'), os.path.exists('Tiltfile'), os.path.exists('nope'))
        print(os.path.abspath('x') == os.getcwd() + '/x', os.path.dirname('/a/b'), os.path.relpath(config.main_dir + '/q/r'))
        print(os.getenv('MODE'), os.getenv('UNSET', 'dflt'), os.environ['MODE'], shlex.quote('a b'))
        """,
        env={"MODE": "dev"},
    )
    assert model.output.splitlines() == [
        "True True",
        "a/b True False",
        "True /a q/r",
        "dev dflt dev 'a b'",
    ]


def test_settings_that_change_behaviour_are_recorded(load) -> None:
    model = load(
        """
        default_registry('localhost:5000')
        allow_k8s_contexts(['kind-dev', 'minikube'])
        watch_settings(ignore=['*.gen.go'])
        update_settings(max_parallel_updates=3)
        """
    )
    assert model.default_registry == "localhost:5000"
    assert model.allowed_k8s_contexts == ("kind-dev", "minikube")
    assert model.watch_ignores == ("*.gen.go",)
    assert "update_settings(): accepted, no effect in tilt-lsp" in model.output
