"""Every reader of a model file refuses the hostile corpus clearly: numrnn.load, numrnn info, info --json, predict,
evaluate --task, evaluate --data, sample and forecast, on the 131 files of tests/hostile_corpus.py and on files
whose `extra` lies (tests/hostile_readers.py: settings that once had evaluate --task allocate 7 TiB, a
forecaster's window of 10**12, a vocabulary that does not fit the model). Each refusal is one line,
`numrnn: error: ...` naming the file, exit status 2, no traceback, within seconds and within bounded memory; only
files that remain valid models may be read. In-process (fast), and once per reader in a subprocess (peak RSS)."""
import os
import signal

import pytest

from numrnn.cli import main as cli_main

from . import hostile_corpus
from .hostile_readers import (MUST_REFUSE, READERS, build_extras, inputs, read_in_process,
                              read_in_subprocess)
from .test_hostile_files import MAY_LOAD

MiB = 2 ** 20


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("readers")
    return hostile_corpus.build(folder / "corpus"), build_extras(folder / "extras"), inputs(folder)


@pytest.fixture
def one_parser(monkeypatch):
    """The parser built once (building it is most of an in-process run's time); what main does is unchanged."""
    parser = cli_main.build_parser()
    monkeypatch.setattr(cli_main, "build_parser", lambda: parser)


def expected(reader, name, extras):
    if name in extras:
        return {"refused"} if name.startswith(MUST_REFUSE.get(reader, ("-",))) else {"refused", "read"}
    return {"refused", "read"} if name.startswith(MAY_LOAD) else {"refused"}


@pytest.mark.parametrize("reader", list(READERS))
def test_every_hostile_file_is_refused_clearly(reader, files, one_parser):
    corpus, extras, paths = files
    outcomes = {name: read_in_process(reader, path, paths) for name, path in {**corpus, **extras}.items()}
    wrong = {name: outcome for name, outcome in outcomes.items()
             if outcome.kind not in expected(reader, name, extras) or outcome.seconds > 5
             or outcome.peak_bytes > 64 * MiB}
    assert not wrong, wrong
    assert sum(outcome.kind == "refused" for outcome in outcomes.values()) >= 120


SUBPROCESS_FILES = {"numrnn.load": "zip_bomb", "info": "fifo", "info --json": "header_huge_shape",
                    "predict": "zip_bomb", "evaluate --task": "settings_steps_1e12", "evaluate --data": "zip_bomb",
                    "sample": "layers_huge_list", "forecast": "forecaster_window_1e12"}


@pytest.mark.slow
def test_each_reader_in_a_subprocess_refuses_within_bounded_memory(files):
    corpus, extras, paths = files
    good = os.path.join(os.path.dirname(corpus["fifo"]), "good.npz")  # the model the corpus was made from
    baseline = read_in_subprocess("info", good, paths)
    assert baseline.kind == "read", baseline
    for reader, name in SUBPROCESS_FILES.items():
        outcome = read_in_subprocess(reader, {**corpus, **extras}[name], paths)
        assert outcome.kind == "refused", (reader, name, outcome)
        assert outcome.peak_bytes < baseline.peak_bytes + 64 * MiB, (reader, name, outcome, baseline)


def test_data_and_input_files_that_are_fifos_are_refused_without_blocking(files, tmp_path, capsys):
    corpus, extras, paths = files
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    text_model = os.path.join(os.path.dirname(corpus["fifo"]), "good.npz")
    previous = signal.signal(signal.SIGALRM, _blocked)
    signal.setitimer(signal.ITIMER_REAL, 10)  # a blocked open fails the test, not hang it
    try:
        for argv in (["evaluate", text_model, "--data", fifo], ["predict", text_model, "--input", f"{fifo}.npy"],
                     ["forecast", extras["good_forecaster"], "--data", fifo, "--steps", "2"],
                     ["train", "text", "--data", fifo, "--out", tmp_path / "out"]):
            if str(argv[-1]).endswith(".npy"):
                os.mkfifo(argv[-1])
            assert cli_main.main([str(item) for item in argv]) == 2, argv
            err = capsys.readouterr().err
            assert err.startswith("numrnn: error: ") and "not a regular file" in err, err
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _blocked(signum, frame):
    raise TimeoutError("a reader blocked on a FIFO")
