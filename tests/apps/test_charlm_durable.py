"""The character model's training is a function of its seed and options: with worker threads and dropout, two runs
give the same weights (each worker draws its masks from its own generator)."""
import numpy as np

from numrnn.apps import charlm
from numrnn.apps.charlm.workers import Workers

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
