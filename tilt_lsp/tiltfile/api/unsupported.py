"""Tilt builtins tilt-lsp does not support yet. Calling one is an error at the call site that
names it, never a silent no-op: a Tiltfile that half-works would mislead."""

from __future__ import annotations

from typing import Any

from tilt_lsp.tiltfile.errors import TiltfileError
from tilt_lsp.tiltfile.starlark_env import CallContext, Impl

# Every Tilt builtin real Tiltfiles commonly call is implemented; these remain.
NAMES = (
    "local_resource_test",
    "test",
    "experimental_analytics_report",
)


def _unsupported(name: str) -> Impl:
    def impl(ctx: CallContext, *args: Any, **kwargs: Any) -> None:
        raise TiltfileError(
            f"{name}() is a Tilt builtin that tilt-lsp does not support yet "
            "(see the Tiltfile support table in the README)",
            kind="unsupported",
        )

    return impl


BUILTINS: dict[str, Impl] = {n: _unsupported(n) for n in NAMES}
