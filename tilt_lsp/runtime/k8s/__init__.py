"""The Kubernetes runtime: deploy with server-side apply, follow pods and their logs, live
update by exec, port forwards. ``controller.K8sController`` is what the engine drives."""
