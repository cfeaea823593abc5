"""Image builds: the build context (incremental, content-addressed) and the Docker builder."""
