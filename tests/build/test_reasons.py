"""Build failures in plain words (pure)."""

from __future__ import annotations

from tilt_lsp.build.reasons import expand, from_args, unpullable_base

# The legacy builder's error for a missing base with no registry reachable (Docker 20.10.24).
NO_HOST = (
    'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on '
    "10.255.255.53:53: no such host"
)


def test_from_sees_arg_defaults_then_build_args() -> None:
    text = 'ARG BASE=python:3.12-slim\nARG TAG="1"\nFROM ${BASE}\n'
    assert from_args(text, {}) == {"BASE": "python:3.12-slim", "TAG": "1"}
    assert from_args(text, {"BASE": "local/base"})["BASE"] == "local/base"
    assert expand("${BASE}", {"BASE": "a/b:1"}) == "a/b:1"
    assert expand("$BASE-x", {"BASE": "a"}) == "a-x"
    assert expand("${MISSING:-fallback}", {}) == "fallback"


def test_an_unpullable_from_names_the_image_and_the_fix() -> None:
    reason = unpullable_base("FROM ${BASE} AS dev", NO_HOST, "ARG BASE=acme/base:2\n", {})
    assert reason is not None
    assert reason.startswith("the base image acme/base:2 is not available locally")
    assert "no such host" in reason and "docker pull acme/base:2" in reason
    assert unpullable_base("RUN make", NO_HOST, "", {}) is None
