"""The character model's training is a function of its seed and options: with worker threads and dropout, two runs
give the same weights (each worker draws its masks from its own generator); validation runs on a step schedule;
stopped and resumed from DIR/last.npz, a run ends bit-identical, best model included; a time-budgeted run resumes
with its elapsed time; a diverging run names its step. (Real kills: tests/cli/test_cli_kill_resume.py.)"""
import json
import signal

import numpy as np
import pytest

import numrnn
from numrnn.apps import charlm
from numrnn.apps.charlm.workers import Workers
from numrnn.apps.durable import Checkpoints, Interrupted, StopFlag
from numrnn.callbacks import Callback
from numrnn.io.format import read_archive

SMALL = {"hidden": 16, "layers": 2, "dropout": 0.3, "embedding_size": 8, "batch": 8, "steps": 10, "epochs": 2,
         "threads": 2, "val_streams": 4, "seed": 3}


def assert_same_weights(first, second):
    for name, value in first.state_dict().items():
        np.testing.assert_array_equal(second.params[name], value, err_msg=name)


def test_two_threads_with_dropout_train_the_same_model_twice(corpus):
    text = corpus.read_text(encoding="utf-8")
    first, _ = charlm.train(text, log=None, **SMALL)
    second, _ = charlm.train(text, log=None, **SMALL)
    assert_same_weights(first, second)


def test_each_worker_draws_its_dropout_masks_from_its_own_generator():
    model = charlm.build_model(5, hidden=4, layers=2, dropout=0.5, embedding_size=3)
    ids = np.arange(40).reshape(4, 10) % 5
    workers = Workers(model, ids, ids, 2, seed=7)
    generators = [worker.layers[1].generator for worker in workers.models]
    assert all(generator is not None for generator in generators) and generators[0] is not generators[1]
    again = Workers(charlm.build_model(5, hidden=4, layers=2, dropout=0.5, embedding_size=3), ids, ids, 2, seed=7)
    assert [g.random() for g in generators] == [w.layers[1].generator.random() for w in again.models]
    workers.close()
    again.close()


# -- checkpoints and exact resume --------------------------------------------------------------------------------
class StopAt(Callback):
    """Asks training to stop (as SIGTERM does) after step `step`."""

    def __init__(self, stop, step):
        self.stop, self.step = stop, step

    def on_batch_end(self, batch, logs=None):
        if batch + 1 == self.step:
            self.stop.request(signal.SIGTERM)


def train_into(text, out, stop_at=None, resume=False, **options):
    stop = StopFlag()
    checkpoints = Checkpoints(out, every=1000.0, resume=resume, stop=stop)
    callbacks = [StopAt(stop, stop_at)] if stop_at else []
    return charlm.train(text, out=str(out), log=None, callbacks=callbacks, checkpoints=checkpoints,
                        **{**SMALL, **options})


@pytest.mark.parametrize("reading", ["streams", "offset", "windows"])
def test_a_stopped_run_resumes_bit_identical_best_model_included(corpus, tmp_path, reading):
    text = corpus.read_text(encoding="utf-8")
    straight, _ = train_into(text, tmp_path / "straight", reading=reading)
    with pytest.raises(Interrupted, match="interrupted by SIGTERM"):
        train_into(text, tmp_path / "stopped", stop_at=40, reading=reading)  # 34 chunks a pass
    state = read_archive(tmp_path / "stopped" / "last.npz")[0]["training"]
    assert state["step"] == 40 and state["epoch"] == 1 and state["chunk"] > 0  # stopped inside the second pass
    resumed, history = train_into(text, tmp_path / "stopped", resume=True, reading=reading)
    assert_same_weights(straight, resumed)
    for name in ("model.npz", "last.npz"):
        first, second = (read_archive(tmp_path / run / name)[1] for run in ("straight", "stopped"))
        for key, value in first.items():
            np.testing.assert_array_equal(second[key], value, err_msg=f"{name} {key}")
    straight_history = json.loads((tmp_path / "straight" / "history.json").read_text())
    assert [r["val_loss"] for r in history["validation"]] == [r["val_loss"] for r in straight_history["validation"]]


def test_a_run_bounded_by_epochs_validates_on_a_step_schedule(corpus):
    _, history = charlm.train(corpus.read_text(encoding="utf-8"), log=None, **SMALL)
    every = history["val_every_steps"]
    steps = [record["step"] for record in history["validation"]]
    assert every >= 1 and steps[:-1] == list(range(every, steps[-1], every))[:len(steps) - 1]
    assert steps[-1] == history["final"]["steps"]


def test_max_steps_bounds_the_run(corpus):
    _, history = charlm.train(corpus.read_text(encoding="utf-8"), log=None, **dict(SMALL, max_steps=5,
                                                                                  val_every_steps=2))
    assert history["final"]["steps"] == 5 and [r["step"] for r in history["validation"]] == [2, 4, 5]


def test_a_time_budgeted_run_resumes_with_its_elapsed_time(corpus, tmp_path):
    text = corpus.read_text(encoding="utf-8")
    options = dict(epochs=1000, time_budget=1.0, val_every=0.3)
    with pytest.raises(Interrupted):
        train_into(text, tmp_path, stop_at=20, **options)
    elapsed = read_archive(tmp_path / "last.npz")[0]["training"]["elapsed"]
    assert elapsed > 0
    _, history = train_into(text, tmp_path, resume=True, **options)
    first_after = [r for r in history["validation"] if r["step"] > 20][0]
    assert first_after["seconds"] >= elapsed
    assert 1.0 <= history["final"]["train_seconds"] < 1.0 + 2.0


def test_a_diverging_text_run_names_the_step_and_keeps_the_best_model(corpus, tmp_path):
    text = corpus.read_text(encoding="utf-8")
    with pytest.raises(FloatingPointError, match=r"training diverged at step \d+ .*Try a smaller --lr"):
        charlm.train(text, out=str(tmp_path), log=None, **dict(SMALL, lr=1e36))
    record = json.loads((tmp_path / "history.json").read_text())
    assert record["diverged"].startswith("training diverged at step")
    if (tmp_path / "model.npz").exists():
        assert all(np.isfinite(v).all() for v in numrnn.load(tmp_path / "model.npz").params.values())
