"""Every file numrnn writes is written here: into a temporary file beside the target, flushed to disk, then renamed
over the target in one step. A crash, a full disk or a kill mid-write leaves the old file (or none), never half a
file; the new file gets the permissions any new file gets (0666 less the umask).

    with atomic_write(path, "w") as stream:     # text; "wb" for bytes
        stream.write(...)
"""
import contextlib
import os
import tempfile

#: the prefix of numrnn's temporary files, so that stale ones can be recognised
TEMPORARY_PREFIX = ".numrnn-"


@contextlib.contextmanager
def atomic_write(path, mode="wb", encoding="utf-8"):
    """A stream to write `path` through; the file appears complete when the block ends, or not at all."""
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, suffix=".tmp", dir=folder)
    try:
        kwargs = {"encoding": encoding, "newline": ""} if mode == "w" else {}
        with os.fdopen(handle, mode, **kwargs) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp creates the file private (0600); give it the permissions any new file would get
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
