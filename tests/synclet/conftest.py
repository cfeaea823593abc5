"""Fixtures for the synclet: a real ``python -m synclet serve`` process.

One synclet process serves the whole session (starting it costs ~0.3 s); it gets a small
``--max-body`` so the 413 tests need not send hundreds of megabytes, and a short
``--restart-timeout``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator

import pytest

from tests.synclet.helpers import MAX_BODY, Synclet


@pytest.fixture(scope="session")
def synclet() -> Iterator[Synclet]:
    """A synclet subprocess, the way tilt-lsp runs one, for the whole session."""
    tmp = tempfile.mkdtemp(prefix="synclet-test-")
    token = "test-token-" + os.urandom(16).hex()
    token_file = os.path.join(tmp, "token")
    with open(token_file, "w") as fh:
        fh.write(token)
    os.chmod(token_file, 0o600)
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "synclet", "serve",
            "--listen", "127.0.0.1:0",
            "--token-file", token_file,
            "--max-body", str(MAX_BODY),
            "--restart-timeout", "2",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line.startswith("synclet listening on http://127.0.0.1:"), line
    try:
        yield Synclet(url=line.removeprefix("synclet listening on "), token=token)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
