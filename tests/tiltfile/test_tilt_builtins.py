"""helm, kustomize, include, load_dynamic, custom_build, k8s_custom_deploy, filter_yaml,
k8s_kind: each test derived from the Tilt test it names (tilt-dev/tilt internal/tiltfile)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tilt_lsp.tiltfile.api.render import helm_command, without_helm_tests

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, labels: {{app: {name}}}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: c, image: {image}}}]}}
"""


def deploy(name: str, image: str = "busybox") -> str:
    return DEPLOY.format(name=name, image=image)


def service(name: str, selector: str = "", namespace: str = "") -> str:
    ns = f", namespace: {namespace}" if namespace else ""
    sel = f"\n  selector: {{app: {selector}}}" if selector else ""
    return f"apiVersion: v1\nkind: Service\nmetadata: {{name: {name}{ns}}}\nspec:\n  ports: [{{port: 80}}]{sel}\n"


# -- helm ------------------------------------------------------------------------------------


def test_helm_args_command_line() -> None:
    """TestHelmArgs / TestHelmSetArgs / TestHelmReleaseName: helm template with release name,
    namespace, values files, --set and CRDs (no helm binary is installable here, so the
    command line is what is checked)."""
    assert helm_command("/c", "rel", "ns", ["v.yaml"], ["a=1", "b=2"], "1.28") == [
        "helm",
        "template",
        "rel",
        "/c",
        "--namespace",
        "ns",
        "--kube-version",
        "1.28",
        "--include-crds",
        "--values",
        "v.yaml",
        "--set",
        "a=1",
        "--set",
        "b=2",
    ]


def test_helm_default_release_name_is_chart() -> None:
    """TestHelm: without name=, the release is named 'chart' (stable across loads)."""
    assert helm_command("/c")[:4] == ["helm", "template", "chart", "/c"]
    assert "--include-crds" not in helm_command("/c", skip_crds=True)


def test_helm_skips_tests() -> None:
    """TestHelmSkipsTests: objects annotated as helm test hooks are dropped."""
    objs = [
        {"kind": "Pod", "metadata": {"name": "t", "annotations": {"helm.sh/hook": "test-success"}}},
        {"kind": "Pod", "metadata": {"name": "p", "annotations": {"helm.sh/hook": "pre-install"}}},
        {"kind": "Service", "metadata": {"name": "s"}},
    ]
    assert [o["metadata"]["name"] for o in without_helm_tests(objs)] == ["p", "s"]


def test_helm_invalid_directory(load_error) -> None:
    """TestHelmInvalidDirectory: a chart path that does not exist is an error at helm()."""
    err = load_error("x = 1\nk8s_yaml(helm('./charts/nope'))\n")
    assert "could not read Helm chart directory" in err.message and "does not exist" in err.message
    assert err.location is not None and (err.location.line, err.location.column) == (2, 10)


def test_helm_missing_binary_is_a_clear_error(load_error, monkeypatch) -> None:
    """Tilt's getHelmVersion error: without helm on $PATH, say how to get it."""
    monkeypatch.setenv("PATH", "/nonexistent")
    err = load_error("k8s_yaml(helm('chart'))\n", {"chart/Chart.yaml": "name: c\n"})
    assert "Unable to find a Helm installation" in err.message and "$PATH" in err.message


# -- kustomize -------------------------------------------------------------------------------

KUSTOMIZATION = "resources:\n- deployment.yaml\n- service.yaml\n"


@pytest.mark.skipif(
    not (shutil.which("kustomize") or shutil.which("kubectl")), reason="needs kustomize or kubectl"
)
def test_kustomize(load) -> None:
    """TestKustomize: kustomize() renders with the real tool; the Service joins the
    Deployment it selects."""
    model = load(
        "k8s_yaml(kustomize('.'))\n",
        {
            "kustomization.yaml": KUSTOMIZATION,
            "deployment.yaml": deploy("the-deployment"),
            "service.yaml": service("the-service", "the-deployment"),
        },
    )
    r = model.resource("the-deployment")
    assert r is not None and r.k8s is not None
    assert sorted(o["kind"] for o in r.k8s.objects) == ["Deployment", "Service"]
    assert "kustomize" in model.output


@pytest.mark.skipif(
    not (shutil.which("kustomize") or shutil.which("kubectl")), reason="needs kustomize or kubectl"
)
def test_kustomize_error(load_error) -> None:
    """TestKustomizeError: a broken kustomization is an error at kustomize(), with the tool's
    own message."""
    err = load_error(
        "k8s_yaml(kustomize('.'))\n", {"kustomization.yaml": "resources:\n- missing.yaml\n"}
    )
    assert "failed with exit code" in err.message and "missing.yaml" in err.message


def test_kustomize_bin_missing(load_error) -> None:
    """TestKustomizeBin: kustomize_bin names the binary to run."""
    err = load_error(
        "k8s_yaml(kustomize('.', kustomize_bin='/no/kustomize'))\n", {"kustomization.yaml": ""}
    )
    assert "cannot run /no/kustomize" in err.message


# -- include / load_dynamic ---------------------------------------------------------------------


def test_include_three_tiltfiles(load) -> None:
    """TestIncludeThreeTiltfiles: included files add their resources; paths are relative to
    the included file."""
    model = load(
        "include('./foo/Tiltfile')\ninclude('./bar/Tiltfile')\n",
        {
            "foo/Tiltfile": "local_resource('foo', cmd='true', deps=['src'])\n",
            "bar/Tiltfile": "local_resource('bar', cmd='true')\n",
        },
    )
    assert [r.name for r in model.resources] == ["foo", "bar"]
    foo = model.resource("foo")
    assert foo is not None and foo.local is not None and foo.local.deps[0].endswith("foo/src")


def test_include_circular(load_error) -> None:
    """TestIncludeCircular: a cycle of includes is an error naming the chain."""
    err = load_error("include('./foo/Tiltfile')\n", {"foo/Tiltfile": "include('../Tiltfile')\n"})
    assert "load cycle" in err.message


def test_include_missing(load_error) -> None:
    """TestIncludeMissing: including a missing file is an error at the include."""
    err = load_error("x = 1\ninclude('./foo/Tiltfile')\n")
    assert "file not found" in err.message and err.location is not None and err.location.line == 2


def test_include_error(load_error, tmp_path: Path) -> None:
    """TestIncludeError: an error in an included file points into that file."""
    err = load_error("include('./foo/Tiltfile')\n", {"foo/Tiltfile": "x = 1\nfail('broken')\n"})
    assert err.message == "broken"
    assert err.location is not None and err.location.path == str(tmp_path / "foo/Tiltfile")


def test_load_dynamic_ok(load) -> None:
    """TestLoadDynamicOK: load_dynamic returns the file's values as a dict."""
    model = load(
        "s = load_dynamic('./lib.star')\nprint(s['x'])\n",
        {"lib.star": "x = 'hello'\n_hidden = 1\n"},
    )
    assert "hello" in model.output.splitlines()


def test_load_dynamic_functions(load) -> None:
    """TestLoadDynamicOK (functions): load_dynamic hands back the file's functions too."""
    model = load(
        "s = load_dynamic('./lib.star')\ns['svc']('api', port=8000)\nprint(s['double'](21))\n",
        {
            "lib.star": "def svc(name, port=0):\n    local_resource(name, 'echo %d' % port)\n"
            "def double(x):\n    return x * 2\n"
        },
    )
    assert model.resources[0].name == "api" and "42" in model.output.splitlines()


def test_load_dynamic_cached_load(load) -> None:
    """TestLoadDynamicCachedLoad: load and load_dynamic of one file evaluate it once."""
    model = load(
        "load('./lib.star', 'x')\ns = load_dynamic('./lib.star')\nprint(s['x'] == x)\n",
        {"lib.star": "print('evaluated')\nx = 1\n"},
    )
    assert model.output.splitlines().count("evaluated") == 1 and "True" in model.output


def test_load_dynamic_error(load_error) -> None:
    """TestLoadDynamicError: an error in the file is reported."""
    err = load_error("load_dynamic('./lib.star')\n", {"lib.star": "fail('boom')\n"})
    assert err.message == "boom"


# -- custom_build ------------------------------------------------------------------------------

K8S_FE = deploy("fe", "fe")


def test_custom_build_image_deps(load) -> None:
    """TestCustomBuildImageDeps: a custom_build may depend on another image."""
    model = load(
        "custom_build('base', 'build-base.sh', ['base'])\n"
        "custom_build('fe', 'build-fe.sh $EXPECTED_REF', ['fe'], image_deps=['base'])\n"
        "k8s_yaml('fe.yaml')\n",
        {"fe.yaml": K8S_FE, "fe/a": "", "base/a": ""},
    )
    fe = model.image("fe")
    assert fe is not None and fe.custom is not None
    assert fe.custom.command.argv == ("sh", "-c", "build-fe.sh $EXPECTED_REF")
    assert model.resource("fe") is not None and model.resource("fe").image_refs == ("fe",)


def test_custom_build_missing_image_deps(load_error) -> None:
    """TestCustomBuildMissingImageDeps."""
    err = load_error("custom_build('fe', 'b.sh', ['.'], image_deps=['base'])\n")
    assert err.message == 'image "fe": image dep "base" not found'


def test_custom_build_env_and_dir(load, tmp_path: Path) -> None:
    """TestCustomBuildImageWithEnv / TestCustomBuildImageWithDir."""
    model = load(
        "custom_build('custom', 'build.sh', ['.'], env={'SETTING': 'value'}, dir='./subdir')\n",
        {"subdir/x": ""},
    )
    cb = model.images[0].custom
    assert cb is not None and dict(cb.env) == {"SETTING": "value"}
    assert cb.dir == str(tmp_path / "subdir")


@pytest.mark.parametrize(
    ("args", "field", "value"),
    [
        ("tag='the-tag'", "tag", "the-tag"),
        ("disable_push=True", "disable_push", True),
        ("skips_local_docker=True", "skips_local_docker", True),
    ],
    ids=["TestCustomBuildWithTag", "TestCustomBuildDisablePush", "TestCustomBuildSkipsLocalDocker"],
)
def test_custom_build_options(load, args: str, field: str, value: object) -> None:
    """TestCustomBuildWithTag / TestCustomBuildDisablePush / TestCustomBuildSkipsLocalDocker."""
    model = load(f"custom_build('img', 'make', ['.'], {args})\n")
    assert getattr(model.images[0].custom, field) == value


def test_custom_build_entrypoint_and_live_update(load) -> None:
    """TestCustomBuildEntrypoint / TestLiveUpdateCustomBuild."""
    model = load(
        "custom_build('img', 'make', ['src'], entrypoint=['/app'], live_update=[sync('src', '/src')])\n",
        {"src/a": ""},
    )
    image = model.images[0]
    assert image.entrypoint is not None and image.entrypoint.argv == ("/app",)
    assert image.live_update is not None and image.live_update.syncs[0].container_path == "/src"


def test_live_update_sync_files_outside_of_custom_build_deps(load_error, tmp_path: Path) -> None:
    """TestLiveUpdateSyncFilesOutsideOfCustomBuildDeps."""
    err = load_error("custom_build('img', 'make', ['foo'], live_update=[sync('bar', '/baz')])\n")
    assert "sync step source" in err.message and str(tmp_path / "bar") in err.message
    assert "is not a child of any watched filepaths" in err.message


def test_custom_build_command_required(load_error) -> None:
    """TestCustomBuildBadMethodCall family: custom_build needs a command."""
    err = load_error("custom_build('img', '', ['.'])\n")
    assert "Argument 'command' can't be empty" in err.message


# -- k8s_custom_deploy -------------------------------------------------------------------------


def test_k8s_custom_deploy_image_deps_missing(load_error) -> None:
    """TestK8sCustomDeployImageDepsMissing."""
    err = load_error(
        "k8s_custom_deploy('foo', apply_cmd='a', delete_cmd='d', deps=[], image_deps=['image-a'])\n"
    )
    assert err.message == 'resource "foo": image build "image-a" not found'


def test_k8s_custom_deploy_image_deps_malformed(load_error) -> None:
    """TestK8sCustomDeployImageDepsMalformed."""
    err = load_error(
        "k8s_custom_deploy('foo', apply_cmd='a', delete_cmd='d', deps=[], image_deps=['image a'])\n"
    )
    assert "image_deps" in err.message and "must be a valid image reference" in err.message


def test_k8s_custom_deploy_image_dep_exists(load) -> None:
    """TestK8sCustomDeployImageDepExists: the deploy uses the image; k8s_resource configures it."""
    model = load(
        "docker_build('image-a', '.')\n"
        "k8s_custom_deploy('foo', apply_cmd='apply.sh', delete_cmd='delete.sh', deps=['.'], image_deps=['image-a'])\n"
        "k8s_resource('foo', labels=['x'])\n",
        {"Dockerfile": "FROM scratch\n"},
    )
    foo = model.resource("foo")
    assert foo is not None and foo.custom_deploy is not None and foo.image_refs == ("image-a",)
    assert foo.labels == ("x",)


@pytest.mark.parametrize(
    "other",
    [
        "k8s_custom_deploy('foo', apply_cmd='a', delete_cmd='d', deps=[])",
        "k8s_yaml('foo.yaml')",
    ],
    ids=["TestK8sCustomDeployConflict", "TestK8sCustomDeployConflictWithYaml"],
)
def test_k8s_custom_deploy_conflict(load_error, other: str) -> None:
    """TestK8sCustomDeployConflict: two resources named foo."""
    err = load_error(
        f"k8s_custom_deploy('foo', apply_cmd='a', delete_cmd='d', deps=[])\n{other}\n",
        {"foo.yaml": deploy("foo")},
    )
    assert 'k8s_resource named "foo" already exists' in err.message


# -- filter_yaml / k8s_kind / read_yaml_stream ----------------------------------------------------

ALL = "---\n".join(
    [
        deploy("a"),
        deploy("b"),
        service("b", "b", "other"),
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s, labels: {app: a}}\n",
    ]
)


@pytest.mark.parametrize(
    ("args", "names"),
    [
        ("labels={'app': 'a'}", ["a", "s"]),
        ("name='b'", ["b", "b"]),
        ("name='b', kind='service'", ["b"]),
        ("namespace='other'", ["b"]),
        ("api_version='apps/v1'", ["a", "b"]),
        ("name='nope'", []),
    ],
    ids=[
        "TestFilterYamlByLabel",
        "TestFilterYamlByName",
        "TestFilterYamlByNameKind",
        "TestFilterYamlByNamespace",
        "TestFilterYamlByApiVersion",
        "TestFilterYamlNoMatch",
    ],
)
def test_filter_yaml(load, args: str, names: list[str]) -> None:
    """TestFilterYaml*: filter_yaml splits YAML into (matching, rest)."""
    model = load(
        f"hit, rest = filter_yaml('all.yaml', {args})\n"
        "print('names=' + ','.join([o['metadata']['name'] for o in decode_yaml_stream(hit)]))\n",
        {"all.yaml": ALL},
    )
    assert model.output.splitlines()[-1] == "names=" + ",".join(names)


CRD = """apiVersion: fission.io/v1
kind: Environment
metadata: {name: mycrd}
spec: {runtime: {image: test/mycrd-env}}
"""


@pytest.mark.parametrize(
    ("args", "workload", "image"),
    [
        ("'Environment', image_json_path='{.spec.runtime.image}'", True, True),
        ("'fdas', image_json_path='{.spec.runtime.image}'", False, False),
        (
            "'Environment', image_json_path='{.spec.runtime.image}', api_version='fission.io/v1'",
            True,
            True,
        ),
        (
            "'Environment', image_json_path='{.spec.runtime.image}', api_version='fission.io/v2'",
            False,
            False,
        ),
        ("'Environment'", True, False),
    ],
    ids=[
        "match kind",
        "don't match kind",
        "match apiVersion",
        "don't match apiVersion",
        "no image",
    ],
)
def test_k8s_kind(load, args: str, workload: bool, image: bool) -> None:
    """TestK8sKind: k8s_kind makes objects of a kind workloads, with images at a JSON path."""
    model = load(
        f"docker_build('test/mycrd-env', 'env')\nk8s_yaml('crd.yaml')\nk8s_kind({args})\n",
        {"crd.yaml": CRD, "env/Dockerfile": "FROM scratch\n"},
    )
    r = model.resource("mycrd")
    assert (r is not None) == workload
    if r is not None:
        assert r.image_refs == (("test/mycrd-env",) if image else ())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("'*', image_json_path='{.a}'", "error parsing kind regexp"),
        ("'Environment', api_version='*'", "error parsing apiVersion regexp"),
    ],
    ids=["invalid kind regexp", "invalid apiVersion regexp"],
)
def test_k8s_kind_invalid_regexp(load_error, args: str, message: str) -> None:
    """TestK8sKind (invalid regexp cases)."""
    assert message in load_error(f"k8s_kind({args})\n").message


def test_k8s_image_json_path(load) -> None:
    """TestK8sImageJSONPathArgs: images found at a path of a named object, no new workload."""
    model = load(
        "docker_build('test/mycrd-env', 'env')\nk8s_yaml('crd.yaml')\n"
        "k8s_kind('Environment')\n"
        "k8s_image_json_path('{.spec.runtime.image}', kind='Environment', name='mycrd')\n",
        {"crd.yaml": CRD, "env/Dockerfile": "FROM scratch\n"},
    )
    r = model.resource("mycrd")
    assert r is not None and r.image_refs == ("test/mycrd-env",)


def test_read_yaml_stream(load) -> None:
    """io: read_yaml_stream returns every document (Tilt's read_yaml_stream)."""
    model = load("print(len(read_yaml_stream('all.yaml')))\n", {"all.yaml": ALL})
    assert model.output.splitlines()[-1] == "4"


KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "https://127.0.0.1:1"}}}}]
users: [{{name: u, user: {{}}}}]
contexts: [{{name: gke-blorg, context: {{cluster: c, user: u{ns}}}}}]
current-context: gke-blorg
"""


@pytest.mark.skipif(not shutil.which("kubectl"), reason="needs kubectl")
@pytest.mark.parametrize(
    ("ns", "expected"),
    [("", "default"), (", namespace: im-a-teapot", "im-a-teapot")],
    ids=["TestK8sNamespaceDefaultNamespace", "TestK8sNamespaceNonStandardNamespace"],
)
def test_k8s_context_and_namespace(load, tmp_path: Path, ns: str, expected: str) -> None:
    """k8scontext_test.go: k8s_context() and k8s_namespace() read the kubeconfig."""
    config = tmp_path / "kubeconfig"
    config.write_text(KUBECONFIG.format(ns=ns))
    model = load("print(k8s_context())\nprint(k8s_namespace())\n", env={"KUBECONFIG": str(config)})
    assert model.output.splitlines()[-2:] == ["gke-blorg", expected]
    assert (model.k8s_context, model.k8s_namespace) == ("gke-blorg", expected)


def test_resources_json_shows_what_tilt_lsp_modelled(load) -> None:
    """`tilt-lsp resources --json` carries custom builds, custom deploys, restart_process,
    named links and recorded UI objects (plain JSON)."""
    import json

    from tilt_lsp.tiltfile import serialize

    model = load(
        "custom_build('img', 'make $EXPECTED_REF', ['.'], live_update=[sync('.', '/app')])\n"
        "k8s_custom_deploy('dep', apply_cmd='apply', delete_cmd='delete', deps=[], image_deps=['img'])\n"
        "k8s_resource('dep', links=[link('localhost:8000', 'ui')])\n"
        "v1alpha1.ui_button(name='b', text='B')\n"
    )
    data = json.loads(json.dumps(serialize.model(model)))
    assert data["images"][0]["custom_build"]["command"]["display"] == "make $EXPECTED_REF"
    assert data["images"][0]["live_update"]["restart_process"] is False
    dep = data["resources"][0]
    assert dep["k8s_custom_deploy"]["image_deps"] == ["img"]
    assert dep["links"] == [{"url": "localhost:8000", "name": "ui"}]
    assert data["ui_objects"][0]["kind"] == "ui_button"


def test_load_dynamic_skips_values_that_hold_functions(load) -> None:
    """A struct of functions (like ext://color's) cannot be plain data; the rest still is."""
    model = load(
        "s = load_dynamic('./lib.star')\nprint(s['x'])\nprint('tools' in s)\n",
        {"lib.star": "def f():\n    pass\ntools = struct(f=f)\nx = 'plain'\n"},
    )
    assert model.output.splitlines()[-2:] == ["plain", "False"]


def test_custom_build_missing_deps_warn(load) -> None:
    """A custom_build or k8s_custom_deploy dep that does not exist is a warning (as for
    local_resource deps), not an error: Tilt accepts it."""
    model = load(
        "custom_build('img', 'make', ['srcc'])\n"
        "k8s_custom_deploy('d', apply_cmd='a', delete_cmd='b', deps=['chartz'])\n"
    )
    messages = [w.message for w in model.warnings]
    assert any("deps: 'srcc' does not exist" in m for m in messages)
    assert any("deps: 'chartz' does not exist" in m for m in messages)
