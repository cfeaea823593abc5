"""Bringing an extension repo onto this machine: ``git clone`` into a cache folder the user
can see (``tilt-lsp`` prints it), reused as is afterwards — offline included.

The cache is ``$TILT_LSP_EXTENSIONS_DIR``, else ``$XDG_CACHE_HOME/tilt-lsp/extensions``, else
``~/.cache/tilt-lsp/extensions``; one folder per (repo name, url, ref). Delete a folder to get
a fresh copy. A ``file://`` repo is read in place, as Tilt does. A failed clone is remembered
for a few minutes so that evaluating the Tiltfile on every save does not retry the network
each time.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass

from tilt_lsp.tiltfile.extensions.repos import ExtensionRepo, sanitize

# Below the evaluation's own time limit (the worker's 30 s): a slow network fails the fetch
# with a clear message (and the bundled fallback) rather than the whole evaluation.
GIT_TIMEOUT_S = 20
RETRY_AFTER_S = 300


class FetchError(Exception):
    """The repo could not be brought here. The message names the repo, URL and cache."""


@dataclass(frozen=True, slots=True)
class Fetched:
    dir: str  # the repo's root on disk
    how: str  # "in place" | "cloned" | "cached"


def cache_dir(env: Mapping[str, str]) -> str:
    def get(key: str) -> str:
        return env.get(key) or os.environ.get(key, "")

    if explicit := get("TILT_LSP_EXTENSIONS_DIR"):
        return os.path.abspath(os.path.expanduser(explicit))
    base = get("XDG_CACHE_HOME") or os.path.join(get("HOME") or os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tilt-lsp", "extensions")


def repo_dir(repo: ExtensionRepo, cache: str) -> str:
    key = hashlib.sha256(f"{repo.url}\0{repo.ref}".encode()).hexdigest()[:10]
    return os.path.join(cache, f"{sanitize(repo.name)}-{key}")


def ensure(repo: ExtensionRepo, cache: str) -> Fetched:
    if repo.is_file:
        path = repo.url[len("file://") :]
        if not os.path.isdir(path):
            raise FetchError(
                f"extension repo {repo.name!r} ({repo.url}): {path} is not a directory"
            )
        return Fetched(path, "in place")
    dest = repo_dir(repo, cache)
    if os.path.isdir(os.path.join(dest, ".git")):
        return Fetched(dest, "cached")
    failed = dest + ".failed"
    try:
        if time.time() - os.path.getmtime(failed) < RETRY_AFTER_S:
            with open(failed, encoding="utf-8") as f:
                raise FetchError(
                    f.read().strip() + f" (retried after {RETRY_AFTER_S // 60} minutes)"
                )
    except OSError:
        pass
    try:
        _clone(repo, dest)
    except FetchError as err:
        os.makedirs(cache, exist_ok=True)
        with open(failed, "w", encoding="utf-8") as f:
            f.write(str(err))
        raise
    if os.path.exists(failed):
        os.remove(failed)
    return Fetched(dest, "cloned")


def _clone(repo: ExtensionRepo, dest: str) -> None:
    tmp = f"{dest}.tmp-{os.getpid()}"
    for stale in glob.glob(f"{glob.escape(dest)}.tmp-*"):  # a clone killed half-way
        with contextlib.suppress(OSError):
            if time.time() - os.path.getmtime(stale) > RETRY_AFTER_S:
                shutil.rmtree(stale, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)
    # Tilt keeps extensions under a `tilt_modules` folder, and some extensions (git_resource)
    # look for it above themselves to find where to put their own files.
    os.makedirs(os.path.join(os.path.dirname(dest), "tilt_modules"), exist_ok=True)
    try:
        shallow = [] if repo.ref else ["--depth", "1"]  # a ref may need the history
        _git(repo, dest, "clone", "--quiet", "--no-tags", *shallow, repo.url, tmp)
        if repo.ref:
            try:
                _git(repo, dest, "-C", tmp, "checkout", "--quiet", repo.ref)
            except FetchError:
                _git(repo, dest, "-C", tmp, "fetch", "--quiet", "origin", repo.ref)
                _git(repo, dest, "-C", tmp, "checkout", "--quiet", "FETCH_HEAD")
        if os.path.exists(dest):  # a broken copy of ours (no .git): replace it
            shutil.rmtree(dest, ignore_errors=True)
        try:
            os.replace(tmp, dest)
        except OSError as err:
            raise FetchError(
                f"cannot store extension repo {repo.name!r} in {dest}: {err.strerror}"
            ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _git(repo: ExtensionRepo, dest: str, *args: str) -> None:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    what = f"extension repo {repo.name!r} ({repo.url}{'@' + repo.ref if repo.ref else ''})"
    try:
        proc = subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=GIT_TIMEOUT_S, env=env
        )
    except FileNotFoundError:
        raise FetchError(f"cannot fetch {what}: git is not installed") from None
    except subprocess.TimeoutExpired:
        raise FetchError(
            f"cannot fetch {what} into {dest}: git {args[0]} took over {GIT_TIMEOUT_S}s"
        ) from None
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise FetchError(
            f"cannot fetch {what} into {dest}: git {args[0] if args[0] != '-C' else args[2]} "
            f"failed: {detail[-1] if detail else f'exit code {proc.returncode}'}"
        )
