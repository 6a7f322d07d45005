"""Every file numrnn writes is written here: into a temporary file beside the target, flushed to disk, then renamed
over the target in one step. A crash, a full disk or a kill mid-write leaves the old file (or none), never half a
file; the new file gets the permissions any new file gets (0666 less the umask).

    with atomic_write(path, "w") as stream:     # text; "wb" for bytes
        stream.write(...)

A temporary is named `.numrnn-<pid>-<random>.tmp`, so that one left behind by a process killed mid-write (kill -9
cannot be caught) is recognised as stale once that process is gone: clean_stale_temporaries(folder) removes those.
A failure to write names the file (OSError.filename is the target, not the temporary).
"""
import contextlib
import os
import re
import tempfile
import time

#: the prefix of numrnn's temporary files, so that stale ones can be recognised
TEMPORARY_PREFIX = ".numrnn-"
_TEMPORARY = re.compile(re.escape(TEMPORARY_PREFIX) + r"(?:(\d+)-)?.*\.tmp\Z")
#: a temporary without a pid (written by an older numrnn) is stale once it is this old, in seconds
LEGACY_STALE_SECONDS = 3600.0


@contextlib.contextmanager
def atomic_write(path, mode="wb", encoding="utf-8"):
    """A stream to write `path` through; the file appears complete when the block ends, or not at all."""
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        handle, temporary = temporary_file(folder)
    except OSError as error:
        raise _naming(error, path) from None
    try:
        kwargs = {"encoding": encoding, "newline": ""} if mode == "w" else {}
        with os.fdopen(handle, mode, **kwargs) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp creates the file private (0600); give it the permissions any new file would get
        os.chmod(temporary, 0o666 & ~umask())
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise _naming(error, path) from None
        raise


def temporary_file(folder):
    """(handle, path) of a new private temporary file in `folder`, named as stale-temporary cleaning expects."""
    return tempfile.mkstemp(prefix=f"{TEMPORARY_PREFIX}{os.getpid()}-", suffix=".tmp", dir=folder)


def _naming(error, path):
    """The same kind of OSError, naming `path` (a write that fails on a full disk names no file by itself)."""
    if error.filename == path or error.errno is None:
        return error
    return type(error)(error.errno, error.strerror or str(error), path)


def umask():
    """The process's umask, read without changing it where the system allows (os.umask can only be read by setting
    it, which would race with other threads creating files)."""
    try:
        with open("/proc/self/status", encoding="ascii") as stream:
            for line in stream:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def clean_stale_temporaries(folder):
    """Remove numrnn's temporaries in `folder` whose writing process is gone (a kill mid-write); returns their
    paths. A temporary of a live process is kept (it is being written), one without a pid if it is recent."""
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = _TEMPORARY.match(name)
        if not match:
            continue
        path = os.path.join(folder, name)
        pid = match.group(1)
        if pid is not None and (int(pid) == os.getpid() or _alive(int(pid))):
            continue
        if pid is None:
            with contextlib.suppress(OSError):
                if time.time() - os.stat(path).st_mtime < LEGACY_STALE_SECONDS:
                    continue
        with contextlib.suppress(OSError):
            os.unlink(path)
            removed.append(path)
    return removed


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process: not ours to judge
    return True
