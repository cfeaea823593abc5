"""What a Tiltfile means, as Tilt decides it: resource grouping, compose depends_on, links,
names, live-update and local_resource errors, config args. Each test names the Tilt test
(tilt-dev/tilt internal/tiltfile) it derives from."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tiltfile.test_tilt_builtins import deploy, service


def objects(model, name: str) -> list[str]:
    r = model.resource(name)
    assert r is not None and r.k8s is not None, name
    return [f"{o['kind']}/{o['metadata']['name']}" for o in r.k8s.objects]


# -- grouping ------------------------------------------------------------------------------


def test_unresourced_yaml_grouping(load) -> None:
    """TestUnresourcedYamlGroupingV1/V2: Services join the Deployment whose pods they select;
    the rest is uncategorized."""
    secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: someSecret}\n"
    yaml = "---\n".join(
        [
            deploy("deployment-a"),
            deploy("deployment-b"),
            service("service-b", "deployment-b"),
            deploy("deployment-c"),
            service("service-c1", "deployment-c"),
            service("service-c2", "deployment-c"),
            secret,
        ]
    )
    model = load("k8s_yaml('all.yaml')\n", {"all.yaml": yaml})
    assert [r.name for r in model.resources] == [
        "deployment-a",
        "deployment-b",
        "deployment-c",
        "uncategorized",
    ]
    assert objects(model, "deployment-b") == ["Deployment/deployment-b", "Service/service-b"]
    assert objects(model, "deployment-c") == [
        "Deployment/deployment-c",
        "Service/service-c1",
        "Service/service-c2",
    ]
    assert objects(model, "uncategorized") == ["Secret/someSecret"]


def test_assembly_service_without_selector_matches_nothing(load) -> None:
    """TestAssemblyServiceWithoutSelectorMatchesNothing."""
    model = load("k8s_yaml('all.yaml')\n", {"all.yaml": deploy("foo") + "---\n" + service("svc")})
    assert objects(model, "foo") == ["Deployment/foo"]
    assert objects(model, "uncategorized") == ["Service/svc"]


def test_service_in_another_namespace_does_not_join(load) -> None:
    """TestFilterByMatchesPodTemplateSpecNamespace (k8s/entity_test.go): a Service with an
    explicit other namespace stays apart."""
    model = load(
        "k8s_yaml('all.yaml')\n",
        {"all.yaml": deploy("foo") + "---\n" + service("svc", "foo", "elsewhere")},
    )
    assert objects(model, "foo") == ["Deployment/foo"]


def test_k8s_grouped_when_added_to_resource(load) -> None:
    """TestK8sGroupedWhenAddedToResource: objects= claims come first, the Service still joins
    its workload."""
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n"
    model = load(
        "k8s_yaml('all.yaml')\nk8s_resource('foo', objects=['cfg'])\n",
        {"all.yaml": "---\n".join([deploy("foo"), service("svc", "foo"), cm])},
    )
    assert objects(model, "foo") == ["Deployment/foo", "ConfigMap/cfg", "Service/svc"]
    assert model.resource("uncategorized") is None


# -- docker compose -------------------------------------------------------------------------

TWO_SERVICES = """
services:
  foo:
    image: foo
  bar:
    image: bar
    depends_on: [foo]
  baz:
    image: baz
    depends_on:
      bar: {condition: service_started}
"""


def test_dc_depends_on_inferred_from_compose_file(load) -> None:
    """TestDCDependsOnInferredFromComposeFile: depends_on (list or mapping) → resource_deps."""
    model = load("docker_compose('docker-compose.yml')\n", {"docker-compose.yml": TWO_SERVICES})
    deps = {r.name: r.resource_deps for r in model.resources}
    assert deps == {"foo": (), "bar": ("foo",), "baz": ("bar",)}


def test_dc_depends_on_resource_dep_specified(load) -> None:
    """TestDCDependsOnResourceDepSpecified: dc_resource adds to the inferred deps."""
    model = load(
        "docker_compose('docker-compose.yml')\nlocal_resource('setup', cmd='true')\n"
        "dc_resource('bar', resource_deps=['setup'])\n",
        {"docker-compose.yml": TWO_SERVICES},
    )
    bar = model.resource("bar")
    assert bar is not None and bar.resource_deps == ("foo", "setup")


THREE_SERVICES = """
services:
  db: {image: db}
  foo: {image: foo, depends_on: [db]}
  bar: {image: bar, depends_on: [db, foo]}
"""


@pytest.mark.parametrize(
    "renames",
    [
        {},
        {"db": "db2"},
        {"foo": "foo2"},
        {"foo": "foo2", "bar": "bar2"},
        {"db": "db2", "foo": "foo2", "bar": "bar2"},
    ],
    ids=["default", "rename db", "rename foo", "rename foo + bar", "rename db + foo + bar"],
)
def test_docker_compose_new_name_with_dependencies(load, renames: dict[str, str]) -> None:
    """TestDockerComposeNewNameWithDependencies: inferred deps follow dc_resource renames."""
    tiltfile = "docker_compose('docker-compose.yml')\n" + "".join(
        f"dc_resource('{old}', new_name='{new}')\n" for old, new in renames.items()
    )
    model = load(tiltfile, {"docker-compose.yml": THREE_SERVICES})
    n = {s: renames.get(s, s) for s in ("db", "foo", "bar")}
    deps = {r.name: r.resource_deps for r in model.resources}
    assert deps == {n["db"]: (), n["foo"]: (n["db"],), n["bar"]: (n["db"], n["foo"])}


def test_conflicting_workload_names(load) -> None:
    """TestConflictingWorkloadNames: same-named workloads get kind and namespace."""
    d1 = deploy("foo", "gcr.io/foo1").replace("{name: foo,", "{name: foo, namespace: ns1,")
    d2 = deploy("foo", "gcr.io/foo2").replace("{name: foo,", "{name: foo, namespace: ns2,")
    model = load(
        "k8s_yaml(['foo1.yaml', 'foo2.yaml'])\ndocker_build('gcr.io/foo1', 'foo1')\n"
        "docker_build('gcr.io/foo2', 'foo2')\n",
        {
            "foo1.yaml": d1,
            "foo2.yaml": d2,
            "foo1/Dockerfile": "FROM x\n",
            "foo2/Dockerfile": "FROM x\n",
        },
    )
    assert [(r.name, r.image_refs) for r in model.resources] == [
        ("foo:deployment:ns1", ("gcr.io/foo1",)),
        ("foo:deployment:ns2", ("gcr.io/foo2",)),
    ]


def test_k8s_resource_non_workload_requires_new_name(load_error) -> None:
    """TestK8sResourceNonWorkloadRequiresNewName."""
    err = load_error(
        "k8s_yaml('s.yaml')\nk8s_resource(objects=['bar'])\n",
        {"s.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: bar}\n"},
    )
    assert "new_name" in err.message and err.location is not None and err.location.line == 2


# -- resource deps and names ------------------------------------------------------------------


def test_depends_on_missing_resource_is_a_warning(load) -> None:
    """TestDependsOnMissingResource: an unknown dependency is warned about and ignored."""
    model = load(
        "local_resource('baz', 'echo baz')\n"
        "local_resource('bar', 'echo bar', resource_deps=['foo', 'baz'])\n"
    )
    bar = model.resource("bar")
    assert bar is not None and bar.resource_deps == ("baz",)
    assert any("unknown resource 'foo'" in w.message for w in model.warnings)


def test_local_resource_invalid_name(load_error, tmp_path: Path) -> None:
    """TestLocalResourceInvalidName: '/' is not allowed, at the call."""
    err = load_error('x = 1\nlocal_resource("a/b", ["echo", "hi"])\n')
    assert "may not be empty or contain '/'" in err.message
    assert err.location is not None and err.location.line == 2


def test_resource_name_with_spaces_is_accepted(load) -> None:
    """Tilt accepts any name without '/' (TestLocalResourceInvalidName's rule)."""
    model = load("local_resource('my app', 'true')\n")
    assert model.resources[0].name == "my app"


def test_tabs_are_accepted(load) -> None:
    """Tilt's Starlark accepts tab indentation (go.starlark.net scanner)."""
    model = load("def f():\n\tlocal_resource('a', 'true')\nf()\n")
    assert model.resources[0].name == "a"


# -- links ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("links", "expected"),
    [
        ("'http://www.zombo.com'", [("http://www.zombo.com", "")]),
        ("'www.zombo.com'", [("http://www.zombo.com", "")]),
        ("'ws://www.zombo.com'", [("ws://www.zombo.com", "")]),
        ("link('https://www.zombo.com', name='zombo')", [("https://www.zombo.com", "zombo")]),
        ("link('www.zombo.com', 'zombo')", [("http://www.zombo.com", "zombo")]),
        (
            "['www.apple.edu', link('www.zombo.com', 'zombo')]",
            [("http://www.apple.edu", ""), ("http://www.zombo.com", "zombo")],
        ),
    ],
    ids=[
        "value_string",
        "value_string_adds_scheme",
        "value_string_preserves_nonhttp_scheme",
        "value_link_named",
        "link_constructor_adds_scheme",
        "value_list_mixed",
    ],
)
def test_resource_links(load, links: str, expected: list[tuple[str, str]]) -> None:
    """TestResourceLinks (LocalResource cases)."""
    model = load(f"local_resource('foo', 'true', links={links})\n")
    assert [(link.url, link.name) for link in model.resources[0].links] == expected


@pytest.mark.parametrize(
    ("links", "message"),
    [("''", "url empty"), ("link('')", "url empty"), ("123", "links must be URLs")],
    ids=["value_string_empty_url", "link_constructor_empty_URL", "invalid_type"],
)
def test_resource_links_errors(load_error, links: str, message: str) -> None:
    """TestResourceLinks (error cases)."""
    assert message in load_error(f"local_resource('foo', 'true', links={links})\n").message


def test_link_props(load) -> None:
    """TestLinkProps (links/links_test.go): link() has .url and .name."""
    model = load("l = link('localhost:4000', 'web')\nprint(l.url)\nprint(l.name)\n")
    assert model.output.splitlines()[-2:] == ["localhost:4000", "web"]


def test_k8s_resource_additive_links(load) -> None:
    """TestK8sResourceAdditiveLinks: links from several k8s_resource calls add up."""
    model = load(
        "k8s_yaml('foo.yaml')\nk8s_resource('foo', links=['www.zombo.com'])\n"
        "k8s_resource('foo', links=[link('www.apple.edu', 'apple')])\n",
        {"foo.yaml": deploy("foo")},
    )
    assert [(x.url, x.name) for x in model.resource("foo").links] == [
        ("http://www.zombo.com", ""),
        ("http://www.apple.edu", "apple"),
    ]


# -- local_resource ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            'local_resource("test", serve_cmd="python server.py", dir="./foo")',
            "'dir' only affects 'cmd', not 'serve_cmd'. Did you mean to use 'serve_dir' instead?",
        ),
        ('local_resource("test", dir="./foo")', "'dir' specified but 'cmd' is empty"),
        (
            'local_resource("test", cmd="echo hi", serve_dir="./foo")',
            "'serve_dir' specified but 'serve_cmd' is empty",
        ),
        ('local_resource("test")', "must have a cmd and/or a serve_cmd, but both were empty"),
    ],
    ids=[
        "TestLocalResourceDirWithoutCmd",
        "TestLocalResourceDirWithoutCmdNoServe",
        "TestLocalResourceServeDirWithoutServeCmd",
        "TestLocalResourceNoCmd",
    ],
)
def test_local_resource_errors(load_error, call: str, message: str) -> None:
    """local_resource_test.go: dir/serve_dir need their command."""
    err = load_error(f"x = 1\n{call}\n", {"foo/a": ""})
    assert message in err.message and err.location is not None and err.location.line == 2


def test_local_resource_dir_with_cmd_works(load, tmp_path: Path) -> None:
    """TestLocalResourceDirWithCmdWorks / TestLocalResourceServeDirWithServeCmdWorks."""
    model = load(
        "local_resource('a', cmd='ls', dir='foo')\nlocal_resource('b', serve_cmd='ls', serve_dir='foo')\n",
        {"foo/a": ""},
    )
    assert model.resource("a").local.dir == str(tmp_path / "foo")
    assert model.resource("b").local.serve_dir == str(tmp_path / "foo")


# -- docker_build / live_update -----------------------------------------------------------------

FOO = {"foo/Dockerfile": "FROM scratch\n", "foo.yaml": deploy("foo", "gcr.io/foo")}


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            "restart_container(), sync('foo', '/baz')",
            "restart container is only valid as the last step",
        ),
        ("sync('foo', 'baz')", "must be an absolute path"),
        ("run('quu'), sync('foo', '/baz')", "all sync steps must precede all run steps"),
        ("sync('bar', '/baz')", "sync step source"),
        ("fall_back_on('bar')", "fall_back_on paths"),
        (
            "sync('foo', '/x'), initial_sync()",
            "initial_sync must appear at most once, at the start of the list",
        ),
        (
            "initial_sync(), initial_sync()",
            "initial_sync must appear at most once, at the start of the list",
        ),
        ("'quu'", "must be a list of live update steps"),
    ],
    ids=[
        "TestLiveUpdateRestartContainerNotLast",
        "TestLiveUpdateSyncRelDest",
        "TestLiveUpdateRunBeforeSync",
        "TestLiveUpdateSyncFilesOutsideOfDockerBuildContext",
        "TestLiveUpdateFallBackTriggersOutsideOfDockerBuildContext",
        "TestLiveUpdate_InitialSync_MustBeFirst",
        "TestLiveUpdate_InitialSync_DuplicateError",
        "TestLiveUpdateNonStepInSteps",
    ],
)
def test_live_update_errors(load_error, steps: str, message: str) -> None:
    """live_update_test.go: ordering and path rules, at the docker_build call."""
    err = load_error(
        f"k8s_yaml('foo.yaml')\ndocker_build('gcr.io/foo', 'foo', live_update=[{steps}])\n", FOO
    )
    assert message in err.message
    assert err.location is not None and err.location.line == 2


def test_live_update_step_not_used(load_error) -> None:
    """TestLiveUpdateStepNotUsed: a step created but not used, at its line."""
    err = load_error("restart_container()\n")
    assert "restart_container" in err.message and "not used" in err.message
    assert err.location is not None and err.location.line == 1


def test_live_update_restart_container_k8s(load_error) -> None:
    """TestLiveUpdateRestartContainerDeprecationErrorK8s: Tilt refuses restart_container()
    for a Kubernetes resource, naming the resource and pointing at the restart_process
    extension; tilt-lsp puts the error on the docker_build."""
    err = load_error(
        "k8s_yaml('foo.yaml')\ndocker_build('gcr.io/foo', 'foo', live_update=[sync('foo', '/x'), restart_container()])\n",
        FOO,
    )
    assert "resource(s): [foo]" in err.message and "restart_process" in err.message
    assert err.location is not None and err.location.line == 2


def test_live_update_restart_container_k8s_custom_build(load_error) -> None:
    """TestLiveUpdateRestartContainerDeprecationErrorK8sCustomBuild: the same for custom_build."""
    err = load_error(
        "k8s_yaml('foo.yaml')\ncustom_build('gcr.io/foo', 'docker build -t $EXPECTED_REF foo', ['foo'], live_update=[sync('foo', '/x'), restart_container()])\n",
        FOO,
    )
    assert "resource(s): [foo]" in err.message


def test_live_update_restart_container_compose_is_fine(load) -> None:
    """TestLiveUpdateNoRestartContainerDeprecationErrorK8sDockerCompose."""
    model = load(
        "docker_compose('dc.yml')\ndocker_build('foo', 'foo', live_update=[sync('foo', '/x'), restart_container()])\n",
        {"foo/Dockerfile": "FROM scratch\n", "dc.yml": "services:\n  foo: {image: foo}\n"},
    )
    assert not [w for w in model.warnings if "restart_container()" in w.message]


def test_dockerfile_and_dockerfile_contents(load_error) -> None:
    """docker_build: both dockerfile and dockerfile_contents is Tilt's error."""
    err = load_error(
        "docker_build('foo', '.', dockerfile='Dockerfile', dockerfile_contents='FROM x')\n"
    )
    assert "Cannot specify both dockerfile and dockerfile_contents" in err.message


def test_explicit_dockerfile_contents(load) -> None:
    """TestExplicitDockerfileContents."""
    model = load(
        "docker_build('gcr.io/foo', 'foo', dockerfile_contents='FROM alpine')\nk8s_yaml('foo.yaml')\n",
        FOO,
    )
    assert model.image("gcr.io/foo").dockerfile_contents == "FROM alpine"


def test_build_context_created_later_is_not_a_load_error(load) -> None:
    """Tilt reads the context when the image builds: a local_resource may create it."""
    model = load(
        "local_resource('gen', 'mkdir -p gen && echo FROM scratch > gen/Dockerfile')\n"
        "docker_build('img', 'gen')\ndocker_compose('dc.yml')\n",
        {"dc.yml": "services:\n  img: {image: img}\n"},
    )
    assert model.image("img") is not None


# -- config -----------------------------------------------------------------------------------

TWO = "local_resource('a', 'true')\nlocal_resource('b', 'true')\n"


def enabled(model) -> list[str]:
    return [r.name for r in model.resources if r.auto_init]


@pytest.mark.parametrize(
    ("parse", "args", "tiltfile_resources", "expected"),
    [
        (False, [], None, ["a", "b"]),
        (True, [], None, ["a", "b"]),
        (False, ["a"], None, ["a"]),
        (True, ["a"], None, ["a", "b"]),
        (False, [], ["b"], ["b"]),
        (True, [], ["b"], ["b"]),
        (False, ["a"], ["b"], ["b"]),
        (True, ["a"], ["b"], ["b"]),
    ],
)
def test_set_resources(load, parse, args, tiltfile_resources, expected) -> None:
    """TestSetResources (config_test.go): args name resources unless config.parse() takes
    them; set_enabled_resources wins."""
    tiltfile = TWO
    if tiltfile_resources is not None:
        tiltfile += f"config.set_enabled_resources({tiltfile_resources!r})\n"
    if parse:
        tiltfile += "config.define_string_list('resources', args=True)\nconfig.parse()\n"
    assert enabled(load(tiltfile, args=args)) == expected


def test_clear_enabled_resources(load) -> None:
    """TestClearEnabledResources."""
    assert enabled(load(TWO + "config.clear_enabled_resources()\n", args=["a", "b"])) == []


@pytest.mark.parametrize(
    ("args", "defs", "expected"),
    [
        (
            ["united", "states", "canada"],
            "config.define_string_list('foo', args=True)",
            ["foo: united,states,canada"],
        ),
        (["--foo", "a", "--foo", "b"], "config.define_string_list('foo')", ["foo: a,b"]),
        (
            ["--bar", "puerto rico", "--baz", "colombia", "--bar", "venezuela", "and", "still"],
            "config.define_string_list('foo', args=True)\nconfig.define_string_list('bar')\n"
            "config.define_string_list('baz')",
            ["foo: and,still", "bar: puerto rico,venezuela", "baz: colombia"],
        ),
        (
            ["--bar", "puerto rico", "colombia"],
            "config.define_string_list('foo', args=True)\nconfig.define_string('bar')",
            ["foo: colombia", "bar: puerto rico"],
        ),
    ],
    ids=[
        "TestParsePositional",
        "TestParseKeyword",
        "TestParsePositionalAndMultipleInterspersedKeyword",
        "TestParseKeywordAfterPositional",
    ],
)
def test_config_parse(load, args, defs, expected) -> None:
    """config_test.go: flags and positional args."""
    show = (
        "for k in ['foo', 'bar', 'baz']:\n"
        "    if k in cfg:\n"
        "        v = cfg[k]\n"
        "        print(k + ': ' + (','.join(v) if type(v) == 'list' else v))\n"
    )
    model = load(f"{defs}\ncfg = config.parse()\n{show}", args=args)
    assert [line for line in model.output.splitlines() if ": " in line] == expected


@pytest.mark.parametrize(
    ("args", "tiltfile", "message"),
    [
        (
            [],
            "config.define_string_list('foo', args=True)\nconfig.define_string_list('bar', args=True)\n",
            "both bar and foo are defined as positional args",
        ),
        (
            [],
            "config.define_string_list('foo')\nconfig.define_string_list('foo')\n",
            "foo defined multiple times",
        ),
        (
            ["--bar", "x"],
            "config.define_string_list('foo')\nconfig.parse()\n",
            "invalid Tiltfile config args: unknown flag: --bar",
        ),
        (
            [],
            "config.define_string_list('foo')\ncfg = config.parse()\nprint(cfg['foo'])\n",
            'Key `"foo"` was not found',
        ),
        (
            ["do", "re", "mi"],
            "cfg = config.parse()\n",
            'positional CLI args ("do re mi") were specified, but none were expected',
        ),
        (
            [],
            "cfg = config.parse()\nconfig.define_string_list('foo')\n",
            "config.define_string_list cannot be called after config.parse is called",
        ),
    ],
    ids=[
        "TestMultiplePositionalDefs",
        "TestMultipleArgsSameName",
        "TestUndefinedArg",
        "TestUnprovidedArg",
        "TestProvidedButUnexpectedPositionalArgs",
        "TestDefineSettingAfterParse",
    ],
)
def test_config_errors(load_error, args, tiltfile, message) -> None:
    """config_test.go errors."""
    assert message in str(load_error(tiltfile, args=args))


@pytest.mark.parametrize(
    ("args", "config", "expected"),
    [
        (
            ["--a", "1", "--a", "2", "--b", "3", "--a", "4", "5", "6"],
            None,
            {"a": "1,2,4", "b": "3", "c": "5,6"},
        ),
        ([], '{"b": ["7", "8"], "c": ["9"]}', {"b": "7,8", "c": "9"}),
        (
            ["--a", "1", "--a", "2", "--a", "4", "5", "6"],
            '{"b": ["7", "8"], "c": ["9"]}',
            {"a": "1,2,4", "b": "7,8", "c": "5,6"},
        ),
    ],
    ids=["args only", "config only", "args trump config"],
)
def test_settings_from_config_and_args(load, args, config, expected) -> None:
    """TestSettingsFromConfigAndArgs: tilt_config.json next to the Tiltfile, args win."""
    model = load(
        "config.define_string_list('a')\nconfig.define_string_list('b')\n"
        "config.define_string_list('c', args=True)\ncfg = config.parse()\n"
        "for k in ['a', 'b', 'c']:\n    if k in cfg:\n        print(k + '=' + ','.join(cfg[k]))\n",
        {"tilt_config.json": config} if config else {},
        args=args,
    )
    got = dict(line.split("=", 1) for line in model.output.splitlines() if "=" in line)
    assert got == expected


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('{"bar": ["x"]}', "specified unknown setting name 'bar'"),
        ('{"foo": "x"}', "specified invalid value for setting foo: expected array"),
    ],
    ids=["TestUndefinedArgInConfigFile", "TestWrongTypeArgInConfigFile"],
)
def test_config_file_errors(load_error, config, message) -> None:
    """config_test.go: tilt_config.json is checked against the definitions."""
    err = load_error(
        "config.define_string_list('foo')\ncfg = config.parse()\n", {"tilt_config.json": config}
    )
    assert message in err.message


def test_config_parse_from_multiple_dirs(load_error, tmp_path: Path) -> None:
    """TestConfigParseFromMultipleDirs."""
    err = load_error(
        "config.define_string_list('foo')\ncfg = config.parse()\ninclude('inc/Tiltfile')\n",
        {"inc/Tiltfile": "cfg = config.parse()\n"},
    )
    assert (
        "config.parse can only be called from one Tiltfile working directory per run" in err.message
    )
    assert str(tmp_path) in err.message and str(tmp_path / "inc") in err.message


def test_config_types(load) -> None:
    """TestTypes: bool and object settings."""
    model = load(
        "config.define_bool('b')\nconfig.define_object('o')\ncfg = config.parse()\n"
        "print(cfg['b'] == True)\nprint(cfg['o']['k'])\n",
        args=["--b", "--o", '{"k": "v"}'],
    )
    assert model.output.splitlines()[-2:] == ["True", "v"]


# -- settings accepted --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        "disable_snapshots()",
        "ci_settings(timeout='10m')",
        "secret_settings(disable_scrub=True)",
        "update_settings(max_parallel_updates=3)",
        "enable_feature('x')",
        "v1alpha1.extension_repo(name='r', url='https://example.com/r')",
    ],
)
def test_settings_are_accepted(load, call: str) -> None:
    """ci_settings_test.go and friends: settings Tilt accepts load here too."""
    model = load(f"{call}\nlocal_resource('a', 'true')\n")
    assert model.resources[0].name == "a"


def test_workload_to_resource_function(load) -> None:
    """TestWorkloadToResourceFunction (tiltfile_test.go): the Tiltfile's function names each
    workload's resource from its id (name, kind, namespace)."""
    model = load(
        "def wtrf(id):\n    return 'hello-' + id.name + '-' + id.kind.lower()\n"
        "workload_to_resource_function(wtrf)\n"
        "k8s_yaml('foo.yaml')\nk8s_resource('hello-foo-deployment', port_forwards=8000)\n",
        {"foo.yaml": deploy("foo")},
    )
    assert [r.name for r in model.resources] == ["hello-foo-deployment"]
    assert model.resources[0].k8s.port_forwards[0].local_port == 8000


def test_workload_to_resource_function_error(load_error) -> None:
    """TestWorkloadToResourceFunctionError: an error in the function is the Tiltfile's error."""
    err = load_error(
        "def wtrf(id):\n    return id.nope\nworkload_to_resource_function(wtrf)\nk8s_yaml('foo.yaml')\n",
        {"foo.yaml": deploy("foo")},
    )
    assert "workload_to_resource_function" in err.message


def test_exit_stops_the_tiltfile_keeping_what_was_declared(load) -> None:
    """print.go exit(): stops execution without an error; earlier resources stay."""
    model = load("local_resource('a', 'true')\nexit('done here')\nlocal_resource('b', 'true')\n")
    assert [r.name for r in model.resources] == ["a"]
    assert "done here" in model.output.splitlines()


def test_exit_in_a_loaded_file_stops_everything(load) -> None:
    """exit() inside a loaded file stops the whole evaluation (ErrStopExecution)."""
    model = load(
        "local_resource('a', 'true')\nload('lib.star', 'x')\nlocal_resource('b', 'true')\n",
        {"lib.star": "x = 1\nexit()\n"},
    )
    assert [r.name for r in model.resources] == ["a"]


def test_while_loops_as_tilt_allows_them(load) -> None:
    """starkit/environment.go fileOptions While=True: while loops (with continue, break and
    a condition over several lines) run as in Tilt."""
    model = load(
        "i = 0\nnames = []\nwhile i < 5:\n    i += 1\n    if i == 2:\n        continue\n"
        "    if i == 4:\n        break\n    names.append('r%d' % i)\n"
        "def count(xs):\n    n = 0\n    while (n <\n           len(xs)):\n        n += 1\n    return n\n"
        "for name in names:\n    local_resource(name, 'true')\n"
        "local_resource('c%d' % count([1, 2]), 'true')\n"
    )
    assert [r.name for r in model.resources] == ["r1", "r3", "c2"]
    assert model.resources[-1].location.line == 18


def test_error_after_a_while_loop_is_on_the_users_line(load_error) -> None:
    """Rewriting while loops keeps error lines where the user wrote them."""
    err = load_error("i = 0\nwhile i < 2:\n    i += 1\nlocal_resource('a')\n")
    assert err.location is not None and err.location.line == 4
    err = load_error("i = 0\nwhile i < 2:\n    i += nope\n")
    assert err.location is not None and err.location.line == 3


def test_real_dotenv_extension_with_while(load, tmp_path) -> None:
    """Tilt's own dotenv extension uses a while loop: it loads unchanged from a file:// repo."""
    import subprocess
    from pathlib import Path

    mirror = Path("/work/.mirror/tilt-dev+tilt-extensions/repo")
    if not mirror.is_dir():
        pytest.skip("needs the tilt-extensions mirror to copy the real extension from")
    text = subprocess.run(
        ["git", "-C", str(mirror), "show", "HEAD:dotenv/Tiltfile"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (tmp_path / "repo" / "dotenv").mkdir(parents=True)
    (tmp_path / "repo" / "dotenv" / "Tiltfile").write_text(text)
    model = load(
        f"v1alpha1.extension_repo(name='default', url='file://{tmp_path}/repo')\n"
        "load('ext://dotenv', 'dotenv')\ndotenv()\nprint('PORT=' + os.getenv('PORT', ''))\n",
        {".env": "# comment\nPORT=8080\n"},
    )
    assert "PORT=8080" in model.output.splitlines()


def test_tabs_inside_a_multi_line_string_are_kept(load) -> None:
    """Only indentation tabs are rewritten; a string's own tabs are its data."""
    model = load("def f():\n\tprint('''a\n\tb''')\nf()\n")
    assert "a\n\tb" in model.output


def test_model_and_errors_cross_a_process_boundary(load, load_error) -> None:
    """The evaluation may run in a worker process: the model and a located error pickle."""
    import pickle

    model = load("local_resource('a', 'true', links=[link('x.dev', 'x')])\n")
    assert pickle.loads(pickle.dumps(model)) == model
    err = load_error("x = 1\nlocal_resource('a')\n")
    again = pickle.loads(pickle.dumps(err))
    assert (again.message, again.location, again.kind) == (err.message, err.location, err.kind)
