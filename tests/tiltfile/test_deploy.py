"""docker_compose/dc_resource and k8s_yaml/k8s_resource: how deploy configs become resources."""

from __future__ import annotations

from pathlib import Path

from tilt_lsp.tiltfile.model import PortForward, ResourceKind, TriggerMode

COMPOSE = """
services:
  web:
    image: ${WEB_IMAGE:-shop-web}
    build: ./web
  db:
    image: postgres:16
  debug:
    image: busybox
    profiles: [debug]
"""

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      containers:
        - {name: api, image: 'shop-api:latest'}
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: job, image: shop-api}]
"""


def test_compose_services_become_resources(load, tmp_path: Path) -> None:
    model = load(
        """
        docker_compose('docker-compose.yml', env_file='dev.env', project_name='shop', profiles=['debug'])
        docker_build('shop-web', 'web')
        dc_resource('web', trigger_mode=TRIGGER_MODE_MANUAL, resource_deps=['database'], labels=['app'],
                    auto_init=False, links=['http://localhost:8000'])
        dc_resource('db', new_name='database')
        """,
        {"docker-compose.yml": COMPOSE, "web/Dockerfile": "FROM scratch\n", "dev.env": "OTHER=1\n"},
    )
    names = [r.name for r in model.resources]
    assert names == ["web", "database", "debug"]
    web = model.resource("web")
    assert web is not None and web.compose is not None
    assert web.kind is ResourceKind.DOCKER_COMPOSE
    assert web.image_refs == ("shop-web",)
    assert web.trigger_mode is TriggerMode.MANUAL
    assert web.resource_deps == ("database",)
    assert web.labels == ("app",)
    assert web.auto_init is False
    assert web.compose.project_name == "shop"
    assert web.compose.config["build"] == {"context": str(tmp_path / "web")}
    assert web.location is not None and web.location.line == 3  # the dc_resource call
    assert str(tmp_path / "docker-compose.yml") in model.config_files


def test_compose_interpolation_uses_env_and_profiles_filter(load) -> None:
    model = load(
        "docker_compose('docker-compose.yml')\n",
        {"docker-compose.yml": COMPOSE},
        env={"WEB_IMAGE": "custom/web"},
    )
    web = model.resource("web")
    assert web is not None and web.compose is not None
    assert web.compose.config["image"] == "custom/web"
    assert [r.name for r in model.resources] == ["web", "db"]  # 'debug' needs its profile


def test_k8s_workloads_objects_and_port_forwards(load) -> None:
    model = load(
        """
        docker_build('shop-api', '.', dockerfile_contents='FROM scratch')
        k8s_yaml('k8s.yaml')
        k8s_resource('api', new_name='backend', port_forwards=[8080, '9000:80', port_forward(5005, 5005, name='debug')],
                     objects=['api:service'], resource_deps=['nightly'], trigger_mode=TRIGGER_MODE_MANUAL,
                     labels=['be'], auto_init=True)
        k8s_resource(new_name='config', objects=['settings:configmap:default'])
        """,
        {"k8s.yaml": DEPLOYMENT},
    )
    assert [r.name for r in model.resources] == ["backend", "nightly", "config"]
    backend = model.resource("backend")
    assert backend is not None and backend.k8s is not None
    assert backend.image_refs == ("shop-api",)
    assert [o["kind"] for o in backend.k8s.objects] == ["Deployment", "Service"]
    assert backend.k8s.port_forwards == (
        PortForward(8080, 8080),
        PortForward(9000, 80),
        PortForward(5005, 5005, name="debug"),
    )
    assert backend.trigger_mode is TriggerMode.MANUAL
    nightly = model.resource("nightly")
    assert nightly is not None and nightly.image_refs == ("shop-api",)
    config = model.resource("config")
    assert config is not None and config.k8s is not None
    assert config.k8s.workload == "" and len(config.k8s.objects) == 1


def test_k8s_yaml_takes_blobs_and_leftovers_are_uncategorized(load) -> None:
    model = load(
        """
        k8s_yaml(read_file('k8s.yaml'))
        k8s_yaml(blob('apiVersion: v1\\nkind: Namespace\\nmetadata: {name: shop}\\n'))
        """,
        {"k8s.yaml": DEPLOYMENT},
    )
    names = [r.name for r in model.resources]
    assert names == ["api", "nightly", "uncategorized"]
    leftover = model.resource("uncategorized")
    assert leftover is not None and leftover.k8s is not None
    assert sorted(o["kind"] for o in leftover.k8s.objects) == ["ConfigMap", "Namespace", "Service"]
