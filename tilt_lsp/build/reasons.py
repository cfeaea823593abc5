"""Why a build failed, in plain words (pure): the engine's error as the user should read it.

A ``FROM`` whose image is neither local nor pullable names the image (with the build args
substituted, as the builder printed the step unsubstituted) and says what to do; the caller
puts it on the FROM line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_VAR = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)")


def plain_build_error(error: str) -> str:
    first = error.strip().splitlines()[0] if error.strip() else "build failed"
    if "pull access denied" in first or "not found: manifest unknown" in first:
        return f"{first} (the base image is not available locally and could not be pulled)"
    return first


def unpullable_base(
    step: str, error: str, dockerfile: str, build_args: Mapping[str, str]
) -> str | None:
    """The plain reason when the failing ``step`` (as the builder printed it) is a FROM: its
    image could not be pulled. None for any other step."""
    if not step.upper().startswith("FROM "):
        return None
    words = step.split()
    image = expand(words[1] if len(words) > 1 else "", from_args(dockerfile, build_args))
    first = error.strip().splitlines()[0] if error.strip() else "no details"
    return (
        f"the base image {image} is not available locally and cannot be pulled ({first}); "
        f"pull or build it first (docker pull {image}), or point FROM at an image you have"
    )


def from_args(dockerfile: str, build_args: Mapping[str, str]) -> dict[str, str]:
    """Build args as a FROM sees them: the Dockerfile's ARG defaults, then ``build_args``."""
    values: dict[str, str] = {}
    for raw in dockerfile.splitlines():
        parts = raw.strip().split(None, 1)
        if len(parts) == 2 and parts[0].upper() == "ARG":
            name, _, default = parts[1].partition("=")
            values[name.strip()] = default.strip().strip('"')
    values.update(build_args)
    return values


def expand(word: str, values: Mapping[str, str]) -> str:
    """``${NAME}``, ``${NAME:-default}`` and ``$NAME`` as the Dockerfile substitutes them."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(3)
        value = values.get(name, "")
        return value or (m.group(2) or "")

    return _VAR.sub(sub, word)
