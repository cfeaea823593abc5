"""Catalog: Starlark basics, files and data, settings, and the os/shlex/sys/config namespaces."""

from __future__ import annotations

from tilt_lsp.tiltfile.catalog.model import Entry, fn, value

_PATH = "Relative paths resolve against the folder of the Tiltfile being run."

ENTRIES: tuple[Entry, ...] = (
    fn(
        "load(path: str, *symbols: str)",
        "Runs another Starlark file and imports the named symbols from it. "
        "`load('./tools/helpers.star', 'make_api')`; a symbol can be renamed with "
        "`alias='name'`. " + _PATH,
        path="the file to run: a path relative to this Tiltfile (`ext://` extensions are not supported by tilt-lsp)",
        symbols="names the file defines, to use here",
    ),
    fn(
        "print(*args, sep: str = ' ')",
        "Writes to the Tiltfile log (shown under the Tiltfile resource).",
    ),
    fn("warn(msg: str)", "Adds a warning to the Tiltfile log, shown as a problem in the editor."),
    fn(
        "fail(msg: str)",
        "Stops running the Tiltfile with this error; nothing is deployed until it is fixed.",
    ),
    fn(
        "struct(**kwargs) -> struct",
        "Makes a value with named fields: `s = struct(port=8000)` then `s.port`.",
    ),
    fn(
        "exit(code: Any)",
        "Stops running the Tiltfile early, without an error when `code` is 0 or None.",
    ),
    fn(
        "read_file(file_path: str, default: str = None) -> Blob",
        "Reads a file's contents. The file becomes a Tiltfile dependency: changing it runs the "
        "Tiltfile again. " + _PATH,
        file_path="the file to read",
        default="returned when the file does not exist (without it, a missing file is an error)",
    ),
    fn(
        "read_json(path: str, default: Any = None) -> Any",
        "Reads and decodes a JSON file; the file becomes a Tiltfile dependency.",
        path="the JSON file",
        default="returned when the file does not exist",
    ),
    fn(
        "read_yaml(path: str, default: Any = None) -> Any",
        "Reads and decodes a YAML file (one document); the file becomes a Tiltfile dependency.",
        path="the YAML file",
        default="returned when the file does not exist",
    ),
    fn(
        "read_yaml_stream(paths: str, default: list = None) -> list",
        "Reads every document of a multi-document YAML file as a list.",
        paths="the YAML file",
        default="returned when the file does not exist",
    ),
    fn(
        "watch_file(file_path: str)",
        "Runs the Tiltfile again when this file or folder changes.",
        file_path="the file or folder to watch",
    ),
    fn(
        "listdir(directory: str, recursive: bool = False) -> list[str]",
        "The absolute paths of the files in a folder; the folder becomes a Tiltfile dependency.",
        directory="the folder to list",
        recursive="also list files in sub-folders",
    ),
    fn(
        "local(command: str | list[str], quiet: bool = False, command_bat: str | list[str] = '', "
        "echo_off: bool = False, env: dict[str, str] = {}, dir: str = '', stdin: str = None) -> Blob",
        "Runs a command on this machine while the Tiltfile is read and returns its output. "
        "It runs on every Tiltfile run: keep it fast. A failing command stops the Tiltfile.",
        command="a shell string (run with `sh -c`) or an argv list",
        quiet="do not copy the output to the Tiltfile log",
        command_bat="the command on Windows",
        echo_off="do not log the command itself",
        env="extra environment variables",
        dir="working directory (default: the Tiltfile's folder)",
        stdin="text written to the command's standard input",
    ),
    fn("blob(contents: str) -> Blob", "Wraps text so functions that take file contents accept it."),
    fn("decode_json(json: str) -> Any", "Parses JSON text into dicts, lists and values."),
    fn("decode_yaml(yaml: str) -> Any", "Parses one YAML document."),
    fn("decode_yaml_stream(yaml: str) -> list", "Parses every document of a YAML stream."),
    fn("encode_json(obj: Any) -> Blob", "Turns a value into JSON text."),
    fn("encode_yaml(obj: Any) -> Blob", "Turns a value into a YAML document."),
    fn("encode_yaml_stream(objs: list) -> Blob", "Turns a list of values into a YAML stream."),
    fn(
        "trigger_mode(trigger_mode: TriggerMode)",
        "Sets the default trigger mode of every resource: `TRIGGER_MODE_AUTO` (update on each "
        "change) or `TRIGGER_MODE_MANUAL` (changes wait until you trigger the resource).",
        trigger_mode="TRIGGER_MODE_AUTO or TRIGGER_MODE_MANUAL",
    ),
    value(
        "TRIGGER_MODE_AUTO",
        "TriggerMode",
        "A resource updates as soon as one of its files changes (the default).",
    ),
    value(
        "TRIGGER_MODE_MANUAL",
        "TriggerMode",
        "A resource's changes wait until you trigger it (▶ in the editor, `tilt.trigger`).",
    ),
    fn(
        "default_registry(host: str, host_from_cluster: str = None, single_name: str = '')",
        "Where images are pushed for clusters that cannot see images built on this machine.",
        host="registry host as seen from this machine, e.g. `localhost:5000`",
        host_from_cluster="registry host as seen from inside the cluster, when it differs",
        single_name="push every image to this one repository, with the image name in the tag",
    ),
    fn(
        "allow_k8s_contexts(contexts: str | list[str])",
        "Kubernetes contexts that may be deployed to besides local clusters (kind, minikube, "
        "Docker Desktop…). Protects you from deploying a dev loop to production.",
        contexts="context name or names from your kubeconfig",
    ),
    fn(
        "watch_settings(ignore: str | list[str])",
        "Files no resource should react to, in .dockerignore syntax.",
        ignore="patterns to ignore",
    ),
    fn(
        "update_settings(max_parallel_updates: int = 3, k8s_upsert_timeout_secs: int = 30, "
        "suppress_unused_image_warnings: str | list[str] = None, k8s_server_side_apply: str = 'auto')",
        "Tilt's update tuning.",
    ),
    fn(
        "version_settings(check_updates: bool = True, constraint: str = '')",
        "Tilt version checks.",
    ),
    fn("analytics_settings(enable: bool)", "Tilt's usage analytics."),
    fn("set_team(team_id: str)", "Tilt Cloud team."),
    fn(
        "docker_prune_settings(disable: bool = False, max_age_mins: int = 360, num_builds: int = 0, "
        "interval_hrs: int = 1, keep_recent: int = 2)",
        "How Tilt removes old images it built.",
    ),
    fn("os.getcwd() -> str", "The folder tilt-lsp runs in."),
    fn(
        "os.getenv(key: str, default: str = None) -> str",
        "An environment variable's value, or `default` when it is not set.",
        key="the variable's name",
        default="returned when the variable is not set",
    ),
    fn("os.putenv(key: str, value: str)", "Sets an environment variable for commands run later."),
    fn("os.unsetenv(key: str)", "Removes an environment variable for commands run later."),
    value("os.environ", "dict[str, str]", "The environment variables, as a dict."),
    value("os.name", "str", "The operating system family (`posix` or `nt`)."),
    fn(
        "os.path.join(path: str, *paths: str) -> str",
        "Joins path parts with the separator; an absolute part restarts the path.",
    ),
    fn("os.path.exists(path: str) -> bool", "Whether a file or folder exists. " + _PATH),
    fn("os.path.abspath(path: str) -> str", "The absolute form of a path. " + _PATH),
    fn("os.path.realpath(path: str) -> str", "The absolute path with symlinks resolved."),
    fn("os.path.basename(path: str) -> str", "The last part of a path: the file's name."),
    fn("os.path.dirname(path: str) -> str", "Everything but the last part of a path."),
    fn(
        "os.path.relpath(targpath: str, basepath: str = '') -> str",
        "`targpath` relative to `basepath` (default: the Tiltfile's folder).",
    ),
    fn("shlex.quote(s: str) -> str", "Quotes a string for safe use in a shell command."),
    value("config.main_dir", "str", "The folder holding the main Tiltfile."),
    value("config.main_path", "str", "The path of the main Tiltfile."),
    value("config.tilt_subcommand", "str", "The command running the Tiltfile (`up` here)."),
    value("sys.argv", "list[str]", "The command line that runs the Tiltfile."),
    value("sys.executable", "str", "The program running the Tiltfile."),
    value(
        "tilt_lsp.cache_dir",
        "str",
        "tilt-lsp's own: the folder where it keeps the Tilt extensions it fetched.",
    ),
)
