"""Data parallelism on threads: the gradient of one batch of streams, computed in shares side by side.

The B streams are split into `count` shares. The model and count - 1 copies of it (model.clone()) each run
compute_gradients on their share of every chunk, on a thread pool (NumPy releases the GIL in its products). The
batch's gradient is the shares' gradients averaged with weights n_k / B (each share's loss is its own mean), put
into the model's `grads`; the model's apply_gradients then clips and steps once, and `sync` copies the new weights
into the copies. One worker is the model alone, with no pool.

Each worker's layers that draw dropout masks get their own generator, seeded from the run's seed, the worker's
index and the layer's: no two threads ever draw from one generator, so the masks, and the whole training, are a
function of the seed (numrnn's global generator, shared by threads, would be drawn from in a racing order).
The generators' states and each worker's carried recurrent state are the trainer's to save and restore (exact
resume).
"""
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .corpus import iterate_chunks

__all__ = ["Workers"]


class Workers:
    """The model and its copies, each with its share of the streams (inputs, targets: (B, n) ids, checked)."""

    def __init__(self, model, inputs, targets, count, seed=0):
        count = min(count, inputs.shape[0])
        self._rows = np.array_split(np.arange(inputs.shape[0]), count)
        #: each worker's fraction of the streams: its weight in the batch's gradient and loss
        self.shares = [len(r) / inputs.shape[0] for r in self._rows]
        self.set_streams(inputs, targets)
        self.model = model
        self.models = [model] + [model.clone() for _ in range(count - 1)]
        self.pool = ThreadPoolExecutor(count, thread_name_prefix="numrnn-text") if count > 1 else None
        for worker_index, worker in enumerate(self.models):
            for layer_index, layer in enumerate(worker.layers):
                if hasattr(layer, "generator"):
                    layer.generator = np.random.default_rng([int(seed) % 2 ** 63, worker_index, layer_index])

    def set_streams(self, inputs, targets):
        """Read these streams from now on (a new pass's, shaped as the first): each worker takes its share."""
        self.parts = [(np.ascontiguousarray(inputs[r]), np.ascontiguousarray(targets[r])) for r in self._rows]

    def split(self, x, y):
        """A batch (x, y) (B, steps) as chunk() gives one: each worker's share of the rows."""
        return tuple((np.ascontiguousarray(x[r]), np.ascontiguousarray(y[r])) for r in self._rows)

    @property
    def count(self):
        return len(self.models)

    def chunks(self, steps):
        """Per chunk of `steps` columns, in order: one (x, y) per worker, its share of the chunk."""
        return zip(*(iterate_chunks(x, y, steps) for x, y in self.parts))

    def chunk_count(self, steps):
        return -(-self.parts[0][0].shape[1] // steps)

    def chunk(self, index, steps):
        """Chunk `index` of `steps` columns: one (x, y) per worker."""
        window = slice(index * steps, (index + 1) * steps)
        return tuple((x[:, window], y[:, window]) for x, y in self.parts)

    def compute_gradients(self, chunk):
        """The batch's loss; its gradient is left in the model's `grads` (no weight moves)."""
        if self.pool is None:
            x, y = chunk[0]
            return self.model.compute_gradients(x, y, checked=True)
        futures = [self.pool.submit(worker.compute_gradients, x, y, checked=True)
                   for worker, (x, y) in zip(self.models, chunk)]
        losses = [future.result() for future in futures]
        for name, grad in self.model.grads.items():  # the batch's gradient: the shares' means, weighted
            grad *= self.shares[0]
            for worker, share in zip(self.models[1:], self.shares[1:]):
                grad += share * worker.grads[name]
        return sum(share * value for share, value in zip(self.shares, losses))

    def sync(self):
        """Copy the model's weights into the copies (after each step)."""
        weights = self.model.params
        for worker in self.models[1:]:
            for name, value in worker.params.items():
                np.copyto(value, weights[name])

    def reset_states(self):
        """Every worker's recurrent layers start the next chunk from zeros (a new pass over the streams)."""
        for worker in self.models:
            worker.reset_states()

    def generator_states(self):
        """[{layer index: its generator's state}] per worker (JSON-able)."""
        return [{str(index): layer.generator.bit_generator.state for index, layer in enumerate(worker.layers)
                 if getattr(layer, "generator", None) is not None} for worker in self.models]

    def set_generator_states(self, states):
        for worker, layers in zip(self.models, states, strict=True):
            for index, state in layers.items():
                worker.layers[int(index)].generator.bit_generator.state = state

    def carried_states(self):
        """[[each layer's carried state (None, an array, or a list of arrays for an LSTM's (h, c))]] per worker."""
        return [[_as_list(getattr(layer, "carried_state", None)) for layer in worker.layers]
                for worker in self.models]

    def set_carried_states(self, states):
        for worker, layers in zip(self.models, states, strict=True):
            for layer, state in zip(worker.layers, layers, strict=True):
                if hasattr(layer, "carried_state"):
                    layer.carried_state = tuple(state) if isinstance(state, list) else state

    def close(self):
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None


def _as_list(state):
    return list(state) if isinstance(state, tuple) else state
