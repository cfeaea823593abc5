"""synclet: applies one live update to a container, next to the container runtime."""
