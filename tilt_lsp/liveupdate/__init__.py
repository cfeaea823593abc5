"""Live update: the pure planner (sync, rebuild or nothing) and the container updaters."""
