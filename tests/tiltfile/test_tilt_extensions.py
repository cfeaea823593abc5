"""Extensions, each test derived from a test of Tilt's internal/tiltfile/tiltextension
(plugin_test.go) or from what Tilt's extensions do; repos are built in the test."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tilt_lsp.tiltfile.model import ResourceKind

LIB = "def printFoo():\n    print('foo')\n"
MIRROR = Path("/work/.mirror/tilt-dev+tilt-extensions/repo")


def git_repo(root: Path, files: dict[str, str]) -> Path:
    """A real git repo with these files, committed."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    env = ["-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", *env, "-C", str(root), "commit", "-qm", "ext"], check=True)
    return root


def test_repo_override(load, tmp_path: Path) -> None:
    """TestRepoOverride: a file:// 'default' repo serves ext://NAME from folder NAME."""
    git_repo(tmp_path / "repo", {"my-extension/Tiltfile": LIB})
    model = load(
        f"v1alpha1.extension_repo(name='default', url='file://{tmp_path}/repo')\n"
        "load('ext://my-extension', 'printFoo')\nprintFoo()\n"
    )
    assert "foo" in model.output.splitlines()


def test_repo_and_ext_override(load, tmp_path: Path) -> None:
    """TestRepoAndExtOverride: v1alpha1.extension maps a name to a repo_path."""
    git_repo(tmp_path / "repo", {"my-custom-path/Tiltfile": LIB})
    model = load(
        f"v1alpha1.extension_repo(name='default', url='file://{tmp_path}/repo')\n"
        "v1alpha1.extension(name='my-extension', repo_name='default', repo_path='my-custom-path')\n"
        "load('ext://my-extension', 'printFoo')\nprintFoo()\n"
    )
    assert "foo" in model.output.splitlines()


def test_loaded_extension_twice_different_files(load, tmp_path: Path) -> None:
    """TestLoadedExtensionTwiceDifferentFiles: two included files load the same extension."""
    git_repo(tmp_path / "repo", {"p/Tiltfile": LIB})
    sub = (
        f"v1alpha1.extension_repo(name='r', url='file://{tmp_path}/repo')\n"
        "v1alpha1.extension(name='e', repo_name='r', repo_path='p')\n"
        "load('ext://e', 'printFoo')\nprintFoo()\n"
    )
    model = load(
        "include('Tiltfile.a')\ninclude('Tiltfile.b')\n", {"Tiltfile.a": sub, "Tiltfile.b": sub}
    )
    assert [line for line in model.output.splitlines() if line == "foo"] == ["foo", "foo"]


def test_nesting_default_behavior(load, tmp_path: Path) -> None:
    """TestNestingDefaultBehavior: ext://nested/fake finds the extension named nested_fake."""
    git_repo(
        tmp_path / "repo",
        {
            "fake/Tiltfile": "def printFake():\n    print('fake')\n",
            "nested/real/Tiltfile": "def printReal():\n\tprint('real')\n",
        },
    )
    model = load(
        f"v1alpha1.extension_repo(name='custom', url='file://{tmp_path}/repo')\n"
        "v1alpha1.extension(name='nested_fake', repo_name='custom', repo_path='fake')\n"
        "v1alpha1.extension(name='nested_real', repo_name='custom', repo_path='nested/real')\n"
        "load('ext://nested/fake', 'printFake')\nprintFake()\n"
        "load('ext://nested/real', 'printReal')\nprintReal()\n"
    )
    lines = model.output.splitlines()
    assert lines.index("fake") < lines.index("real")


def test_repo_load_host(load, tmp_path: Path) -> None:
    """TestRepoLoadHost: a repo with load_host serves ext://HOST/PATH."""
    git_repo(tmp_path / "ext-repo", {"ext/Tiltfile": LIB})
    model = load(
        f"v1alpha1.extension_repo(name='custom', url='file://{tmp_path}/ext-repo', load_host='custom')\n"
        "load('ext://custom/ext', 'printFoo')\nprintFoo()\n"
    )
    assert "foo" in model.output.splitlines()


def test_file_git_subpath(load_error, tmp_path: Path) -> None:
    """TestFileGitSubpath: git_subpath cannot be used with a file:// repo."""
    err = load_error(
        f"v1alpha1.extension_repo(name='custom', url='file://{tmp_path}/ext-repo', git_subpath='subdir')\n"
    )
    assert "cannot use git_subpath for file:// URL extension repositories" in err.message
    assert err.location is not None and err.location.line == 1


def test_repo_git_subpath_cloned_into_the_cache(load, tmp_path: Path) -> None:
    """TestRepoGitSubpath: a git repo (cloned, not file://) with git_subpath; an extension
    without repo_path is the subpath itself."""
    repo = git_repo(
        tmp_path / "ext-repo",
        {
            "subdir/Tiltfile": "def printExt():\n    print('main ext')\n",
            "subdir/subdir2/Tiltfile": "def printExt2():\n    print('sub ext')\n",
        },
    )
    model = load(
        f"v1alpha1.extension_repo(name='custom', url='{repo}', git_subpath='subdir')\n"
        "v1alpha1.extension(name='my-ext', repo_name='custom')\n"
        "v1alpha1.extension(name='my-ext-with-path', repo_name='custom', repo_path='subdir2')\n"
        "load('ext://my-ext', 'printExt')\nprintExt()\n"
        "load('ext://my-ext-with-path', 'printExt2')\nprintExt2()\n"
    )
    assert "main ext" in model.output and "sub ext" in model.output
    assert "cloned from extension repo 'custom'" in model.output
    assert list((tmp_path / ".ext-cache").glob("custom-*/subdir/Tiltfile"))


def test_cached_repo_is_reused_offline(load, tmp_path: Path) -> None:
    """Beyond TestFetchableAlreadyPresentWorks: once cloned, the repo loads with its source
    gone (offline)."""
    repo = git_repo(tmp_path / "src-repo", {"greet/Tiltfile": LIB})
    tiltfile = (
        f"v1alpha1.extension_repo(name='mine', url='{repo}', load_host='mine')\n"
        "load('ext://mine/greet', 'printFoo')\nprintFoo()\n"
    )
    load(tiltfile)
    shutil.rmtree(repo)
    model = load(tiltfile)
    assert "foo" in model.output.splitlines()
    assert "cached from extension repo 'mine'" in model.output


def test_unreachable_repo_error_names_repo_url_and_cache(load_error, tmp_path: Path) -> None:
    """TestExtensionRepoApplyFails: a repo that cannot be fetched is an error at the load,
    naming the repo, its URL and the cache folder."""
    err = load_error(
        "x = 1\n"
        f"v1alpha1.extension_repo(name='gone', url='{tmp_path}/no-such-repo', load_host='gone')\n"
        "load('ext://gone/thing', 'f')\n"
    )
    assert err.location is not None and err.location.line == 3
    assert "extension repo 'gone'" in err.message and f"{tmp_path}/no-such-repo" in err.message
    assert str(tmp_path / ".ext-cache") in err.message


def test_extension_names_unknown_repo(load_error) -> None:
    """TestExtensionApplyFails: an extension whose repo_name names no declared repo."""
    err = load_error("v1alpha1.extension(name='e', repo_name='nope')\nload('ext://e', 'f')\n")
    assert "names extension repo 'nope'" in err.message


def test_extension_may_load_extension(load, tmp_path: Path) -> None:
    """TestExtensionMayLoadExtension: an extension's Tiltfile loads another ext://."""
    git_repo(
        tmp_path / "repo",
        {
            "foo/Tiltfile": "load('ext://bar', 'printBar')\ndef printFoo():\n    print('foo')\n    printBar()\n",
            "bar/Tiltfile": "def printBar():\n    print('bar')\n",
        },
    )
    model = load(
        f"v1alpha1.extension_repo(name='default', url='file://{tmp_path}/repo')\n"
        "load('ext://foo', 'printFoo')\nprintFoo()\n"
    )
    assert model.output.splitlines()[-2:] == ["foo", "bar"]


def test_included_file_may_include_extension(load, tmp_path: Path) -> None:
    """TestIncludedFileMayIncludeExtension / TestLoadedFilesResolveExtensionsFromRootTiltfile."""
    git_repo(tmp_path / "repo", {"foo/Tiltfile": LIB})
    model = load(
        f"v1alpha1.extension_repo(name='default', url='file://{tmp_path}/repo')\n"
        "include('./nested/Tiltfile')\n",
        {"nested/Tiltfile": "load('ext://foo', 'printFoo')\nprintFoo()\n"},
    )
    assert "foo" in model.output.splitlines()


UNREACHABLE = "v1alpha1.extension_repo(name='default', url='https://127.0.0.1:9/unreachable')\n"


def test_bundled_namespace_when_default_repo_unreachable(load) -> None:
    """namespace extension (namespace_create/namespace_inject): bundled fallback, with a log
    line saying so."""
    model = load(
        UNREACHABLE + "load('ext://namespace', 'namespace_create', 'namespace_inject')\n"
        "namespace_create('dev')\n"
        "k8s_yaml(namespace_inject(read_file('app.yaml'), 'dev'))\n",
        {
            "app.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
            "  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: w, image: web}]}\n"
        },
    )
    assert "using tilt-lsp's bundled implementation" in model.output
    web = model.resource("web")
    assert web is not None and web.k8s is not None
    assert web.k8s.objects[0]["metadata"]["namespace"] == "dev"
    assert web.k8s.objects[0]["spec"]["template"]["metadata"]["namespace"] == "dev"
    rest = model.resource("uncategorized")
    assert rest is not None and rest.k8s is not None
    assert [o["kind"] for o in rest.k8s.objects] == ["Namespace"]


def test_bundled_uibutton_is_recorded_and_said_once(load) -> None:
    """uibutton extension: cmd_button makes a v1alpha1 UIButton and Cmd; never fails."""
    model = load(
        UNREACHABLE + "load('ext://uibutton', 'cmd_button', 'location', 'text_input')\n"
        "local_resource('app', cmd='true')\n"
        "cmd_button('seed', resource='app', argv=['./seed.sh'], inputs=[text_input('N')])\n"
        "cmd_button('nav', argv=['true'], location=location.NAV)\n"
    )
    kinds = [o["kind"] for o in model.ui_objects]
    assert kinds == ["ui_button", "cmd", "ui_button", "cmd"]
    assert model.output.count("v1alpha1.ui_button: recorded") == 1


def test_restart_process_sets_restart_process(load) -> None:
    """restart_process extension (docker_build_with_restart): the live update ends with an
    in-place process restart; always tilt-lsp's own implementation."""
    model = load(
        "load('ext://restart_process', 'docker_build_with_restart')\n"
        "docker_build_with_restart('app', '.', entrypoint=['python3', 'app.py'],\n"
        "    live_update=[sync('.', '/app')])\n"
        "docker_compose('dc.yml')\n",
        {"Dockerfile": "FROM scratch\n", "dc.yml": "services:\n  app: {image: app}\n"},
    )
    image = model.image("app")
    assert image is not None and image.live_update is not None
    assert image.live_update.restart_process and not image.live_update.restart_container
    assert image.entrypoint is not None and image.entrypoint.argv == ("python3", "app.py")
    assert "using tilt-lsp's own implementation" in model.output


def test_restart_process_rejects_restart_container(load_error) -> None:
    """restart_process extension: restart_container() cannot be combined with it."""
    err = load_error(
        "load('ext://restart_process', 'docker_build_with_restart')\n"
        "docker_build_with_restart('app', '.', entrypoint='x',\n"
        "    live_update=[sync('.', '/app'), restart_container()])\n",
        {"Dockerfile": "FROM scratch\n"},
    )
    assert "replaces restart_container()" in err.message


@pytest.mark.parametrize(
    ("tiltfile", "check"),
    [
        (
            "load('ext://local_output', 'local_output')\nprint('v=' + local_output('echo 1.2'))\n",
            lambda m: "v=1.2" in m.output.splitlines(),
        ),
        (
            "load('ext://dotenv', 'dotenv')\ndotenv()\nprint('P=' + os.getenv('PORT'))\n",
            lambda m: "P=8080" in m.output.splitlines(),
        ),
        (
            "load('ext://secret', 'secret_from_dict')\nk8s_yaml(secret_from_dict('s', inputs={'a': 'b'}))\n",
            lambda m: m.resources[0].k8s.objects[0]["stringData"] == {"a": "b"},
        ),
        (
            "load('ext://helm_resource', 'helm_resource')\nhelm_resource('db', 'charts/db', resource_deps=[], labels=['data'])\n",
            lambda m: (
                m.resources[0].custom_deploy is not None and m.resources[0].labels == ("data",)
            ),
        ),
        (
            "load('ext://git_resource', 'git_resource')\ngit_resource('svc', 'svc')\n",
            lambda m: m.resource("svc") is not None and m.image("svc-image") is not None,
        ),
        (
            "load('ext://color', 'color')\nprint(color.red('ERR'))\n",
            lambda m: "\x1b[0;31mERR\x1b[0m" in m.output.splitlines(),
        ),
    ],
    ids=["local_output", "dotenv", "secret", "helm_resource", "git_resource", "color"],
)
def test_bundled_extensions_load_offline(load, tiltfile: str, check) -> None:
    """The bundled local_output, dotenv, secret, helm_resource and git_resource keep their
    extensions' names and parameters and do what those do."""
    model = load(
        UNREACHABLE + tiltfile,
        {".env": "PORT=8080\n", "svc/Dockerfile": "FROM scratch\n"},
    )
    assert check(model)


@pytest.mark.skipif(
    not MIRROR.is_dir(), reason="needs the tilt-extensions mirror to copy real extensions from"
)
@pytest.mark.parametrize("name", ["namespace", "uibutton"])
def test_real_extensions_from_a_file_repo(load, tmp_path: Path, name: str) -> None:
    """Tilt's own namespace and uibutton extensions, copied at test time into a git repo
    served as file://, load and run unchanged."""
    text = subprocess.run(
        ["git", "-C", str(MIRROR), "show", f"HEAD:{name}/Tiltfile"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    git_repo(tmp_path / "real", {f"{name}/Tiltfile": text})
    use = {
        "namespace": "load('ext://namespace', 'namespace_create')\nnamespace_create('dev')\n",
        "uibutton": "load('ext://uibutton', 'cmd_button')\nlocal_resource('a', cmd='true')\n"
        "cmd_button('b', resource='a', argv=['true'])\n",
    }[name]
    model = load(f"v1alpha1.extension_repo(name='default', url='file://{tmp_path}/real')\n" + use)
    assert f"from extension repo 'default' (file://{tmp_path}/real)" in model.output
    if name == "namespace":
        assert model.resources[0].k8s.objects[0]["kind"] == "Namespace"
    else:
        assert [o["kind"] for o in model.ui_objects] == ["ui_button", "cmd"]
        assert model.resources[0].kind is ResourceKind.LOCAL


@pytest.mark.skipif(
    not MIRROR.is_dir(), reason="needs the tilt-extensions mirror to copy real extensions from"
)
def test_many_real_extensions_load_and_do_their_job(load, tmp_path: Path) -> None:
    """A dozen of Tilt's own extensions (copied at test time into a file:// repo) load with
    tilt-lsp's builtins and declare what they declare in Tilt."""
    names = [
        "dotenv",
        "local_output",
        "color",
        "secret",
        "helm_resource",
        "configmap",
        "deployment",
        "cert_manager",
        "k8s_attach",
        "docker_build_sub",
        "file_sync_only",
        "global_vars",
        "tests/golang",
    ]
    repo = tmp_path / "ext" / "repo"
    for name in names:
        listing = subprocess.run(
            ["git", "-C", str(MIRROR), "ls-tree", "-r", "--name-only", "HEAD", name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        for path in listing:
            data = subprocess.run(
                ["git", "-C", str(MIRROR), "show", f"HEAD:{path}"], capture_output=True, check=True
            ).stdout
            (repo / path).parent.mkdir(parents=True, exist_ok=True)
            (repo / path).write_bytes(data)
    model = load(
        f"v1alpha1.extension_repo(name='default', url='file://{repo}')\n"
        "load('ext://dotenv', 'dotenv')\ndotenv()\n"
        "load('ext://local_output', 'local_output')\nprint('v=' + local_output('echo 1'))\n"
        "load('ext://color', 'color')\nprint(color.green('ok'))\n"
        "load('ext://secret', 'secret_from_dict')\nk8s_yaml(secret_from_dict('s', inputs={'a': 'b'}))\n"
        "load('ext://helm_resource', 'helm_resource', 'helm_repo')\n"
        "helm_repo('bitnami', 'https://charts.bitnami.com/bitnami')\n"
        "helm_resource('db', 'bitnami/postgresql', resource_deps=['bitnami'], port_forwards=[5432])\n"
        "load('ext://configmap', 'configmap_create')\nconfigmap_create('cm', from_env_file='.env')\n"
        "load('ext://deployment', 'deployment_create')\ndeployment_create('svc', ports='8080')\n"
        "load('ext://cert_manager', 'deploy_cert_manager')\n"
        "load('ext://k8s_attach', 'k8s_attach')\n"
        "load('ext://docker_build_sub', 'docker_build_sub')\n"
        "load('ext://file_sync_only', 'file_sync_only')\n"
        "load('ext://tests/golang', 'test_go')\n",
        {".env": "PORT=1\n"},
    )
    lines = model.output.splitlines()
    assert "v=1" in lines and "\x1b[0;32mok\x1b[0m" in lines
    assert {r.name for r in model.resources} == {"svc", "db", "bitnami", "uncategorized"}
    db = model.resource("db")
    assert db is not None and db.custom_deploy is not None and db.resource_deps == ("bitnami",)
    svc = model.resource("svc")
    assert svc is not None and [o["kind"] for o in svc.k8s.objects] == ["Deployment", "Service"]


def test_repo_pinned_to_a_ref(load, tmp_path: Path) -> None:
    """extension_repo(ref=...): the extension as it was at that commit."""
    repo = git_repo(tmp_path / "src", {"ext/Tiltfile": "def v():\n    print('v1')\n"})
    first = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    (repo / "ext" / "Tiltfile").write_text("def v():\n    print('v2')\n")
    subprocess.run(
        [
            "git",
            "-c",
            "user.email=t@example.com",
            "-c",
            "user.name=t",
            "-C",
            str(repo),
            "commit",
            "-qam",
            "v2",
        ],
        check=True,
    )
    model = load(
        f"v1alpha1.extension_repo(name='r', url='{repo}', ref='{first}', load_host='r')\n"
        "load('ext://r/ext', 'v')\nv()\n"
    )
    assert "v1" in model.output.splitlines()


def test_failed_fetch_is_remembered_and_said(load, tmp_path: Path) -> None:
    """An unreachable default repo is not retried on every evaluation; the bundled version is
    used each time and the log says why."""
    for _ in range(2):
        model = load(UNREACHABLE + "load('ext://local_output', 'local_output')\n")
    assert "retried after 5 minutes" in model.output
    assert list((tmp_path / ".ext-cache").glob("default-*.failed"))
