"""``load('ext://NAME', ...)``: from a name to the extension's Tiltfile on disk, fetching its
repo when needed and falling back to tilt-lsp's bundled implementation when the default repo
cannot be reached. Every outcome is one line in the Tiltfile log."""

from __future__ import annotations

import os

from tilt_lsp.tiltfile.errors import TiltfileError
from tilt_lsp.tiltfile.extensions import bundled, fetch
from tilt_lsp.tiltfile.extensions.repos import DEFAULT_REPO, resolve
from tilt_lsp.tiltfile.state import EvalState


def extension_tiltfile(module: str, state: EvalState) -> str:
    cache = state.ext_cache_dir
    try:
        found = resolve(module, state.ext_repos, state.exts)
    except LookupError as err:
        raise TiltfileError(f"load('ext://{module}'): {err}", None, "reference") from None
    repo = found.repo
    ours = repo.name == DEFAULT_REPO and found.path in bundled.SOURCES
    if ours and found.path in bundled.ALWAYS_BUNDLED:
        path = _write_bundled(found.path, cache)
        state.note(
            f"ext://{module}: using tilt-lsp's own implementation ({path}); it restarts the "
            "process with tilt-lsp's restart wrapper instead of Tilt's restart-helper image"
        )
        return _loaded(state, module, path)
    try:
        fetched = fetch.ensure(repo, cache)
    except fetch.FetchError as err:
        if ours:
            path = _write_bundled(found.path, cache)
            state.note(f"ext://{module}: {err}; using tilt-lsp's bundled implementation ({path})")
            return _loaded(state, module, path)
        raise TiltfileError(
            f"load('ext://{module}'): {err}. Check the URL and your network; a repo fetched "
            f"once is reused offline from {cache}",
            None,
            "missing-file",
        ) from None
    folder = os.path.normpath(os.path.join(fetched.dir, repo.git_subpath, found.path))
    tiltfile = os.path.join(folder, "Tiltfile")
    if not os.path.isfile(tiltfile):
        raise TiltfileError(
            f"load('ext://{module}'): extension repo {repo.name!r} ({repo.url}) has no extension "
            f"{found.path or '(repo root)'!r}: no Tiltfile at {tiltfile}",
            None,
            "missing-file",
        )
    state.note(
        f"ext://{module}: {fetched.how} from extension repo {repo.name!r} ({repo.url}) at {folder}"
    )
    return _loaded(state, module, tiltfile)


def _loaded(state: EvalState, module: str, path: str) -> str:
    state.ext_loaded[module] = path
    return path


def _write_bundled(name: str, cache: str) -> str:
    """Bundled sources are written under the cache so that errors and the editor can point
    at a real file; rewritten only when tilt-lsp's version changed."""
    folder = os.path.join(cache, "bundled", name)
    path = os.path.join(folder, "Tiltfile")
    text = bundled.SOURCES[name].lstrip("\n")
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return path
    except OSError:
        pass
    try:
        os.makedirs(folder, exist_ok=True)
        tmp = f"{path}.{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as err:
        raise TiltfileError(
            f"cannot write tilt-lsp's bundled extension {name!r} to {folder}: {err.strerror}; "
            "set TILT_LSP_EXTENSIONS_DIR to a writable folder",
            None,
            "missing-file",
        ) from None
    return path
