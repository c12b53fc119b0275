"""Writing an index folder without ever losing an index, or anything that is not one.

- What may be written: a path that does not exist, an empty folder, or an index folder this tool wrote
  (layout.is_index_folder). Never `/`, the current folder or one above it, a file, a folder holding anything
  else, or a folder holding the corpus being read. Checked before any work, and again under the lock.
- One writer at a time: build, add and remove hold an exclusive lock (`.NAME.lock` beside the index,
  deleted on release) from reading the old index to renaming the new one into place.
- The replace: every file is written and flushed to disk in `.NAME.tmp-PID-XXXXXX`, which then trades places
  with NAME in one atomic exchange (renameat2 RENAME_EXCHANGE): a reader finds the old or the new index at every
  instant. The old one, now under the temporary name, is deleted. Where the filesystem cannot exchange, NAME
  moves to `.NAME.old-PID-XXXXXX` first and the new folder follows, which leaves an instant without NAME.
- Recovery: a process killed in that instant leaves no NAME but complete copies beside it. Whoever opens the
  index next, reader or writer, takes the lock and renames the newest complete copy back. Under the lock no
  other writer is alive, so every `.NAME.tmp-*`/`.NAME.old-*` found then is a dead process's, and is deleted.
"""
from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import re
import shutil
import threading
from pathlib import Path
from typing import Iterator

from ..errors import IndexLoadError, RecommenderError, UsageError
from . import integrity, layout

# Test hook (tests/test_crash.py): the process SIGKILLs itself at the named point, as a power cut or
# `kill -9` would stop it. "between-renames" also takes the two-rename path that filesystems without
# RENAME_EXCHANGE take, since the exchange has no such instant.
CRASH_ENV = "RECOMMENDER_TEST_CRASH_AT"
CRASH_POINTS = ("files-written", "manifest-written", "between-renames", "swapped", "cleanup")

_LEFTOVER = re.compile(r"\.(tmp|old)-\d+(-[0-9a-f]+)?")
_held = threading.local()  # real paths whose lock this thread holds (the lock is re-entrant per thread)


def crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def real_path(path: str | os.PathLike) -> Path:
    """The path with every symbolic link resolved: a link to an index is written through, never replaced."""
    return Path(os.path.realpath(os.path.expanduser(str(path))))


# -- what may be written ---------------------------------------------------------------------------

def check_target(final: str | os.PathLike) -> None:
    """Raise UsageError (exit 2) unless `final` may become an index: missing, empty, or an index this tool wrote."""
    target = real_path(final)
    advice = "give --index a new folder name (e.g. --index ./papers-index)"
    if target.parent == target:
        raise UsageError(f"{final}: the root folder cannot hold an index; nothing was changed; {advice}")
    with contextlib.suppress(OSError):
        here = real_path(os.getcwd())
        if here == target or target in here.parents:
            raise UsageError(f"{final}: is the current folder or one above it, which a build would replace; "
                             f"nothing was changed; {advice}")
    if not os.path.lexists(target):
        above = target.parent
        while not os.path.lexists(above) and above.parent != above:
            above = above.parent
        if not above.is_dir():
            raise UsageError(f"{final}: {above} is a file, not a folder; nothing was changed; {advice}")
        return
    if not target.is_dir():
        raise UsageError(f"{final}: is a file, not an index folder; nothing was changed; {advice}")
    foreign = layout.foreign_entries(target)
    if foreign or (os.listdir(target) and not layout.is_index_folder(target)):
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        holding = f"it holds {shown}" if foreign else "it has no manifest of this tool"
        raise UsageError(f"{final}: the folder exists and is not an index written by recommender ({holding}); "
                         f"nothing was changed; {advice}, or an empty folder")


def check_corpus_outside(final: str | os.PathLike, corpus: list) -> None:
    """A build replaces its target folder whole: refuse one that holds a corpus file being read."""
    target = real_path(final)
    for path in corpus:
        real = real_path(path)
        if real == target or target in real.parents:
            raise UsageError(f"{path}: this corpus file lies inside --index {final}, which the build would replace; "
                             "nothing was changed; give the index another folder")


def write_error(final: str | os.PathLike, exc: BaseException, where: Path | None = None) -> RecommenderError:
    """One line for an index that cannot be written: exit 3 (read-only, disk full), 2 for an unusable path."""
    code = _errno_of(exc, where)
    reason = os.strerror(code) if code else (getattr(exc, "strerror", None) or str(exc).splitlines()[0])
    if code in (errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP, errno.EISDIR, errno.EEXIST):
        return UsageError(f"{final}: cannot hold an index ({reason}); nothing was changed; give --index a folder path")
    if code in (errno.EROFS, errno.EACCES, errno.EPERM):
        hint = "the folder is read-only: give --index a folder you can write to"
    elif code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        hint = "free some space, or give --index a folder on another disk"
    else:
        hint = "check the folder, or give --index another one"
    return IndexLoadError(f"{final}: cannot write the index ({reason}); any previous index there is unchanged; {hint}")


def _errno_of(exc: BaseException, where: Path | None) -> int | None:
    """The errno of a failed write. numpy's short writes and FAISS's errors carry none (or only in their
    message), so a nearly empty disk under `where` stands for ENOSPC."""
    code = getattr(exc, "errno", None)
    if code:
        return code
    text = str(exc)
    for known in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT):
        if os.strerror(known) in text:
            return known
    if where is not None:
        with contextlib.suppress(OSError):
            if shutil.disk_usage(where).free < (1 << 20):
                return errno.ENOSPC
    return None


# -- the lock --------------------------------------------------------------------------------------

@contextlib.contextmanager
def index_lock(final: str | os.PathLike, *, must_exist: bool = False) -> Iterator[None]:
    """Exclusive lock for writing the index at `final` (re-entrant within a thread). On taking it, an
    interrupted replace is recovered and dead writers' leftovers are deleted. With `must_exist`, a missing
    index is an IndexLoadError raised before anything is created."""
    target = real_path(final)
    held = _held.__dict__.setdefault("paths", set())
    if target in held:
        yield
        return
    if must_exist and not target.is_dir() and not leftovers(target):
        raise IndexLoadError(f"{final}: no index here; build one with `recommender build CORPUS --index {final}`")
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: renames stay atomic, concurrent writers are not serialised
        yield
        return
    lock_path = target.parent / f".{target.name}.lock"
    try:
        if not must_exist:
            target.parent.mkdir(parents=True, exist_ok=True)
        fd = _acquire(lock_path, fcntl)
    except OSError as exc:
        raise write_error(final, exc, target.parent if target.parent.exists() else None) from exc
    held.add(target)
    try:
        try:
            restore_interrupted(target)
            remove_leftovers(target)
        except OSError as exc:
            raise write_error(final, exc, target.parent) from exc
        yield
    finally:
        held.discard(target)
        with contextlib.suppress(OSError):
            os.unlink(lock_path)  # while still holding it: a waiter then finds its file gone and locks a new one
        os.close(fd)


def _acquire(lock_path: Path, fcntl) -> int:
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held, current = os.fstat(fd), os.stat(lock_path)
        except FileNotFoundError:  # its holder deleted it as we got it: lock the next one
            os.close(fd)
            continue
        except BaseException:
            os.close(fd)
            raise
        if (held.st_dev, held.st_ino) == (current.st_dev, current.st_ino):
            return fd
        os.close(fd)


# -- recovery --------------------------------------------------------------------------------------

def leftovers(target: Path) -> list[Path]:
    """`.NAME.tmp-*` and `.NAME.old-*` folders beside the index (this tool's names, old and new style)."""
    stem = f".{target.name}"
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return []
    return sorted(entry for entry in entries if entry.name.startswith(stem + ".")
                  and _LEFTOVER.fullmatch(entry.name[len(stem):]) and entry.is_dir() and not entry.is_symlink())


def complete_copy(folder: Path) -> bool:
    """An index folder whose manifest was written (it is written last) and whose files pass the open-time check."""
    if not layout.is_index_folder(folder):
        return False
    try:
        manifest = json.loads((folder / layout.MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and not integrity.check(folder, manifest, full=False)


def restore_interrupted(target: Path) -> Path | None:
    """Under the lock: if NAME is missing, rename the newest complete leftover copy to NAME; returns it."""
    if os.path.lexists(target):
        return None
    complete = [folder for folder in leftovers(target) if complete_copy(folder)]
    if not complete:
        return None
    newest = max(complete, key=lambda folder: (folder / layout.MANIFEST).stat().st_mtime_ns)
    os.rename(newest, target)
    _fsync_dir(target.parent)
    return newest


def remove_leftovers(target: Path) -> None:
    """Under the lock: delete what dead writers left beside the index (only folders of index files)."""
    for folder in leftovers(target):
        if not layout.foreign_entries(folder):
            shutil.rmtree(folder, ignore_errors=True)


def restore_for_reader(final: str | os.PathLike) -> None:
    """A reader that finds no index but leftovers recovers it under the lock (waiting for a writer that is
    renaming). Where the folder is read-only, it says where the surviving copy is."""
    target = real_path(final)
    if os.path.lexists(target) or not leftovers(target):
        return
    try:
        with index_lock(final, must_exist=True):
            pass
    except IndexLoadError:
        complete = [folder for folder in leftovers(target) if complete_copy(folder)]
        if not complete or os.path.lexists(target):
            raise
        newest = max(complete, key=lambda folder: (folder / layout.MANIFEST).stat().st_mtime_ns)
        raise IndexLoadError(f"{final}: missing, but an interrupted update left a complete copy in {newest}, which "
                             f"cannot be renamed back here (read-only?); rename it to {target.name} yourself") from None


# -- the replace -----------------------------------------------------------------------------------

@contextlib.contextmanager
def atomic_dir(final: str | os.PathLike) -> Iterator[Path]:
    """Under the index lock, yield a fresh temporary folder beside `final`; when the block succeeds it is
    flushed to disk and takes the place of `final` atomically. On any failure `final` is left as it was and
    the temporary folder is deleted; an OSError (read-only folder, full disk) becomes one clear error."""
    target = real_path(final)
    with index_lock(final):
        check_target(final)  # again: the folder may have changed while the corpus was read and embedded
        tmp = target.parent / f".{target.name}.tmp-{os.getpid()}-{os.urandom(3).hex()}"
        try:
            tmp.mkdir()
        except OSError as exc:
            raise write_error(final, exc, target.parent) from exc
        try:
            yield tmp
            _fsync_tree(tmp)
            crash_point("manifest-written")
            retired = _swap(tmp, target)
        except BaseException as exc:
            error = write_error(final, exc, tmp) if isinstance(exc, (OSError, RuntimeError)) else None
            shutil.rmtree(tmp, ignore_errors=True)
            if error is not None:
                raise error from exc
            raise
        if retired is not None:
            crash_point("cleanup")
            shutil.rmtree(retired, ignore_errors=True)


def _swap(tmp: Path, target: Path) -> Path | None:
    """Put `tmp` at `target`; returns the folder that now holds what `target` held (to delete), if any."""
    if not os.path.lexists(target):
        os.rename(tmp, target)
        _fsync_dir(target.parent)
        return None
    if os.environ.get(CRASH_ENV) != "between-renames" and _exchange(tmp, target):
        _fsync_dir(target.parent)
        crash_point("swapped")
        return tmp
    old = target.parent / f".{target.name}.old-{os.getpid()}-{os.urandom(3).hex()}"
    os.rename(target, old)
    crash_point("between-renames")
    try:
        os.rename(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.rename(old, target)  # if even this fails, the next open restores `old` (it is complete)
        raise
    _fsync_dir(target.parent)
    crash_point("swapped")
    return old


@functools.lru_cache(maxsize=1)
def _renameat2():
    import ctypes

    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2  # glibc 2.28+
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step; False where the system or the filesystem cannot."""
    import ctypes

    function = _renameat2()
    if function is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if function(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _fsync_tree(folder: Path) -> None:
    """Flush every file, then the folders, so the renamed index is whole even after a power cut."""
    for root, _, files in os.walk(folder, topdown=False):
        for name in files:
            _fsync_path(Path(root, name), os.O_RDONLY)
        _fsync_dir(Path(root))


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # some filesystems cannot fsync a folder; the rename is still atomic
        _fsync_path(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


def _fsync_path(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
