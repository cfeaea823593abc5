"""Problems from build output and container logs, placed on workspace source lines.

``diagnose_lines`` (batch) and ``ProblemStream`` (incremental, for the engine) run the
per-tool parsers over cleaned lines and place what they find through a ``PathMapper``.
"""

from __future__ import annotations
