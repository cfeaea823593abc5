"""Bundled implementations (our code) of the Kubernetes-side extensions: helm_resource,
helm_remote, secret and git_resource. See ``bundled`` for when they are used."""

from __future__ import annotations

HELM_RESOURCE = """
def _set_image(i, key):
    img = '"$TILT_IMAGE_%d"' % i
    repo = '"${TILT_IMAGE_%d%%:*}"' % i
    tag = '"${TILT_IMAGE_%d##*:}"' % i
    if type(key) == 'string':
        return ['--set', shlex.quote(key) + '=' + img]
    if type(key) in ['tuple', 'list'] and len(key) == 2:
        return ['--set', shlex.quote(key[0]) + '=' + repo, '--set', shlex.quote(key[1]) + '=' + tag]
    if type(key) in ['tuple', 'list'] and len(key) == 3:
        registry = '"$(echo ${TILT_IMAGE_%d%%:*} | cut -d/ -f1)"' % i
        path = '"$(echo ${TILT_IMAGE_%d%%:*} | cut -d/ -f2-)"' % i
        return ['--set', shlex.quote(key[0]) + '=' + registry,
                '--set', shlex.quote(key[1]) + '=' + path,
                '--set', shlex.quote(key[2]) + '=' + tag]
    fail('helm_resource: image_keys entries are a key, or a (repository, tag) or '
         + '(registry, repository, tag) tuple; got %s' % key)

def helm_resource(name, chart, deps=[], release_name='', namespace=None, image_deps=None,
                  image_keys=None, flags=None, uninstall_flags=None, image_selector='',
                  container_selector='', live_update=None, resource_deps=None, labels=None,
                  port_forwards=[], auto_init=True, pod_readiness='',
                  update_dependencies=False, build_dependencies=False, links=[]):
    release = release_name or name
    image_deps = image_deps or []
    image_keys = image_keys or []
    if len(image_deps) != len(image_keys):
        fail('helm_resource: image_deps and image_keys must have the same length')
    ns = ['--namespace', shlex.quote(namespace)] if namespace else []
    install = ['helm', 'upgrade', '--install'] + ns + (['--create-namespace'] if namespace else [])
    for i in range(len(image_keys)):
        keys = image_keys[i] if type(image_keys[i]) == 'list' else [image_keys[i]]
        for key in keys:
            install += _set_image(i, key)
    install += [shlex.quote(f) for f in (flags or [])]
    install += [shlex.quote(release), shlex.quote(chart)]
    lines = ['set -e']
    if update_dependencies:
        lines.append('helm dependency update ' + shlex.quote(chart) + ' >&2')
    if build_dependencies:
        lines.append('helm dependency build --skip-refresh ' + shlex.quote(chart) + ' >&2')
    lines.append(' '.join(install) + ' >&2')
    lines.append(' '.join(['helm', 'get', 'manifest', shlex.quote(release)] + ns))
    delete = ['helm', 'uninstall', release] + (['--namespace', namespace] if namespace else [])
    k8s_custom_deploy(name, apply_cmd=['sh', '-c', '\\n'.join(lines)],
                      delete_cmd=delete + (uninstall_flags or []), deps=deps,
                      image_deps=image_deps, image_selector=image_selector,
                      container_selector=container_selector, live_update=live_update or [])
    k8s_resource(name, resource_deps=resource_deps or [], labels=labels or [],
                 port_forwards=port_forwards, auto_init=auto_init, pod_readiness=pod_readiness,
                 links=links)

def helm_repo(name, url, resource_name='', username='', password='', **kwargs):
    argv = ['helm', 'repo', 'add', name, url, '--force-update']
    if username:
        argv += ['--username', username]
    if password:
        argv += ['--password', password]
    local_resource(resource_name or name, argv, allow_parallel=True, **kwargs)
"""

HELM_REMOTE = """
def helm_remote_yaml(chart, repo_url='', repo_name='', release_name='', values=[], set=[],
                     namespace='', version='', username='', password=''):
    cache = os.getenv('HELM_REMOTE_CACHE_DIR', '') or os.path.join(tilt_lsp.cache_dir, 'helm_remote')
    short = chart.split('/')[-1]
    dest = os.path.join(cache, repo_name or 'direct', short, version or 'latest')
    if not os.path.exists(os.path.join(dest, short, 'Chart.yaml')):
        pull = ['helm', 'pull', chart, '--untar', '--untardir', dest]
        if repo_name and not repo_url and '/' not in chart:
            pull[2] = repo_name + '/' + chart
        if repo_url:
            pull += ['--repo', repo_url]
        if version:
            pull += ['--version', version]
        if username:
            pull += ['--username', username]
        if password:
            pull += ['--password', password]
        local(['mkdir', '-p', dest], quiet=True, echo_off=True)
        local(pull, quiet=True)
    return helm(os.path.join(dest, short), name=release_name or short, namespace=namespace,
                values=values, set=set)

def helm_remote(chart, repo_url='', repo_name='', release_name='', values=[], set=[],
                namespace='', version='', username='', password='', allow_duplicates=False,
                create_namespace=False, install_crds=True):
    if create_namespace and namespace and namespace != 'default':
        k8s_yaml(encode_yaml({'apiVersion': 'v1', 'kind': 'Namespace',
                              'metadata': {'name': namespace}}), allow_duplicates=True)
    k8s_yaml(helm_remote_yaml(chart, repo_url, repo_name, release_name, values, set, namespace,
                              version, username, password), allow_duplicates=allow_duplicates)
"""

SECRET = """
def _kubectl_secret(args, namespace):
    argv = ['kubectl', 'create', 'secret'] + args + ['--dry-run=client', '-o', 'yaml']
    if namespace:
        argv += ['--namespace', namespace]
    return local(argv, quiet=True, echo_off=True)

def secret_yaml_generic(name, namespace='', from_file=None, secret_type=None, from_env_file=None):
    args = ['generic', name]
    files = [from_file] if type(from_file) == 'string' else (from_file or [])
    args += ['--from-file=' + f for f in files]
    if secret_type:
        args.append('--type=' + secret_type)
    if from_env_file:
        args.append('--from-env-file=' + from_env_file)
    return _kubectl_secret(args, namespace)

def secret_create_generic(name, namespace='', from_file=None, secret_type=None, from_env_file=None):
    k8s_yaml(secret_yaml_generic(name, namespace, from_file, secret_type, from_env_file))

def secret_from_dict(name, namespace='', inputs={}):
    meta = {'name': name}
    if namespace:
        meta['namespace'] = namespace
    return encode_yaml({'apiVersion': 'v1', 'kind': 'Secret', 'metadata': meta,
                        'type': 'Opaque', 'stringData': inputs})

def secret_yaml_tls(name, cert, key, namespace=''):
    return _kubectl_secret(['tls', name, '--cert=' + cert, '--key=' + key], namespace)

def secret_create_tls(name, cert, key, namespace=''):
    k8s_yaml(secret_yaml_tls(name, cert, key, namespace))

def secret_yaml_registry(name, namespace='', flags_dict={}):
    flags = ['--%s=%s' % (k, v) for k, v in flags_dict.items()]
    return _kubectl_secret(['docker-registry', name] + flags, namespace)

def secret_create_registry(name, namespace='', flags_dict={}):
    k8s_yaml(secret_yaml_registry(name, namespace, flags_dict))

def secret_yaml_docker_registry(name, username, password, server='', namespace=''):
    flags = {'docker-username': username, 'docker-password': password}
    if server:
        flags['docker-server'] = server
    return secret_yaml_registry(name, namespace, flags)

def secret_create_docker_registry(name, username, password, server='', namespace=''):
    k8s_yaml(secret_yaml_docker_registry(name, username, password, server, namespace))
"""

GIT_RESOURCE = """
def git_checkout(repository_url, checkout_dir=None, unsafe_mode=False):
    url, _, ref = repository_url.partition('#')
    short = url.rstrip('/').split('/')[-1]
    if short.endswith('.git'):
        short = short[:-len('.git')]
    root = os.getenv('GIT_RESOURCE_CHECKOUT_DIR', '') or os.path.join(tilt_lsp.cache_dir, 'git_resource')
    dest = checkout_dir or os.path.join(root, short)
    if not os.path.exists(os.path.join(dest, '.git')):
        local(['git', 'clone', '--quiet', url, dest])
    if ref:
        local(['git', '-C', dest, 'checkout', '--quiet', ref])
    return dest

def _build(resource_name, directory, dockerfile):
    docker_build(resource_name + '-image', directory, dockerfile=os.path.join(directory, dockerfile))
    return resource_name + '-image'

def _deployment(resource_name, image_name, namespace):
    labels = {'app': resource_name}
    return encode_yaml({
        'apiVersion': 'apps/v1', 'kind': 'Deployment',
        'metadata': {'name': resource_name, 'namespace': namespace, 'labels': labels},
        'spec': {'selector': {'matchLabels': labels}, 'template': {
            'metadata': {'labels': labels},
            'spec': {'containers': [{'name': resource_name, 'image': image_name}]}}},
    })

def deploy_from_dir(resource_name, directory, dockerfile='Dockerfile', namespace='default',
                    resource_deps=[], port_forwards=[], build_callback=None,
                    deployment_callback=None):
    image = (build_callback or _build)(resource_name, directory, dockerfile)
    k8s_yaml((deployment_callback or _deployment)(resource_name, image, namespace))
    k8s_resource(resource_name, resource_deps=resource_deps, port_forwards=port_forwards)

def deploy_from_repository(name, repository_url, dockerfile='Dockerfile', namespace='default',
                           resource_deps=[], port_forwards=[], build_callback=None,
                           deployment_callback=None):
    deploy_from_dir(name, git_checkout(repository_url), dockerfile, namespace, resource_deps,
                    port_forwards, build_callback, deployment_callback)

def git_resource(resource_name, path_or_repo, dockerfile='Dockerfile', namespace='default',
                 resource_deps=[], port_forwards=[], build_callback=None,
                 deployment_callback=None):
    remote = path_or_repo.lower().startswith('http') or path_or_repo.startswith('git@')
    directory = git_checkout(path_or_repo) if remote else path_or_repo
    deploy_from_dir(resource_name, directory, dockerfile, namespace, resource_deps,
                    port_forwards, build_callback, deployment_callback)
"""

SOURCES: dict[str, str] = {
    "helm_resource": HELM_RESOURCE,
    "helm_remote": HELM_REMOTE,
    "secret": SECRET,
    "git_resource": GIT_RESOURCE,
}
