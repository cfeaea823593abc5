"""Runtimes: where resources run. Local processes here; Docker and Kubernetes beside it."""
