"""From changed paths to affected resources: what to ignore and what each resource watches."""
