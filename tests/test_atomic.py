"""numrnn.io.atomic: the one atomic write. Temporaries carry their writer's pid, so one left by a killed process is
recognised and removed; new files get 0666 less the umask; a failed write names the file it was writing."""
import errno
import os
import subprocess
import sys
import time

import pytest

from numrnn.io import atomic


def test_a_temporary_is_named_with_its_writers_pid(tmp_path):
    seen = []
    with atomic.atomic_write(tmp_path / "f.txt", "w") as stream:
        seen = os.listdir(tmp_path)
        stream.write("x")
    assert len(seen) == 1 and seen[0].startswith(f"{atomic.TEMPORARY_PREFIX}{os.getpid()}-")
    assert os.listdir(tmp_path) == ["f.txt"]


def test_stale_temporaries_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    names = {"dead": f".numrnn-{dead}-abc.tmp", "mine": f".numrnn-{os.getpid()}-abc.tmp",
             "parent": f".numrnn-{os.getppid()}-abc.tmp", "legacy_old": ".numrnn-abc123.tmp",
             "legacy_new": ".numrnn-def456.tmp", "user": "notes.tmp", "model": "model.npz"}
    for name in names.values():
        (tmp_path / name).write_text("x")
    old = time.time() - 2 * atomic.LEGACY_STALE_SECONDS
    os.utime(tmp_path / names["legacy_old"], (old, old))
    removed = atomic.clean_stale_temporaries(tmp_path)
    assert sorted(os.path.basename(p) for p in removed) == sorted([names["dead"], names["legacy_old"]])
    assert sorted(os.listdir(tmp_path)) == sorted(set(names.values()) - {names["dead"], names["legacy_old"]})


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_new_files_get_0666_less_the_umask(tmp_path, mask):
    previous = os.umask(mask)
    try:
        assert atomic.umask() == mask
        with atomic.atomic_write(tmp_path / "f.json", "w") as stream:
            stream.write("{}")
    finally:
        os.umask(previous)
    assert (tmp_path / "f.json").stat().st_mode & 0o777 == 0o666 & ~mask


def test_a_failed_write_names_the_file_and_leaves_the_old_one(tmp_path, monkeypatch):
    path = tmp_path / "history.json"
    path.write_text("old")

    def full(descriptor):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(OSError) as caught:
        with atomic.atomic_write(path, "w") as stream:
            stream.write("new")
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(path)
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["history.json"]


def test_an_unwritable_folder_is_named(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError) as caught:
        with atomic.atomic_write(tmp_path / "model.npz"):
            pass
    assert caught.value.filename == str(tmp_path / "model.npz")
