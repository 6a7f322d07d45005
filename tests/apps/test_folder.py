"""numrnn.apps.folder: one run per folder; --overwrite removes only the old run's files, never anything outside the
folder; --resume needs a last.npz beside a model.npz."""
import json

import pytest

from numrnn.apps.folder import prepare_run_folder


def test_a_new_folder_gets_a_run_id_and_a_manifest(tmp_path):
    folder = prepare_run_folder(tmp_path / "run", command="numrnn train mod3")
    manifest = json.loads((tmp_path / "run" / "run.json").read_text())
    assert manifest == {"run_id": folder.run_id, "command": "numrnn train mod3", "files": []}
    assert not folder.resuming and len(folder.run_id) == 12


def test_overwrite_never_removes_what_the_manifest_names_outside_the_folder(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (tmp_path / "precious.txt").write_text("keep")
    (run / "model.npz").write_text("old")
    (run / "loss.png").write_text("old")
    (run / "data.csv").write_text("the user's")
    (run / "run.json").write_text(json.dumps({"run_id": "x", "files": ["../precious.txt", "/etc/passwd", "loss.png",
                                                                       7, ".."]}))
    prepare_run_folder(run, overwrite=True)
    assert (tmp_path / "precious.txt").read_text() == "keep"
    assert sorted(p.name for p in run.iterdir()) == ["data.csv", "run.json"]


def test_resume_needs_a_last_npz_beside_a_model(tmp_path):
    (tmp_path / "model.npz").write_text("an older numrnn's run")
    with pytest.raises(ValueError, match="has no last.npz beside it to resume from"):
        prepare_run_folder(tmp_path, resume=True)
    (tmp_path / "last.npz").write_text("state")
    (tmp_path / "run.json").write_text(json.dumps({"run_id": "abc", "files": ["loss.png"]}))
    folder = prepare_run_folder(tmp_path, resume=True)
    assert folder.resuming and folder.run_id == "abc" and folder.files == ["loss.png"]
