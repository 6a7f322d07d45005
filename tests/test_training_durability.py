"""Training you can trust: the divergence guard, Keras's callbacks, and exact resume after a kill."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import numrnn
from numrnn.callbacks import (BackupAndRestore, EarlyStopping, LearningRateScheduler, ModelCheckpoint,
                              TerminateOnNaN)
from numrnn.schedules import Schedule

ROOT = Path(__file__).resolve().parents[1]


def mod3(rng, count=64, steps=6):
    ids = rng.integers(0, 3, (count, steps))
    return np.eye(3)[ids], (ids + 1) % 3


def model(optimizer=None, dtype="float32", dropout=0.0, **kwargs):
    return numrnn.Sequential([numrnn.GRU(3, 8, num_layers=2, dropout=dropout, dtype=dtype), numrnn.Dense(8, 3,
                                                                                                          dtype=dtype)],
                             loss="cross_entropy", optimizer=optimizer or numrnn.Adam(lr=0.02), **kwargs)


# -- the divergence guard --------------------------------------------------------------------------------------------
def test_a_diverging_fit_raises_naming_the_step_and_keeps_the_weights_from_before_it(rng):
    X = rng.standard_normal((32, 5, 1))
    y = X.sum(axis=1) * 100
    net = numrnn.Sequential([numrnn.RNN(1, 8, return_sequences=False), numrnn.Dense(8, 1)], loss="mse",
                            optimizer=numrnn.SGD(lr=1e6))
    seen = []

    class Keep(numrnn.callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(net.state_dict())

    with pytest.raises(FloatingPointError, match=r"training diverged at epoch \d+, batch \d+ \(step \d+\): .*"
                                                 r"Try a smaller learning rate \(lr is 1e\+06\)"):
        net.fit(X, y, epochs=50, batch_size=8, callbacks=[Keep()])
    assert all(np.isfinite(value).all() for value in net.params.values())
    last_good = seen[-1] if seen else None
    if last_good is not None:
        for name, value in net.state_dict().items():
            np.testing.assert_array_equal(value, last_good[name])


@pytest.mark.parametrize("optimizer, overflowing_lr", [
    (lambda: numrnn.SGD(lr=1e-6, momentum=0.9), 1e36), (lambda: numrnn.Adam(lr=1e-3), 1e39),
    (lambda: numrnn.RMSprop(lr=1e-3, momentum=0.5), 1e39), (lambda: numrnn.Adagrad(lr=1e-3), 1e39)],
    ids=["SGD", "Adam", "RMSprop", "Adagrad"])
def test_an_overflowing_step_is_undone_exactly(rng, optimizer, overflowing_lr):
    """Finite gradients, a learning rate so large that a weight overflows float32: the step is undone, the weights
    and the optimizer's state (momentum buffers, running averages, step counts) bit for bit as before it."""
    X, y = rng.standard_normal((8, 5, 1)), np.full((8, 1), 1000.0)  # a loss of ~1e6, gradients of ~1e3
    net = numrnn.Sequential([numrnn.RNN(1, 4, return_sequences=False), numrnn.Dense(4, 1)], loss="mse",
                            optimizer=optimizer())
    net.train_on_batch(X, y)
    net.train_on_batch(X, y)
    before, state = net.state_dict(), net.optimizer.state_dict()
    net.optimizer.lr = overflowing_lr  # lr * gradient (or lr alone, for the adaptive ones) > 3.4e38
    with pytest.raises(FloatingPointError, match="made a weight overflow; the step was undone"):
        net.train_on_batch(X, y)
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    after = net.optimizer.state_dict()
    assert after["step"] == state["step"]
    for name, slots in state["state"].items():
        for slot, value in slots.items():
            np.testing.assert_array_equal(after["state"][name][slot], value)
    net.optimizer.lr = 1e-3  # and training goes on from there
    assert np.isfinite(net.train_on_batch(X, y)["loss"])


def test_terminate_on_nan_stops_quietly(rng):
    X = rng.standard_normal((32, 5, 1))
    net = numrnn.Sequential([numrnn.RNN(1, 8, return_sequences=False), numrnn.Dense(8, 1)], loss="mse",
                            optimizer=numrnn.SGD(lr=1e6))
    stop = TerminateOnNaN(stream=open(os.devnull, "w"))
    history = net.fit(X, X.sum(axis=1) * 100, epochs=50, batch_size=8, callbacks=[stop])
    assert stop.error is not None and len(history.epoch) < 50
    assert all(np.isfinite(value).all() for value in net.params.values())


def test_non_finite_weights_are_never_written(tmp_path):
    net = model()
    net.params["0.weight_hh_l0"][0, 0] = np.nan
    with pytest.raises(ValueError, match="refusing to write .*'0.weight_hh_l0' is not finite"):
        net.save(tmp_path / "m.npz")
    assert not os.listdir(tmp_path)


# -- callbacks -------------------------------------------------------------------------------------------------------
def test_early_stopping_stops_and_restores_the_best_weights(rng):
    X, y = mod3(rng)
    net = model(optimizer=numrnn.Adam(lr=0.05))
    values = iter([1.0, 0.5, 0.6, 0.7, 0.4, 0.3])
    weights = {}

    class FakeValidation(numrnn.callbacks.Callback):
        """Sets val_loss from a script, before EarlyStopping reads it."""
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(values)
            weights[epoch] = self.model.state_dict()

    stopper = EarlyStopping(patience=1, restore_best_weights=True)
    history = net.fit(X, y, epochs=6, batch_size=16, callbacks=[FakeValidation(), stopper])
    assert len(history.epoch) == 4 and stopper.stopped_epoch == 3 and stopper.best == 0.5
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, weights[1][name])


def test_model_checkpoint_keeps_only_improvements(tmp_path, rng):
    X, y = mod3(rng)
    net = model()
    path = tmp_path / "best.npz"
    values = iter([0.9, 0.5, 0.7])
    saved = []

    class FakeValidation(numrnn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(values)

    class Watch(numrnn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            saved.append(os.stat(path).st_mtime_ns if path.exists() else None)

    checkpoint = ModelCheckpoint(path)
    net.fit(X, y, epochs=3, batch_size=16, callbacks=[FakeValidation(), checkpoint, Watch()])
    assert saved[0] is not None and saved[1] != saved[0] and saved[2] == saved[1]
    assert numrnn.load(path).extra["checkpoint"]["epoch"] == 2
    ModelCheckpoint(tmp_path / "m-{epoch}.npz", save_best_only=False)
    net.fit(X, y, epochs=2, batch_size=16, callbacks=[ModelCheckpoint(tmp_path / "m-{epoch}.npz",
                                                                      save_best_only=False)])
    assert (tmp_path / "m-1.npz").exists() and (tmp_path / "m-2.npz").exists()


def test_learning_rate_scheduler_with_a_schedule_or_a_function(rng):
    X, y = mod3(rng, 16)
    net = model(optimizer=numrnn.SGD(lr=0.1))
    rates = []

    class Record(numrnn.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            rates.append(self.model.optimizer.lr)

    net.fit(X, y, epochs=4, batch_size=16, callbacks=[LearningRateScheduler(Schedule("linear")), Record()])
    np.testing.assert_allclose(rates, [0.1, 0.075, 0.05, 0.025])
    net.fit(X, y, epochs=2, batch_size=16, callbacks=[LearningRateScheduler(lambda epoch, lr: lr / 2)])
    assert net.optimizer.lr == pytest.approx(0.025 / 4)


def test_a_callback_can_stop_training(rng):
    X, y = mod3(rng)

    class StopAfterThree(numrnn.callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 2:
                self.model.stop_training = True

    history = model().fit(X, y, epochs=5, batch_size=8, callbacks=[StopAfterThree()])
    assert len(history.epoch) == 1


# -- exact resume ----------------------------------------------------------------------------------------------------
SCRIPT = textwrap.dedent("""
    import sys, time
    import numpy as np
    import numrnn
    from numrnn.callbacks import BackupAndRestore, EarlyStopping, LearningRateScheduler
    from numrnn.schedules import Schedule

    out, slow = sys.argv[1], float(sys.argv[2])
    numrnn.seed(0)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 3, (96, 6))
    X, y = np.eye(3)[ids], (ids + 1) % 3
    model = numrnn.Sequential([numrnn.GRU(3, 16, num_layers=2, dropout=0.3), numrnn.Dense(16, 3)],
                              loss="cross_entropy", optimizer=numrnn.Adam(lr=0.01), clip_norm=1.0)

    class Slow(numrnn.callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            time.sleep(slow)

    model.fit(X, y, epochs=12, batch_size=8, validation_data=(X[:32], y[:32]),
              callbacks=[Slow(), BackupAndRestore(out, save_every=1), EarlyStopping(patience=50),
                         LearningRateScheduler(Schedule("cosine"))])
    model.save(out + "/final.npz")
""")


def run_to_completion(folder, kills, rng):
    """Run the script, SIGKILL it after a random delay `kills` times (restarting it each time), then let it end."""
    script = folder / "train.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    killed = 0
    while True:
        process = subprocess.Popen([sys.executable, str(script), str(folder), "0.04"], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if killed < kills:
            time.sleep(rng.uniform(0.8, 2.5))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
                killed += 1
                continue
        _, error = process.communicate(timeout=300)
        assert process.returncode == 0, error.decode()
        return killed


@pytest.mark.slow
def test_a_fit_killed_with_sigkill_and_restarted_ends_bit_identical(tmp_path):
    """The shuffle, dropout, Adam, clipping, a cosine schedule and early stopping's state all survive kills."""
    rng = np.random.default_rng(1)
    (tmp_path / "straight").mkdir()
    (tmp_path / "killed").mkdir()
    run_to_completion(tmp_path / "straight", 0, rng)
    killed = run_to_completion(tmp_path / "killed", 3, rng)
    assert killed >= 2
    straight = numrnn.load(tmp_path / "straight" / "final.npz")
    resumed = numrnn.load(tmp_path / "killed" / "final.npz")
    for name, value in straight.state_dict().items():
        np.testing.assert_array_equal(resumed.params[name], value, err_msg=name)
    assert not (tmp_path / "killed" / "backup.npz").exists()  # a finished fit deletes its backup


def test_resuming_a_changed_run_is_refused(tmp_path, rng):
    X, y = mod3(rng)
    backup = BackupAndRestore(tmp_path, delete_checkpoint=False)
    model().fit(X, y, epochs=1, batch_size=16, callbacks=[backup])
    with pytest.raises(ValueError, match="different run, refusing to resume it: fit's batch_size was 16, now 8"):
        model().fit(X, y, epochs=1, batch_size=8, callbacks=[BackupAndRestore(tmp_path)])
    with pytest.raises(ValueError, match="the training data changed"):
        model().fit(X[:-1], y[:-1], epochs=1, batch_size=16, callbacks=[BackupAndRestore(tmp_path)])
    other = numrnn.Sequential([numrnn.GRU(3, 9, num_layers=2), numrnn.Dense(9, 3)], loss="cross_entropy",
                              optimizer=numrnn.Adam(lr=0.02))
    with pytest.raises(ValueError, match=r"another architecture: layers\[0\].config.hidden_size: the file has 8"):
        other.fit(X, y, epochs=1, batch_size=16, callbacks=[BackupAndRestore(tmp_path)])


def test_resume_in_process_matches_a_straight_run(tmp_path, rng):
    """The same as the kill test without processes: a fit stopped by a callback after some batches, resumed by a
    new model and fit, equals a straight run bit for bit."""
    X, y = mod3(rng, 48)

    def train(callbacks):
        numrnn.seed(3)
        net = model(dropout=0.3)
        net.fit(X, y, epochs=3, batch_size=8, seed=4, callbacks=callbacks)
        return net

    straight = train([])

    class Crash(numrnn.callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 3 and not getattr(self, "done", False):
                self.done = True
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train([Crash(), BackupAndRestore(tmp_path, save_every=2)])
    numrnn.seed(99)  # the resumed run's own generator state is replaced by the backup's
    resumed = train([BackupAndRestore(tmp_path, save_every=2)])
    for name, value in straight.state_dict().items():
        np.testing.assert_array_equal(resumed.params[name], value)


def test_a_checkpoint_keeps_non_finite_history_values(tmp_path):
    """A validation loss that overflowed is history too: a checkpoint holds NaN and infinities (JSON cannot) and
    gives them back."""
    from numrnn.io.format import write_model
    from numrnn.io.schema import restore_checkpoint
    net = model()
    training = {"history": {"val_loss": [float("inf"), float("nan"), 0.5]}, "order": np.arange(3)}
    write_model(tmp_path / "c.npz", net, training=training)
    restored = restore_checkpoint(model(), tmp_path / "c.npz")
    values = restored["history"]["val_loss"]
    assert values[0] == float("inf") and np.isnan(values[1]) and values[2] == 0.5
    np.testing.assert_array_equal(restored["order"], np.arange(3))
