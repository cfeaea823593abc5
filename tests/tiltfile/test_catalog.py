"""The catalog describes every builtin the loader registers and the README lists."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from tilt_lsp.tiltfile import api, catalog
from tilt_lsp.tiltfile.catalog import Support
from tilt_lsp.tiltfile.state import EvalState

README = Path(__file__).resolve().parents[2] / "README.md"


# The loader's parameter names that differ from Tilt's (Tilt: decode_json(json),
# decode_yaml(yaml), decode_yaml_stream(yaml)); the catalog documents Tilt's names. Reported to
# the Tiltfile owner; remove an entry when the loader takes Tilt's name.
_LOADER_ONLY = {
    "decode_json": {"json_str"},
    "decode_yaml": {"yaml_str"},
    "decode_yaml_stream": {"yaml_str"},
}


def _registered() -> set[str]:
    constants = api.constants(EvalState(main_path="/tmp/Tiltfile", env={}))
    return set(api.BUILTINS) | set(constants)


def _readme_names() -> set[str]:
    """Every function or value named in the first column of the Tiltfile support table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Tiltfile support", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for row in section.splitlines():
        if not row.startswith("| `"):
            continue
        first = row.split(" | ", 1)[0]
        # `os.path.*` (`join`, `exists`, …): the listed members, each in full
        first = re.sub(
            r"`([\w.]+)\.\*` \(([^)]*)\)",
            lambda m: " ".join(f"`{m.group(1)}.{n}`" for n in re.findall(r"`(\w+)`", m.group(2))),
            first,
        )
        for code in re.findall(r"`([^`]+)`", first):
            if "://" in code:
                continue  # load('ext://…') is a form of load
            name = re.match(r"[A-Za-z_][\w.]*\*?", code)
            assert name, code
            names.add(name.group(0))
    return names


def test_every_registered_builtin_has_an_entry() -> None:
    missing = sorted(n for n in _registered() if catalog.lookup(n) is None)
    assert not missing, f"add catalog entries for {missing}"


def test_every_readme_function_has_an_entry_with_docs() -> None:
    names = _readme_names()
    assert {"docker_build", "local_resource", "k8s_resource", "os.path.join"} <= names
    for name in sorted(names):
        if name.endswith("*"):
            found = [n for n in catalog.names() if n.startswith(name[:-1])]
            assert found, f"README lists {name} but the catalog has no {name[:-1]}… entry"
            continue
        entry = catalog.lookup(name)
        assert entry is not None, f"README lists {name} but the catalog has no entry"
        assert entry.doc.strip(), name


@pytest.mark.parametrize("name", sorted(n for n in api.BUILTINS if n not in api.unsupported.NAMES))
def test_entry_parameters_cover_the_implementation(name: str) -> None:
    """A parameter the loader accepts is a parameter completion offers."""
    entry = catalog.lookup(name)
    assert entry is not None and entry.params is not None
    params = list(inspect.signature(api.BUILTINS[name]).parameters.values())[1:]
    named = {p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    named -= _LOADER_ONLY.get(name, set())
    documented = {p.name for p in entry.params}
    assert named <= documented, f"{name}: catalog lacks {sorted(named - documented)}"


def test_support_follows_the_loader() -> None:
    assert catalog.support("docker_build") is Support.SUPPORTED
    assert catalog.support("local_resource_test") is Support.UNSUPPORTED
    assert catalog.support("update_settings") is Support.ACCEPTED
    assert catalog.support("TRIGGER_MODE_MANUAL") is Support.SUPPORTED


def test_signature_reads_like_tilts_docs() -> None:
    entry = catalog.lookup("sync")
    assert entry is not None
    assert entry.signature == "sync(local_path: str, remote_path: str) -> LiveUpdateStep"
    assert entry.param("remote_path") is not None
