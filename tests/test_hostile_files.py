"""Corrupt and hostile model files (tests/hostile_corpus.py, 131 of them) through numrnn.load: each is refused with
a ValueError naming the file, never a traceback of another kind, a hang, or an allocation beyond the file's size;
only changes that leave a valid model (a bit flipped inside a weight, a Fortran-ordered array) may load."""
import time
import tracemalloc

import pytest

import numrnn

from . import hostile_corpus

MAY_LOAD = ("bitflip_", "header_fortran", "training_missing_array", "good")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return hostile_corpus.build(tmp_path_factory.mktemp("hostile"))


def test_the_corpus_is_large_and_varied(corpus):
    assert len(corpus) >= 128


def test_every_hostile_file_is_refused_clearly_fast_and_small(corpus):
    outcomes = {}
    for name, path in corpus.items():
        tracemalloc.start()
        began = time.perf_counter()
        try:
            numrnn.load(path)
            outcome = "loaded"
        except ValueError as error:
            outcome = "refused" if str(path) in str(error) else f"refused without naming the file: {error}"
        seconds = time.perf_counter() - began
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        outcomes[name] = outcome
        assert seconds < 5, (name, seconds)
        assert peak < 64 * 2 ** 20, (name, peak)
    wrong = {name: outcome for name, outcome in outcomes.items()
             if outcome != "refused" and not (outcome == "loaded" and name.startswith(MAY_LOAD))}
    assert not wrong, wrong
    assert sum(outcome == "refused" for outcome in outcomes.values()) >= 120
