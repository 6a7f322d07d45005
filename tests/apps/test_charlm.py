"""numrnn.apps.charlm: vocabulary, 90/10 split, chunked streams for truncated BPTT, training, evaluation and sampling.
(The commands that run them: tests/cli/test_cli_text.py; the trained model both use: tests/conftest.py.)"""
import json
import math
import time

import numpy as np
import pytest

import numrnn
from numrnn.apps import charlm

TINY = {"hidden": 16, "layers": 1, "output_dropout": 0.0, "embedding_size": 8, "batch": 4, "steps": 10,
        "val_every": 0.5, "val_streams": 4, "threads": 1, "seed": 0}


# -- data ----------------------------------------------------------------------------------------------------------

def test_default_corpus_is_shipped_tiny_shakespeare():
    content = charlm.read_text(charlm.default_corpus())
    assert len(content) == 1115394
    assert content.startswith("First Citizen:")


def test_vocabulary_is_the_sorted_characters_whatever_their_order():
    assert charlm.build_vocab("hello world") == [" ", "d", "e", "h", "l", "o", "r", "w"]
    assert charlm.build_vocab("dlrow olleh") == charlm.build_vocab("hello world")


def test_encode_and_decode_round_trip_and_unknown_characters_are_named():
    vocab = charlm.build_vocab("abc\n")
    ids = charlm.encode("cab\n", vocab)
    assert ids.tolist() == [3, 1, 2, 0]
    assert charlm.decode(ids, vocab) == "cab\n"
    with pytest.raises(ValueError, match=r"not in the model's vocabulary.*'z'"):
        charlm.encode("abz", vocab)


def test_split_is_first_90_percent_then_last_10():
    ids = np.arange(1000)
    train, val = charlm.split_ids(ids)
    assert len(train) == 900 and len(val) == 100
    np.testing.assert_array_equal(np.concatenate([train, val]), ids)


def test_streams_cover_the_text_in_order_and_chunks_walk_them_consecutively():
    ids = np.arange(103)
    inputs, targets = charlm.make_streams(ids, batch=4)  # 4 streams of (103 - 1) // 4 = 25
    assert inputs.shape == targets.shape == (4, 25)
    np.testing.assert_array_equal(inputs.reshape(-1), ids[:100])  # stream b is the b-th consecutive slice
    np.testing.assert_array_equal(targets, inputs + 1)  # the next character
    pieces = list(charlm.iterate_chunks(inputs, targets, steps=10))
    assert [x.shape[1] for x, _ in pieces] == [10, 10, 5]
    np.testing.assert_array_equal(np.concatenate([x for x, _ in pieces], axis=1), inputs)
    np.testing.assert_array_equal(np.concatenate([y for _, y in pieces], axis=1), targets)


def test_a_pass_from_an_offset_reads_the_text_rotated_round_to_its_start():
    ids = np.arange(103)
    inputs, targets = charlm.make_streams(ids, batch=4, offset=10)
    rotated = np.concatenate([ids[10:], ids[:10]])
    np.testing.assert_array_equal(inputs.reshape(-1), rotated[:100])
    np.testing.assert_array_equal(targets.reshape(-1), rotated[1:101])  # 102 -> 0 once: where the ends join
    assert targets[3, 17] == 0 and inputs[3, 17] == 102


def test_the_offset_of_a_pass_is_a_function_of_the_seed_and_the_pass():
    offsets = [charlm.pass_offset(1000, seed, epoch) for seed in range(3) for epoch in range(20)]
    assert offsets == [charlm.pass_offset(1000, seed, epoch) for seed in range(3) for epoch in range(20)]
    assert all(0 <= offset < 1000 for offset in offsets)
    assert len(set(offsets)) > 50  # 60 passes: different places


def test_random_windows_are_runs_of_the_text_placed_by_the_seed_and_the_step():
    ids = np.arange(1000)
    inputs, targets = ids[None, :-1], ids[None, 1:]
    x, y = charlm.random_windows(inputs, targets, batch=16, steps=30, seed=0, step=5)
    assert x.shape == y.shape == (16, 30)
    np.testing.assert_array_equal(np.diff(x, axis=1), 1)  # consecutive characters
    np.testing.assert_array_equal(y, x + 1)               # and their next ones
    assert x.min() >= 0 and y.max() <= 999
    again = charlm.random_windows(inputs, targets, batch=16, steps=30, seed=0, step=5)
    np.testing.assert_array_equal(again[0], x)
    assert not np.array_equal(charlm.random_windows(inputs, targets, 16, 30, seed=0, step=6)[0], x)


def test_training_reads_each_pass_from_its_own_offset(corpus, monkeypatch):
    from numrnn.apps.charlm import trainer
    text = corpus.read_text(encoding="utf-8")
    read = []
    make_streams = trainer.make_streams
    monkeypatch.setattr(trainer, "make_streams", lambda ids, batch, offset: read.append(offset)
                        or make_streams(ids, batch, offset))
    options = {**TINY, "epochs": 3, "val_every_steps": 1000, "reading": "offset"}
    _, history = charlm.train(text, log=None, **options)
    train_ids, _ = charlm.split_ids(charlm.encode(text, charlm.build_vocab(text)))
    assert read == [charlm.pass_offset(len(train_ids), 0, epoch) for epoch in range(3)]
    assert len(set(read)) == 3
    _, plain = charlm.train(text, log=None, **{**options, "reading": "streams"})
    assert history["final"]["val_loss"] != plain["final"]["val_loss"]
    with pytest.raises(ValueError, match=r"reading must be one of \['streams', 'offset', 'windows'\], got 'sometimes'"):
        charlm.train(text, log=None, **{**options, "reading": "sometimes"})


def test_too_few_characters_for_the_batch_is_refused():
    with pytest.raises(ValueError, match="too few for 64 streams"):
        charlm.make_streams(np.arange(30), batch=64)


# -- evaluation and prediction ---------------------------------------------------------------------------------------

def test_predict_on_ids_gives_next_character_probabilities(trained):
    model = numrnn.load(trained / "model.npz")
    ids = charlm.encode("First Citizen:\nBefore we proceed", model.vocab)
    probs = model.predict(ids[None, :])
    assert probs.shape == (1, len(ids), len(model.vocab))
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-5)


def test_evaluation_is_the_mean_negative_log_probability_predict_gives(trained, corpus):
    model = numrnn.load(trained / "model.npz")
    _, val = charlm.split_ids(charlm.encode(corpus.read_text(encoding="utf-8"), model.vocab))
    probs = model.predict(val[None, :-1], chunk_size=64)  # chunked with the state carried, as for long texts
    expected = -np.log(np.take_along_axis(probs[0], val[1:, None], axis=-1)).mean()
    assert charlm.evaluate_ids(model, val, streams=1, chunk_size=37) == pytest.approx(expected, abs=1e-5)
    assert charlm.evaluate_ids(model, val, chunk_size=37) == pytest.approx(expected, abs=1e-5)
    # the parallel slices with warm-up taken as they are: a close estimate
    assert charlm.evaluate_ids(model, val, streams=5, warmup=50, exact=False) == pytest.approx(expected, abs=0.05)


@pytest.mark.parametrize("streams, warmup, threads", [(None, 200, 1), (5, 50, 1), (7, 3, 1), (16, 0, 1), (6, 20, 2)])
def test_segments_side_by_side_give_the_one_stream_figure(trained, corpus, streams, warmup, threads):
    """Each segment's warm-up is checked against the end of the segment before it (a short one, or none, is read
    again from there): the figure of one stream to 1e-6 nats, in float32."""
    model = numrnn.load(trained / "model.npz")
    _, val = charlm.split_ids(charlm.encode(corpus.read_text(encoding="utf-8"), model.vocab))
    exact = charlm.evaluate_ids(model, val, streams=1)
    how = {}
    assert charlm.evaluate_ids(model, val, streams=streams, warmup=warmup, threads=threads,
                               report=how) == pytest.approx(exact, abs=1e-6)
    assert how["segments"] > 1 and how["exact"]
    if warmup == 0:
        assert how["rereads"] > 0  # from zeros, no segment but the first starts where the one stream is


def never_forgetting_model(vocab_size=5, dtype="float64"):
    """An LSTM whose cell state adds up every character it reads (forget gate 1, no decay): its state at any point
    depends on the whole text before it, so no warm-up reaches it."""
    model = charlm.build_model(vocab_size, hidden=3, layers=1, embedding_size=vocab_size, dtype=dtype)
    lstm, size = model.layers[1], 3
    weights = {name: np.zeros_like(value) for name, value in lstm.params.items()}
    weights["weight_ih_l0"][2 * size:3 * size] = np.random.default_rng(0).normal(0, 1, (size, vocab_size))  # g
    weights["bias_ih_l0"][:size] = 30        # i = 1
    weights["bias_ih_l0"][size:2 * size] = 30  # f = 1: c_t = c_{t-1} + g_t
    weights["bias_ih_l0"][3 * size:] = 30    # o = 1
    lstm.load_state_dict(weights)
    model.layers[0].load_state_dict({"weight": np.eye(vocab_size)})
    model.vocab = [str(i) for i in range(vocab_size)]
    return model


def test_a_model_that_never_forgets_is_read_again_until_the_figure_is_exact():
    model = never_forgetting_model()
    ids = np.random.default_rng(1).integers(0, 5, 400)
    exact = charlm.evaluate_ids(model, ids, streams=1)
    how = {}
    assert charlm.evaluate_ids(model, ids, streams=8, warmup=10, report=how) == pytest.approx(exact, abs=1e-9)
    assert how["rereads"] >= 7  # every segment but the first, some more than once
    estimate = charlm.evaluate_ids(model, ids, streams=8, warmup=10, exact=False)
    assert abs(estimate - exact) > 1e-3  # the warm-ups alone are wrong for such a model


def test_a_model_whose_state_overflows_scores_nan_not_an_error(trained, corpus):
    model = numrnn.load(trained / "model.npz")
    _, val = charlm.split_ids(charlm.encode(corpus.read_text(encoding="utf-8"), model.vocab))
    signs = np.random.default_rng(0)
    for value in model.params.values():  # products of +-3e38 overflow to +-inf, and inf - inf is NaN
        value[...] = 3e38 * signs.choice([-1, 1], value.shape)
    assert not math.isfinite(charlm.evaluate_ids(model, val, streams=1))
    assert not math.isfinite(charlm.evaluate_ids(model, val, streams=4, warmup=10))


# -- training ----------------------------------------------------------------------------------------------------------

def test_training_writes_the_model_and_a_history_with_nats_and_bits(trained):
    history = json.loads((trained / "history.json").read_text())
    assert history["validation"], "no validation was recorded"
    for record in history["validation"]:
        assert record["bits_per_char"] == pytest.approx(record["val_loss"] / math.log(2), abs=1e-4)
        assert {"seconds", "characters", "train_loss", "val_loss"} <= set(record)
    assert history["final"]["val_loss"] > 0
    assert history["final"]["bits_per_char"] == pytest.approx(history["final"]["val_loss"] / math.log(2), abs=1e-4)
    model = numrnn.load(trained / "model.npz")
    assert model.vocab == sorted(set(model.vocab))
    assert model.extra["text"]["final"]["val_loss"] == history["final"]["val_loss"]


def test_time_budget_stops_training(corpus):
    began = time.perf_counter()
    _, history = charlm.train(corpus.read_text(encoding="utf-8"), log=None, time_budget=1.0, epochs=10_000, **TINY)
    assert history["final"]["train_seconds"] < 1.5
    assert time.perf_counter() - began < 5


def test_the_best_model_is_kept(corpus, tmp_path):
    model, history = charlm.train(corpus.read_text(encoding="utf-8"), out=tmp_path, log=None, time_budget=1.0, **TINY)
    best = min(record["val_loss"] for record in history["validation"])
    saved = numrnn.load(tmp_path / "model.npz")
    assert saved.extra["text"]["validation"]["val_loss"] == best
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(saved.state_dict()[name], value)
    # every validation is the figure of one stream: the kept model's, measured again at the end, is the same
    assert history["final"]["val_loss"] == pytest.approx(best, abs=2e-5)
    assert history["final"]["evaluation"]["exact"]


def test_output_dropout_sits_before_the_dense_layer_and_acts_only_in_training():
    model = charlm.build_model(7, hidden=6, layers=1, embedding_size=4, output_dropout=0.5)
    assert [type(layer).__name__ for layer in model.layers] == ["Embedding", "LSTM", "Dropout", "Dense"]
    assert model.layers[2].p == 0.5
    ids = np.random.default_rng(0).integers(0, 7, (2, 12))
    model.train()
    assert not np.array_equal(model.forward(ids), model.forward(ids))  # a new mask every forward
    first = model.predict(ids)
    np.testing.assert_array_equal(model.predict(ids), first)  # none in evaluation
    assert [type(layer).__name__ for layer in charlm.build_model(7).layers] == ["Embedding", "LSTM", "Dense"]


def test_training_with_output_dropout_is_a_function_of_the_seed(corpus):
    options = {**TINY, "epochs": 1, "val_every": 1e9, "threads": 2, "output_dropout": 0.3}
    first, _ = charlm.train(corpus.read_text(encoding="utf-8"), log=None, **options)
    second, _ = charlm.train(corpus.read_text(encoding="utf-8"), log=None, **options)
    for name, value in first.state_dict().items():
        np.testing.assert_array_equal(second.state_dict()[name], value, err_msg=name)


@pytest.mark.parametrize("cell, input", [("gru", "onehot"), ("rnn", "embedding")])
def test_other_cells_and_one_hot_input_train(corpus, cell, input):
    model, history = charlm.train(corpus.read_text(encoding="utf-8"), log=None, time_budget=0.5, cell=cell,
                                input=input, **TINY)
    assert type(model.layers[1]).__name__ == cell.upper()
    assert math.isfinite(history["final"]["val_loss"])


def test_two_worker_threads_give_the_gradient_of_the_whole_batch(corpus):
    """Two workers, each on half the streams, take the same steps as one worker on all of them."""
    content = corpus.read_text(encoding="utf-8")
    options = {**TINY, "epochs": 1, "val_every": 1e9, "lr_schedule": "constant", "dtype": "float64"}
    one, _ = charlm.train(content, log=None, **options)
    two, _ = charlm.train(content, log=None, **{**options, "threads": 2})
    for name, value in one.state_dict().items():
        np.testing.assert_allclose(two.state_dict()[name], value, rtol=0, atol=1e-9, err_msg=name)


def test_training_reports_every_step_to_its_callbacks(corpus):
    """What a progress bar needs: the length of the run before it starts, then each step's loss."""
    seen = {"steps": []}

    class Recorder(numrnn.callbacks.Callback):
        def set_params(self, params):
            seen["params"] = params

        def on_batch_end(self, batch, logs=None):
            seen["steps"].append((batch, logs["loss"], logs["smoothed_loss"]))

        def on_train_end(self, logs=None):
            seen["ended"] = True

    _, history = charlm.train(corpus.read_text(encoding="utf-8"), log=None, callbacks=[Recorder()],
                              **{**TINY, "epochs": 1, "val_every": 1e9})
    assert seen["params"]["epochs"] == 1 and seen["params"]["time_budget"] is None
    assert [step for step, _, _ in seen["steps"]] == list(range(history["final"]["steps"]))
    assert len(seen["steps"]) == seen["params"]["steps"] and seen["ended"]
    assert all(math.isfinite(loss) and math.isfinite(smoothed) for _, loss, smoothed in seen["steps"])


def test_the_learning_rate_follows_the_schedule_to_its_floor(corpus):
    """lr x Schedule("linear", floor=min_lr_fraction)(progress): at the end of the epochs, close to the floor."""
    _, history = charlm.train(corpus.read_text(encoding="utf-8"), log=None, lr=0.01, min_lr_fraction=0.25,
                              **{**TINY, "epochs": 2, "val_every": 1e9})
    last = history["validation"][-1]
    steps_per_pass = history["final"]["steps"] // 2
    progress = (history["final"]["steps"] - 1) / (2 * steps_per_pass)  # the last step's, in characters seen
    assert last["lr"] == pytest.approx(0.01 * numrnn.schedules.Schedule("linear", floor=0.25)(progress), rel=0.05)


def test_evaluation_on_worker_threads_is_the_same_figure(trained, corpus):
    from concurrent.futures import ThreadPoolExecutor

    model = numrnn.load(trained / "model.npz")
    _, val = charlm.split_ids(charlm.encode(corpus.read_text(encoding="utf-8"), model.vocab))
    alone = charlm.evaluate_ids(model, val, streams=6, warmup=20)
    with ThreadPoolExecutor(2) as pool:
        shared = charlm.evaluate_ids(model, val, streams=6, warmup=20, replicas=[model, model.clone()], pool=pool)
    assert shared == pytest.approx(alone, rel=1e-6)


# -- sampling ----------------------------------------------------------------------------------------------------------

def test_sampling_is_reproducible_with_a_seed(trained):
    model = numrnn.load(trained / "model.npz")
    first = charlm.generate(model, 60, temperature=1.0, prime="First", seed=7)
    assert len(first) == 60 and set(first) <= set(model.vocab)
    assert charlm.generate(model, 60, temperature=1.0, prime="First", seed=7) == first
    assert charlm.generate(model, 60, temperature=1.0, prime="First", seed=8) != first


def test_temperature_zero_is_greedy(trained):
    model = numrnn.load(trained / "model.npz")
    greedy = charlm.generate(model, 5, temperature=0, prime="First", seed=1)
    assert charlm.generate(model, 5, temperature=0, prime="First", seed=2) == greedy
    context = "First"
    for character in greedy:  # each character is the argmax of predict on everything before it
        probs = model.predict(charlm.encode(context, model.vocab)[None, :])
        assert model.vocab[int(np.argmax(probs[0, -1]))] == character
        context += character


def test_sampling_leaves_the_models_state_as_it_was(trained):
    """The model is saved as trained, stateful (stateful is part of a layer's config); sampling reads in chunks
    from zeros and gives the layers back their flag and carried state."""
    model = numrnn.load(trained / "model.npz")
    recurrent = model.layers[1]
    assert recurrent.stateful is True and recurrent.carried_state is None
    charlm.generate(model, 5, prime="F")
    assert recurrent.stateful is True and recurrent.carried_state is None
