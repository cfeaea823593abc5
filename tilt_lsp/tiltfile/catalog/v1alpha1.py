"""Catalog: the v1alpha1 namespace, objects of Tilt's own API server (Cmd, FileWatch,
KubernetesApply, UIButton…) and the small values they are made of. tilt-lsp runs none of
them (calling one is an error naming it); they are described so a Tilt Tiltfile reads well."""

from __future__ import annotations

from tilt_lsp.tiltfile.catalog.model import Entry, fn

_META = "name: str, labels: dict[str, str] = None, annotations: dict[str, str] = None"
_OBJECT = "Declares a {} object in Tilt's API server."
_PART = "A {} value for other v1alpha1 objects."

ENTRIES: tuple[Entry, ...] = (
    fn(
        f"v1alpha1.cmd({_META}, args: list[str] = None, dir: str = '', env: list[str] = None, "
        "readiness_probe: Probe = None, restart_on: RestartOnSpec = None, "
        "start_on: StartOnSpec = None, disable_source: DisableSource = None)",
        _OBJECT.format("Cmd (a process Tilt runs)"),
    ),
    fn(f"v1alpha1.config_map({_META}, data: dict[str, str] = None)", _OBJECT.format("ConfigMap")),
    fn(
        f"v1alpha1.extension({_META}, repo_name: str = '', repo_path: str = '', args: list[str] = None)",
        _OBJECT.format("Extension (a Tiltfile loaded from an extension repository)"),
    ),
    fn(
        f"v1alpha1.extension_repo({_META}, url: str = '', ref: str = '', load_host: str = '', "
        "git_subpath: str = '')",
        _OBJECT.format("ExtensionRepo (where extensions come from)"),
    ),
    fn(
        f"v1alpha1.file_watch({_META}, watched_paths: list[str] = None, ignores: list = None, "
        "disable_source: DisableSource = None)",
        _OBJECT.format("FileWatch"),
    ),
    fn(
        f"v1alpha1.kubernetes_apply({_META}, yaml: str = '', image_maps: list[str] = None, "
        "image_locators: list = None, timeout: str = '', "
        "kubernetes_discovery_template_spec: KubernetesDiscoveryTemplateSpec = None, "
        "port_forward_template_spec: PortForwardTemplateSpec = None, "
        "pod_log_stream_template_spec: PodLogStreamTemplateSpec = None, "
        "discovery_strategy: str = '', disable_source: DisableSource = None, "
        "cmd: KubernetesApplyCmd = None, restart_on: RestartOnSpec = None)",
        _OBJECT.format("KubernetesApply"),
    ),
    fn(
        f"v1alpha1.kubernetes_discovery({_META}, watches: list = None, extra_selectors: list = None, "
        "port_forward_template_spec: PortForwardTemplateSpec = None, "
        "pod_log_stream_template_spec: PodLogStreamTemplateSpec = None)",
        _OBJECT.format("KubernetesDiscovery"),
    ),
    fn(
        f"v1alpha1.ui_button({_META}, location: UIComponentLocation = None, text: str = '', "
        "icon_name: str = '', icon_svg: str = '', disabled: bool = False, "
        "requires_confirmation: bool = False, inputs: list = None)",
        _OBJECT.format("UIButton (a button in Tilt's web UI)"),
    ),
    fn(
        "v1alpha1.ui_resource(name: str, **fields)",
        _OBJECT.format("UIResource (a row of Tilt's web UI)"),
    ),
    fn("v1alpha1.ui_session(name: str, **fields)", _OBJECT.format("UISession")),
    fn(
        "v1alpha1.config_map_disable_source(name: str = '', key: str = '')",
        _PART.format("ConfigMapDisableSource"),
    ),
    fn(
        "v1alpha1.disable_source(config_map: ConfigMapDisableSource = None)",
        _PART.format("DisableSource"),
    ),
    fn("v1alpha1.exec_action(command: list[str] = None)", _PART.format("ExecAction (probe)")),
    fn(
        "v1alpha1.forward(local_port: int = 0, container_port: int = 0, host: str = '')",
        _PART.format("Forward (port forward)"),
    ),
    fn(
        "v1alpha1.http_get_action(path: str = '', port: int = 0, host: str = '', scheme: str = '', "
        "http_headers: list = None)",
        _PART.format("HTTPGetAction (probe)"),
    ),
    fn("v1alpha1.http_header(name: str = '', value: str = '')", _PART.format("HTTPHeader")),
    fn(
        "v1alpha1.handler(exec: ExecAction = None, http_get: HTTPGetAction = None, "
        "tcp_socket: TCPSocketAction = None)",
        _PART.format("Handler (probe)"),
    ),
    fn(
        "v1alpha1.ignore_def(base_path: str = '', patterns: list[str] = None)",
        _PART.format("IgnoreDef"),
    ),
    fn(
        "v1alpha1.kubernetes_apply_cmd(args: list[str] = None, dir: str = '', env: list[str] = None)",
        _PART.format("KubernetesApplyCmd"),
    ),
    fn(
        "v1alpha1.kubernetes_discovery_template_spec(extra_selectors: list = None)",
        _PART.format("KubernetesDiscoveryTemplateSpec"),
    ),
    fn(
        "v1alpha1.kubernetes_image_locator(object_selector: ObjectSelector = None, path: str = '', "
        "object: KubernetesImageObjectDescriptor = None)",
        _PART.format("KubernetesImageLocator"),
    ),
    fn(
        "v1alpha1.kubernetes_image_object_descriptor(repo_field: str = '', tag_field: str = '')",
        _PART.format("KubernetesImageObjectDescriptor"),
    ),
    fn(
        "v1alpha1.kubernetes_watch_ref(uid: str = '', namespace: str = '', name: str = '')",
        _PART.format("KubernetesWatchRef"),
    ),
    fn(
        "v1alpha1.label_selector(match_labels: dict[str, str] = None, match_expressions: list = None)",
        _PART.format("LabelSelector"),
    ),
    fn(
        "v1alpha1.label_selector_requirement(key: str = '', operator: str = '', values: list[str] = None)",
        _PART.format("LabelSelectorRequirement"),
    ),
    fn(
        "v1alpha1.object_selector(api_version_regexp: str = '', kind_regexp: str = '', "
        "name_regexp: str = '', namespace_regexp: str = '')",
        _PART.format("ObjectSelector"),
    ),
    fn(
        "v1alpha1.pod_log_stream_template_spec(only_containers: list[str] = None, "
        "ignore_containers: list[str] = None)",
        _PART.format("PodLogStreamTemplateSpec"),
    ),
    fn(
        "v1alpha1.port_forward_template_spec(forwards: list = None)",
        _PART.format("PortForwardTemplateSpec"),
    ),
    fn(
        "v1alpha1.probe(handler: Handler = None, initial_delay_seconds: int = 0, "
        "timeout_seconds: int = 0, period_seconds: int = 0, success_threshold: int = 0, "
        "failure_threshold: int = 0)",
        _PART.format("Probe"),
    ),
    fn(
        "v1alpha1.restart_on_spec(file_watches: list[str] = None, ui_buttons: list[str] = None)",
        _PART.format("RestartOnSpec"),
    ),
    fn("v1alpha1.start_on_spec(ui_buttons: list[str] = None)", _PART.format("StartOnSpec")),
    fn(
        "v1alpha1.tcp_socket_action(port: int = 0, host: str = '')",
        _PART.format("TCPSocketAction (probe)"),
    ),
    fn(
        "v1alpha1.ui_bool_input_spec(default_value: bool = False, true_string: str = None, "
        "false_string: str = None)",
        _PART.format("UIBoolInputSpec"),
    ),
    fn("v1alpha1.ui_choice_input_spec(**fields)", _PART.format("UIChoiceInputSpec")),
    fn(
        "v1alpha1.ui_component_location(component_id: str = '', component_type: str = '')",
        _PART.format("UIComponentLocation"),
    ),
    fn("v1alpha1.ui_hidden_input_spec(value: str = '')", _PART.format("UIHiddenInputSpec")),
    fn(
        "v1alpha1.ui_input_spec(name: str = '', label: str = '', text: UITextInputSpec = None, "
        "bool: UIBoolInputSpec = None, hidden: UIHiddenInputSpec = None)",
        _PART.format("UIInputSpec"),
    ),
    fn(
        "v1alpha1.ui_text_input_spec(default_value: str = '', placeholder: str = '')",
        _PART.format("UITextInputSpec"),
    ),
)
