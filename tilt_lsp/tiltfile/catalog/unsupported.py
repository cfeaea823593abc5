"""Catalog: Tilt builtins tilt-lsp does not run yet. They are documented all the same, so a
Tiltfile written for Tilt reads well in the editor; hover and completion say they fail here."""

from __future__ import annotations

from tilt_lsp.tiltfile.catalog.model import Entry, fn

ENTRIES: tuple[Entry, ...] = (
    fn(
        "helm(paths: str, name: str = '', namespace: str = '', values: str | list[str] = [], "
        "set: str | list[str] = [], kube_version: str = '', skip_crds: bool = False) -> Blob",
        "Renders a local Helm chart into YAML for k8s_yaml.",
    ),
    fn(
        "kustomize(paths: str, kustomize_bin: str = None, flags: list[str] = []) -> Blob",
        "Renders a kustomization into YAML for k8s_yaml.",
    ),
    fn(
        "custom_build(ref: str, command: str | list[str], deps: list[str], tag: str = '', "
        "disable_push: bool = False, skips_local_docker: bool = False, "
        "live_update: list[LiveUpdateStep] = [], match_in_env_vars: bool = False, "
        "ignore: str | list[str] = [], entrypoint: str | list[str] = [], command_bat_val: str = '', "
        "outputs_image_ref_to: str = '', command_bat: str | list[str] = '', "
        "image_deps: list[str] = [], env: dict[str, str] = {}, dir: str = '', "
        "container_args: list[str] = None)",
        "Builds an image with your own command instead of Docker.",
    ),
    fn(
        "k8s_custom_deploy(name: str, apply_cmd: str | list[str], delete_cmd: str | list[str], "
        "deps: str | list[str], image_selector: str = '', live_update: list[LiveUpdateStep] = [], "
        "apply_dir: str = '', apply_env: dict[str, str] = {}, apply_cmd_bat: str | list[str] = '', "
        "delete_dir: str = '', delete_env: dict[str, str] = {}, "
        "delete_cmd_bat: str | list[str] = '', container_selector: str = '', "
        "image_deps: list[str] = [])",
        "Deploys to Kubernetes with your own apply and delete commands.",
    ),
    fn(
        "k8s_kind(kind: str, api_version: str = None, *, image_json_path: str | list[str] = [], "
        "image_object_json_path: dict = None, image_object: dict = None, pod_readiness: str = '')",
        "Teaches Tilt that a custom resource kind holds images or runs pods.",
    ),
    fn(
        "k8s_image_json_path(paths: str | list[str], api_version: str = '', kind: str = '', "
        "name: str = '', namespace: str = '')",
        "Where images sit in custom resources.",
    ),
    fn("k8s_context() -> str", "The current Kubernetes context's name."),
    fn("k8s_namespace() -> str", "The current Kubernetes context's namespace."),
    fn(
        "filter_yaml(yaml_arg: str | list[str] | Blob, labels: dict = None, name: str = None, "
        "namespace: str = None, kind: str = None, api_version: str = None)",
        "Splits YAML into the objects that match and the rest.",
    ),
    fn("include(path: str)", "Runs another Tiltfile, without importing anything from it."),
    fn("load_dynamic(path: str) -> dict", "Runs another file and returns its symbols as a dict."),
    fn("secret_settings(disable_scrub: bool = False)", "Whether Tilt hides secrets in logs."),
    fn(
        "ci_settings(k8s_grace_period: str = '', timeout: str = '30m', readiness_timeout: str = '5m')",
        "Settings for `tilt ci`.",
    ),
    fn("disable_snapshots()", "Turns off Tilt Cloud snapshots."),
    fn("enable_feature(feature_name: str)", "Turns on an experimental Tilt feature."),
    fn(
        "workload_to_resource_function(fn: Callable)",
        "A function naming the resource of each Kubernetes workload.",
    ),
    fn(
        "config.define_string(name: str, args: bool = False, usage: str = '')",
        "Declares a string setting passed on `tilt up -- --name value`.",
    ),
    fn(
        "config.define_string_list(name: str, args: bool = False, usage: str = '')",
        "Declares a repeatable string setting.",
    ),
    fn("config.define_bool(name: str, args: bool = False, usage: str = '')", "Declares a flag."),
    fn(
        "config.define_object(name: str, args: bool = False, usage: str = '')",
        "Declares a JSON setting.",
    ),
    fn("config.parse() -> dict", "Reads the settings declared with config.define_*."),
    fn(
        "config.set_enabled_resources(resources: list[str])",
        "Chooses which resources start.",
    ),
    fn("config.clear_enabled_resources()", "Starts no resource until one is enabled."),
    fn(
        "test(name: str, cmd: str | list[str], deps: str | list[str] = None, **kwargs)",
        "Tilt's experimental test resource: a local_resource for tests.",
    ),
    fn(
        "local_resource_test(name: str, cmd: str | list[str], deps: str | list[str] = None, **kwargs)",
        "An older name of test().",
    ),
    fn("experimental_analytics_report(**kwargs)", "Tilt's analytics report settings."),
    fn("experimental_metrics_settings(**kwargs)", "Tilt's metrics settings."),
    fn("experimental_telemetry_cmd(**kwargs)", "A command that receives Tilt's telemetry."),
)
