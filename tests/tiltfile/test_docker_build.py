"""docker_build and live_update steps."""

from __future__ import annotations

from pathlib import Path

from tilt_lsp.tiltfile.model import Command, RunStep, SyncRule

DOCKERFILE = "FROM scratch\nCOPY . /app\n"


def test_docker_build_with_every_supported_argument(load, tmp_path: Path) -> None:
    model = load(
        """
        docker_build(
            'registry.example.com/team/web:dev',
            'web',
            dockerfile='docker/web.Dockerfile',
            build_args={'BASE': 'python:3.12-slim'},
            target='dev',
            ignore=['*.log'],
            only=['src', 'requirements.txt'],
            entrypoint=['python3', '-m', 'web'],
            live_update=[
                initial_sync(),
                fall_back_on(['web/requirements.txt']),
                sync('web/src', '/app/src'),
                run('pip install -r /app/requirements.txt', trigger='web/requirements.txt'),
                run(['touch', '/tmp/reloaded'], echo_off=True),
                restart_container(),
            ],
        )
        """,
        {
            "web/src/app.py": "print('hi')\n",
            "web/requirements.txt": "",
            "docker/web.Dockerfile": DOCKERFILE,
        },
    )
    (image,) = model.images
    assert image.ref == "registry.example.com/team/web:dev"
    assert image.repository == "registry.example.com/team/web"
    assert image.context == str(tmp_path / "web")
    assert image.dockerfile == str(tmp_path / "docker" / "web.Dockerfile")
    assert dict(image.build_args) == {"BASE": "python:3.12-slim"}
    assert image.target == "dev"
    assert image.ignore == ("*.log",)
    assert image.only == ("src", "requirements.txt")
    assert image.entrypoint == Command(("python3", "-m", "web"), shell=False)
    lu = image.live_update
    assert lu is not None
    assert lu.initial_sync and lu.restart_container
    assert lu.fall_back_on == (str(tmp_path / "web" / "requirements.txt"),)
    assert lu.syncs == (SyncRule(str(tmp_path / "web" / "src"), "/app/src"),)
    assert lu.runs == (
        RunStep(
            Command(("sh", "-c", "pip install -r /app/requirements.txt"), shell=True),
            (str(tmp_path / "web" / "requirements.txt"),),
        ),
        RunStep(Command(("touch", "/tmp/reloaded"), shell=False), (), echo_off=True),
    )
    assert str(tmp_path / "docker" / "web.Dockerfile") in model.config_files
    # Not deployed by anything: a warning at the docker_build call, not an error.
    assert [w.message for w in model.warnings] == [
        "image 'registry.example.com/team/web:dev' is not used by any resource: no compose "
        "service or Kubernetes workload runs it"
    ]
    assert model.warnings[0].location is not None and model.warnings[0].location.line == 1


def test_default_dockerfile_is_inside_the_context(load, tmp_path: Path) -> None:
    model = load("docker_build('web', 'app')\n", {"app/Dockerfile": DOCKERFILE})
    assert model.images[0].dockerfile == str(tmp_path / "app" / "Dockerfile")
    assert model.images[0].live_update is None


def test_dockerfile_contents_needs_no_file(load) -> None:
    model = load("docker_build('web', '.', dockerfile_contents='FROM scratch\\n')\n")
    assert model.images[0].dockerfile is None
    assert model.images[0].dockerfile_contents == "FROM scratch\n"


def test_unsupported_build_options_warn_at_the_call(load) -> None:
    model = load(
        "x = 1\ndocker_build('web', '.', dockerfile_contents='FROM scratch', ssh='default', cache_from=['a'], target='')\n"
    )
    ours = [w for w in model.warnings if "not supported" in w.message]
    assert [w.message for w in ours] == [
        "docker_build(): 'ssh' is not supported by tilt-lsp yet and is ignored",
        "docker_build(): 'cache_from' is not supported by tilt-lsp yet and is ignored",
    ]
    assert all(w.location is not None and w.location.line == 2 for w in ours)
