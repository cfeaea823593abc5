"""Who may update what: the bearer token, the container id's syntax, the managed mark.

Pure checks, made before the synclet asks Docker to change anything (see the threat model in
docs/synclet.md): a request must carry the token, name a container in Docker's own id or name
syntax (nothing that could change which Docker API path it lands in), and that container must
carry tilt-lsp's managed mark.
"""

from __future__ import annotations

import hmac
import re
from typing import Any

from synclet.protocol import MANAGED_LABEL, MANAGED_VALUE

# A Docker container id (or a prefix of one) or name: no "/", "%" or leading "." or "-".
CONTAINER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,254}")


def authorised(header: str | None, token: str) -> bool:
    """Constant-time check of an ``Authorization: Bearer <token>`` header."""
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    # A header with bytes that are not UTF-8 arrives with surrogate escapes: compare its bytes.
    given_bytes = given.strip().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(given_bytes, token.encode("utf-8"))


def bad_container_id(container_id: str) -> str | None:
    """Why ``container_id`` is not a Docker container id or name, or None if it is one."""
    if CONTAINER_ID.fullmatch(container_id):
        return None
    return (
        f"container {container_id[:100]!r} is neither a Docker container id nor a container "
        "name (letters, digits, '_', '.', '-')"
    )


def is_managed(info: dict[str, Any]) -> bool:
    """Whether the container's inspect data carries tilt-lsp's managed mark (exactly "true")."""
    labels = (info.get("Config") or {}).get("Labels") or {}
    return labels.get(MANAGED_LABEL) == MANAGED_VALUE


def not_managed(container_id: str) -> str:
    return (
        f"container {container_id} is not managed by tilt-lsp: its labels lack "
        f"{MANAGED_LABEL}={MANAGED_VALUE}; the synclet only updates containers tilt-lsp built "
        "or deployed (rebuild it with tilt-lsp)"
    )
