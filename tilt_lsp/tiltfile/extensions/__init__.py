"""Tilt extensions: ``load('ext://name', ...)`` through extension repos, as Tilt does it.

``repos`` decides (pure) which repo and folder an ``ext://`` name means; ``fetch`` brings a
repo into the user-visible cache with git; ``bundled`` holds tilt-lsp's own implementations of
the most used extensions, used when the default repo cannot be reached; ``resolve`` ties them
together for the evaluator.
"""
