"""tilt-lsp's own implementations of the most used extensions of Tilt's public repo: same
names and parameters, our code (Starlark, evaluated like any extension).

They are used when the default repo cannot be reached (a laptop on a plane, a machine without
network), with a line in the Tiltfile log saying so. ``restart_process`` is always ours: Tilt's
version copies a restart helper out of a Docker Hub image into the user's image, while tilt-lsp
wraps the entrypoint with its own restart wrapper (``LiveUpdate.restart_process``).
"""

from __future__ import annotations

from tilt_lsp.tiltfile.extensions import bundled_k8s

ALWAYS_BUNDLED = frozenset({"restart_process"})

RESTART_PROCESS = """
def _with_restart(fn, live_update, trigger):
    if not live_update:
        fail(fn + ' requires at least one live_update step')
    for step in live_update:
        if type(step) == 'dict' and step.get('kind') == 'restart_container':
            fail(fn + ' replaces restart_container(): remove that step from live_update')
    return live_update + [tilt_lsp.restart_process(trigger=trigger or [])]

def docker_build_with_restart(ref, context, entrypoint, live_update,
                              base_suffix='-tilt_docker_build_with_restart_base',
                              restart_file='/tmp/.restart-proc', trigger=None,
                              exit_policy='restart', **kwargs):
    docker_build(ref, context, entrypoint=entrypoint,
                 live_update=_with_restart('docker_build_with_restart', live_update, trigger),
                 **kwargs)

def custom_build_with_restart(ref, command, deps, entrypoint, live_update,
                              base_suffix='-tilt_docker_build_with_restart_base',
                              restart_file='/tmp/.restart-proc', trigger=None,
                              exit_policy='restart', **kwargs):
    for key in ['skips_local_docker', 'disable_push', 'tag']:
        if key in kwargs:
            fail('custom_build_with_restart does not take ' + key)
    custom_build(ref, command, deps, entrypoint=entrypoint,
                 live_update=_with_restart('custom_build_with_restart', live_update, trigger),
                 **kwargs)
"""

NAMESPACE = """
def _pairs(items):
    out = {}
    for item in items:
        key, sep, value = item.partition(':')
        if not sep:
            key, sep, value = item.partition('=')
        out[key.strip()] = value.strip().strip('"')
    return out

def namespace_yaml(name, annotations=[], labels=[]):
    meta = {'name': name}
    if annotations:
        meta['annotations'] = _pairs(annotations)
    if labels:
        meta['labels'] = _pairs(labels)
    return encode_yaml({'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': meta})

def namespace_create(name, allow_duplicates=False, annotations=[], labels=[]):
    k8s_yaml(namespace_yaml(name, annotations, labels), allow_duplicates=allow_duplicates)

def _set_namespace(obj, ns):
    if type(obj) == 'dict':
        meta = obj.get('metadata')
        if type(meta) == 'dict':
            meta['namespace'] = ns
        spec = obj.get('spec')
        if type(spec) == 'dict':
            for key in ['template', 'jobTemplate']:
                _set_namespace(spec.get(key), ns)
    return obj

def namespace_inject(x, ns):
    return encode_yaml_stream([_set_namespace(o, ns) for o in read_yaml_stream(x)])
"""

UIBUTTON = """
LOCATION_RESOURCE = 'resource'
LOCATION_NAV = 'nav'
location = struct(RESOURCE=LOCATION_RESOURCE, NAV=LOCATION_NAV)

def cmd_button(name, resource='', argv=[], text=None, location=LOCATION_RESOURCE,
               icon_name=None, icon_svg=None, inputs=[], disabled=False,
               requires_confirmation=False, env=[], dir=config.main_dir):
    if not argv:
        fail('cmd_button ' + name + ': argv cannot be empty')
    if location == LOCATION_RESOURCE and not resource:
        fail('cmd_button ' + name + ': location=resource needs a resource name')
    if type(env) == 'dict':
        env = [k + '=' + v for k, v in env.items()]
    if location == LOCATION_NAV:
        where = {'component_type': 'Global', 'component_id': 'nav'}
    elif location == LOCATION_RESOURCE:
        where = {'component_type': 'Resource', 'component_id': resource}
    else:
        kind, sep, ident = location.partition('/')
        if not sep:
            fail('cmd_button ' + name + ': unsupported location ' + location)
        where = {'component_type': kind, 'component_id': ident}
    v1alpha1.ui_button(name=name, location=where, text=text or name,
                       icon_name=icon_name or '', icon_svg=str(icon_svg or ''), inputs=inputs,
                       disabled=disabled, requires_confirmation=requires_confirmation,
                       annotations={'tilt.dev/resource': resource or '(Tiltfile)'})
    v1alpha1.cmd(name='btn-' + name, args=argv, dir=dir, env=env,
                 annotations={'tilt.dev/resource': resource or '(Tiltfile)'},
                 start_on=v1alpha1.start_on_spec(ui_buttons=[name]))

def text_input(name, label='', default='', placeholder=''):
    return v1alpha1.ui_input_spec(name=name, label=label, text=v1alpha1.ui_text_input_spec(
        default_value=default, placeholder=placeholder))

def bool_input(name, label='', default=False, true_string=None, false_string=None):
    return v1alpha1.ui_input_spec(name=name, label=label, bool=v1alpha1.ui_bool_input_spec(
        default_value=default, true_string=true_string, false_string=false_string))

def choice_input(name, label='', choices=[]):
    return v1alpha1.ui_input_spec(name=name, label=label,
                                  choice=v1alpha1.ui_choice_input_spec(choices=choices))
"""

LOCAL_OUTPUT = """
def local_output(*args, **kwargs):
    return str(local(*args, **kwargs)).rstrip('\\n')
"""

DOTENV = """
def dotenv(fn='.env', verbose=False, showValues=False):
    if not os.path.exists(fn):
        warn('dotenv: environment file not found: ' + fn)
        return
    for raw in str(read_file(fn)).splitlines():
        line = raw.strip()
        if not line or line.startswith('#') or '=' not in line:
            continue
        key, _, value = line.partition('=')
        key = key.strip()
        if key.startswith('export '):
            key = key[len('export '):].strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in '"\\'':
            value = value[1:-1]
        os.putenv(key, value)
        if verbose:
            print('dotenv: ' + key + ('=' + value if showValues else ''))
"""

COLOR = """
_CODES = {'black': 30, 'red': 31, 'green': 32, 'yellow': 33, 'blue': 34, 'magenta': 35,
          'cyan': 36, 'white': 37}

def _paint(code):
    def paint(value):
        if 'NO_COLOR' in os.environ:
            return value
        return '\\x1b[0;%dm' % code + value + '\\x1b[0m'
    return paint

color = struct(**{name: _paint(code) for name, code in _CODES.items()})
"""

SOURCES: dict[str, str] = {
    "restart_process": RESTART_PROCESS,
    "namespace": NAMESPACE,
    "uibutton": UIBUTTON,
    "local_output": LOCAL_OUTPUT,
    "dotenv": DOTENV,
    "color": COLOR,
    **bundled_k8s.SOURCES,
}
