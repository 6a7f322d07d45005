"""Sequential: layers in a row, a loss and an optimizer; one training step in two public halves.

    loss = model.compute_gradients(x, y)      forward, loss, backward: every layer's `grads` set, no weight moved
    model.apply_gradients()                   clip_grad_value / clip_grad_norm, then optimizer.step(params, grads)

is the whole of what the tutorials' training loops do, and the only way numrnn trains: `train_on_batch` is the
two halves and the step's metrics, `fit` (numrnn.training) loops over mini-batches of it, and the character
model's trainer runs `compute_gradients` on several copies side by side before one `apply_gradients`.
Inside, a batch with a time axis runs time-major (converted once at the boundary):

    output = layer_n(... layer_1(x))          loss = loss.forward(output, y, mask)    mask: padded positions out
    grad = loss.backward();  grad = layer.backward(grad) for each layer, last to first

Padding: `lengths` (batch,) or `mask` (batch, time) booleans (never both), and a first layer that makes a mask of
its input (produces_mask: Embedding(mask_zero=True)); one (batch, time) mask of the real steps, where all say so
(numrnn.sequences.input_mask), goes to every recurrent layer and to the loss, which ignores padded positions.

Parameters and gradients are gathered under torch's Sequential names ("0.weight_ih_l0", "1.weight") as
references to the layers' own arrays, so the optimizer updates the layers in place. Every public method that runs
the model enters numrnn.threads' policy for its batch.
"""
import contextlib
import math

import numpy as np

from . import threads
from .architecture import clone_model, model_config, model_from_config
from ._validate import check_finite, check_positive_float, check_positive_int
from .layers import modes
from .layers.base import Layer
from .losses import get_loss
from .metrics import METRICS, BatchMean, check_metrics
from .module import as_numpy, check_state_names
from .optimizers import get_optimizer
from .sequences import input_mask
from .shapes import check_chain, output_shape, return_sequences_hint
from .summary import summary_table
from .weights import position_weights
from .update import apply_gradients


class Sequential:
    """Sequential(layers, *, loss=None, optimizer=None, clip_norm=None, clip_value=None, metrics=None)."""

    def __init__(self, layers=None, *, loss=None, optimizer=None, clip_norm=None, clip_value=None, metrics=None):
        self.layers = []
        for layer in layers or []:
            self.add(layer)
        self.loss = self.optimizer = self.clip_norm = self.clip_value = None
        #: metric names reported beside the loss (numrnn.metrics; a classifier's accuracy always is)
        self.metrics = []
        self.compile(loss=loss, optimizer=optimizer, clip_norm=clip_norm, clip_value=clip_value, metrics=metrics)
        #: for character models: the characters in id order (saved with the model)
        self.vocab = None
        #: JSON-able facts an application keeps with the model (saved with it): a task's settings, a scaling
        self.extra = {}
        #: a callback sets this to True to end fit after the current batch
        self.stop_training = False
        self._params = self._grads = None
        self._time_major = False
        self._last = None  # (output, y, mask) of the last compute_gradients, for train_on_batch's metrics

    # -- building ------------------------------------------------------------------------------------------------
    def add(self, layer):
        """Append a layer after checking that its input matches the previous layer's output."""
        if not isinstance(layer, Layer):
            raise TypeError(f"layer must be a numrnn layer, got {type(layer).__name__}")
        check_chain(self.layers, layer)
        self.layers.append(layer)
        self._params = self._grads = None
        return self

    def compile(self, loss=None, optimizer=None, clip_norm=None, clip_value=None, metrics=None):
        """Set (or replace) the loss, optimizer, clipping and metrics, as Keras's compile does; None keeps the
        current."""
        if metrics is not None:
            self.metrics = check_metrics(metrics)
        if loss is not None:
            self.loss = get_loss(loss)
        if optimizer is not None:
            self.optimizer = get_optimizer(optimizer)
        if clip_norm is not None:
            self.clip_norm = check_positive_float("clip_norm", clip_norm)
        if clip_value is not None:
            self.clip_value = check_positive_float("clip_value", clip_value)
        return self

    def _symbolic_output_shape(self, input_shape=None):
        return output_shape(self.layers, input_shape)

    @property
    def dtype(self):
        return self.layers[0].dtype if self.layers else np.float32

    @property
    def params(self):
        """Every parameter under torch's Sequential names; the arrays are the layers' own."""
        if self._params is None:
            self._params = {f"{i}.{n}": p for i, layer in enumerate(self.layers) for n, p in layer.params.items()}
            self._grads = {f"{i}.{n}": g for i, layer in enumerate(self.layers) for n, g in layer.grads.items()}
        return self._params

    @property
    def grads(self):
        self.params  # noqa: B018 (builds both dicts)
        return self._grads

    def num_parameters(self):
        return sum(layer.num_parameters() for layer in self.layers)

    def train(self, mode=True):
        for layer in self.layers:
            layer.train(mode)
        return self

    def eval(self):
        return self.train(False)

    # -- forward and backward --------------------------------------------------------------------------------------
    def _is_sequence_input(self, x):
        """A batch with a time axis is carried time-major through the layers (converted here, once)."""
        rank = self.layers[0].sequence_rank
        return rank is not None and x.ndim == rank

    def forward(self, x, lengths=None, initial_state=None, mask=None):
        """Run the layers on a checked batch; the output is time-major if the input had a time axis.
        initial_state: one entry per layer, h0 for a recurrent layer (None elsewhere). lengths or mask: the real
        steps, as step_mask takes them."""
        self._time_major = self._is_sequence_input(x)
        mask = self.step_mask(x, lengths, mask)
        out = np.ascontiguousarray(np.swapaxes(x, 0, 1)) if self._time_major else x
        for index, layer in enumerate(self.layers):
            kwargs = {}
            if layer.takes_time_major:
                kwargs["time_major"] = self._time_major
            if layer.takes_lengths and mask is not None:
                kwargs["mask"] = mask
            if initial_state is not None and initial_state[index] is not None:
                kwargs["h0"] = initial_state[index]
            out = layer.forward(out, **kwargs)
        return out

    def backward(self, grad):
        for index in reversed(range(len(self.layers))):
            grad = self.layers[index].backward(grad, need_input_grad=index > 0)

    @property
    def _sequence_output(self):
        return self._time_major and len(self._symbolic_output_shape()) >= 3

    def _in_output_layout(self, y, mask, weights=None):
        """Targets batch-first -> the output's layout (time-major for sequence outputs), with the mask of the
        positions with a target (see _target_mask) and their weights in that layout."""
        target_mask = self._target_mask(mask)
        if not self._sequence_output:
            return y, target_mask, weights
        return (np.swapaxes(y, 0, 1), None if target_mask is None else target_mask.T,
                None if weights is None else weights.T)

    def _target_mask(self, mask):
        """Which targets are real, batch-first, given the step mask: the real steps for a sequence output, else the
        sequences with a real step (an empty sequence has no target); None for all."""
        if mask is None or len(self._symbolic_output_shape()) >= 3:
            return mask
        kept = mask.any(axis=1)
        return None if kept.all() else kept

    def _batch(self, x, y, lengths, mask, checked):
        """(x, y, the step mask): through check_data, or with checked=True as they are, lengths made a mask."""
        return self.check_data(x, y, lengths, mask) if not checked else (x, y, self.step_mask(x, lengths, mask))

    def step_mask(self, x, lengths=None, mask=None, names=("X", "lengths", "mask")):
        """The real steps of batch x (batch, time, ...): (batch, time) booleans, None when every step is real. From
        lengths or mask (not both), and the first layer's own mask of x where it makes one (produces_mask:
        Embedding(mask_zero=True)): a step is real where all say so (numrnn.sequences.input_mask)."""
        return input_mask(self.layers[0], x, lengths, mask, names)

    # -- one training step in two halves -------------------------------------------------------------------------
    def compute_gradients(self, x, y, lengths=None, mask=None, *, sample_weight=None, checked=False):
        """Forward, loss and backward on one batch: every layer's `grads` hold dL/dparam, no weight changes.
        Returns the loss (a float). lengths (batch,) or mask (batch, time) booleans: the real steps (not both);
        padded positions have no target and take no gradient. sample_weight: a weight per sample or per position
        (numrnn.weights). checked=True: (x, y, mask) came from check_data and sample_weight from check_weights,
        and are used as they are."""
        self._require("loss")
        x, y, mask = self._batch(x, y, lengths, mask, checked)
        weights = sample_weight if checked else self.check_weights(y, sample_weight)
        _require_targets(self.target_positions(x, mask=mask))
        # a diverging step overflows on its way: the guard reports it (train_on_batch, apply_gradients), not NumPy
        with threads.for_model(self, x.shape[0]), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self.train()
            output = self.forward(x, mask=mask)
            y_layout, loss_mask, weights = self._in_output_layout(y, mask, weights)
            loss = self.loss.forward(output, y_layout, mask=loss_mask, checked=True, weights=weights)
            self._last = (output, y_layout, loss_mask)
            self.backward(self.loss.backward())
        return float(loss)

    def apply_gradients(self):
        """Clip the gradients (clip_value, then clip_norm) and let the optimizer step; returns the gradient norm
        before clipping. With the divergence guard: a non-finite gradient norm, or a step that overflows a weight
        (undone exactly), raises FloatingPointError (numrnn.update.apply_gradients)."""
        self._require("optimizer")
        return apply_gradients(self.params, self.grads, self.optimizer, self.clip_value, self.clip_norm)

    def train_on_batch(self, x, y, lengths=None, mask=None, *, sample_weight=None, checked=False):
        """One step of gradient descent on (x, y); returns {"loss", the metrics, "grad_norm"}. A loss that is not
        finite raises FloatingPointError before any weight moves (see apply_gradients)."""
        self._require("optimizer")
        loss = self.compute_gradients(x, y, lengths, mask, sample_weight=sample_weight, checked=checked)
        if not math.isfinite(loss):
            raise FloatingPointError(f"the loss is {loss}; no step was taken, the weights are those from before it")
        logs = {"loss": loss, **self._metrics(*self._last)}
        logs["grad_norm"] = self.apply_gradients()
        return logs

    def test_on_batch(self, x, y, lengths=None, mask=None, *, sample_weight=None, checked=False):
        """The loss and the metrics on one batch, without changing anything."""
        self._require("loss")
        x, y, mask = self._batch(x, y, lengths, mask, checked)
        weights = sample_weight if checked else self.check_weights(y, sample_weight)
        _require_targets(self.target_positions(x, mask=mask))
        with threads.for_model(self, x.shape[0]):
            self.eval()
            with self.inference():
                output = self.forward(x, mask=mask)
            y_layout, loss_mask, weights = self._in_output_layout(y, mask, weights)
            logs = {"loss": float(self.loss.forward(output, y_layout, mask=loss_mask, checked=True,
                                                    weights=weights))}
            logs.update(self._metrics(output, y_layout, loss_mask))
        return logs

    def _metrics(self, output, y, mask):
        names = (["accuracy"] if self.loss.is_classification else []) + self.metrics
        return {name: METRICS.get(name)(self.loss, output, y, mask) for name in dict.fromkeys(names)}

    # -- whole datasets --------------------------------------------------------------------------------------------
    def fit(self, X, y, epochs=1, batch_size=32, validation_data=None, shuffle=True, seed=None, lengths=None,
            callbacks=None, verbose=False, mask=None, *, validation_split=None, sample_weight=None,
            class_weight=None):
        """Train for `epochs` passes over (X, y) in mini-batches; returns a History. See numrnn.training.fit."""
        from .training import fit
        return fit(self, X, y, epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                   shuffle=shuffle, seed=seed, lengths=lengths, mask=mask, callbacks=callbacks, verbose=verbose,
                   validation_split=validation_split, sample_weight=sample_weight, class_weight=class_weight)

    def evaluate(self, X, y, batch_size=256, lengths=None, mask=None, *, sample_weight=None, checked=False):
        """{"loss": ..., metrics: ...} over the whole dataset, averaged over every position with a target."""
        self._require("loss")
        batch_size = check_positive_int("batch_size", batch_size)
        X, y, mask = self._batch(X, y, lengths, mask, checked)
        weights = sample_weight if checked else self.check_weights(y, sample_weight)
        mean = self.batch_mean()
        with threads.for_model(self, min(batch_size, X.shape[0])):
            for start in range(0, X.shape[0], batch_size):
                part = slice(start, start + batch_size)
                part_mask = None if mask is None else mask[part]
                positions = self.target_positions(X[part], mask=part_mask)
                if positions:  # a batch of empty sequences has no target and weighs nothing
                    with self.streaming():  # every batch from zeros, as predict
                        logs = self.test_on_batch(X[part], y[part], mask=part_mask, checked=True,
                                                  sample_weight=None if weights is None else weights[part])
                        mean.add(logs, positions)
        if not mean.weight:
            raise ValueError("nothing to evaluate: every sequence is empty (its lengths are 0 or its mask all False)")
        return mean.result()

    def batch_mean(self):
        """A numrnn.metrics.BatchMean for this model's loss: a dataset's logs from its batches'."""
        return BatchMean(summed=("loss",) if self.loss.reduction == "sum" else ())

    def target_positions(self, x, lengths=None, mask=None):
        """How many positions of batch x have a target: its weight in a dataset's mean loss."""
        target_mask = self._target_mask(self.step_mask(x, lengths, mask))
        if target_mask is not None:
            return int(np.count_nonzero(target_mask))
        sequence_output = self._is_sequence_input(x) and len(self._symbolic_output_shape()) >= 3
        return x.shape[0] * x.shape[1] if sequence_output else x.shape[0]

    def predict(self, X, batch_size=256, lengths=None, chunk_size=1024, mask=None):
        """The model's output for X, batch-first: probabilities for classification losses, values otherwise.

        Every batch starts from zeros (a stateful layer's carried state is left as it was). Long sequences run in
        chunks of `chunk_size` steps with the state carried from one chunk to the next, so memory stays bounded
        whatever the length (a whole validation text in one call); the result is that of one pass. Models with a
        bidirectional layer, or given lengths or a mask, run in one pass. Outputs at padded steps are those of a
        zero output of the recurrent layers: ignore them.
        """
        self._require("layers")
        batch_size = check_positive_int("batch_size", batch_size)
        chunk_size = check_positive_int("chunk_size", chunk_size)
        X = self.layers[0].check_input("X", X, finite=False)
        mask = self.step_mask(X, lengths, mask) if lengths is not None or mask is not None else None
        check_finite("X", X, where=mask)  # padding may hold anything
        chunked = (self._is_sequence_input(X) and mask is None and X.shape[1] > chunk_size
                   and all(layer.can_stream for layer in self.layers))
        outputs = []
        self.eval()
        with threads.for_model(self, min(batch_size, X.shape[0])), self.inference():
            for start in range(0, X.shape[0], batch_size):
                part = X[start:start + batch_size]
                with self.streaming():  # every batch from zeros, a stateful layer's carried state left as it was
                    if not chunked:
                        part_mask = None if mask is None else mask[start:start + batch_size]
                        outputs.append(self.prediction(self.forward(part, mask=part_mask)))
                        continue
                    pieces = [self.prediction(self.forward(part[:, begin:begin + chunk_size]))
                              for begin in range(0, X.shape[1], chunk_size)]
                outputs.append(np.concatenate(pieces, axis=1))
        return outputs[0] if len(outputs) == 1 else np.concatenate(outputs, axis=0)  # each a copy of its own

    def prediction(self, output):
        """A forward's output as predict returns it: through the loss's predict (probabilities), batch-first."""
        if self.loss is not None:
            output = self.loss.predict(output)
        return np.array(np.swapaxes(output, 0, 1) if self._sequence_output else output, copy=True)

    @contextlib.contextmanager
    def inference(self):
        """Forward only inside (predict, evaluate, sampling): numrnn.layers.modes.inference over the layers."""
        with modes.inference(self.layers):
            yield self

    @contextlib.contextmanager
    def streaming(self):
        """The recurrent layers run statefully from zeros inside, as they were after (numrnn.layers.modes)."""
        with modes.streaming(self.layers):
            yield self

    def reset_states(self):
        """Forget the state carried by stateful recurrent layers (truncated BPTT over consecutive chunks)."""
        modes.reset_states(self.layers)

    # -- checks ----------------------------------------------------------------------------------------------------
    def check_ready(self, training=False):
        """Raise a ValueError saying what is missing (layers, a loss, for training an optimizer) before any work."""
        self._require("optimizer" if training else "loss")

    def _require(self, what):
        if not self.layers:
            raise ValueError("the model has no layers; add some with add(layer)")
        if what in ("loss", "optimizer") and self.loss is None:
            raise ValueError("the model has no loss: pass loss=... to Sequential or compile()")
        if what == "optimizer" and self.optimizer is None:
            raise ValueError("the model has no optimizer: pass optimizer=... to Sequential or compile()")

    def check_data(self, X, y, lengths=None, mask=None, names=("X", "y", "lengths", "mask")):
        """(X, y, mask) validated and converted once, before any work: ranks, sizes, NaN/inf, class ranges,
        matching lengths or mask (not both; step_mask joins them with the first layer's own mask into one
        (batch, time) mask, or None). What it returns may go to compute_gradients, train_on_batch, test_on_batch
        and evaluate with checked=True, its mask as mask=. Targets at padded steps are never read: they may hold
        anything and come back as 0."""
        self._require("loss")
        X = self.layers[0].check_input(names[0], X, finite=False)
        y_array = as_numpy(y)
        if y_array.ndim == 0 or y_array.shape[0] != X.shape[0]:
            got = "a scalar" if y_array.ndim == 0 else f"{y_array.shape[0]} samples"
            raise ValueError(f"{names[0]} and {names[1]} must have the same number of samples: "
                             f"{names[0]} has {X.shape[0]}, {names[1]} has {got}")
        self._time_major = self._is_sequence_input(X)
        output_shape = self._symbolic_output_shape(tuple(X.shape))
        mask = self.step_mask(X, lengths, mask, names[:1] + names[2:])
        check_finite(names[0], X, where=mask)  # padding may hold anything
        try:
            y_checked = self.loss.check_target(y_array, output_shape, mask=self._target_mask(mask), dtype=self.dtype)
        except (ValueError, TypeError) as error:
            message = str(error)
            message = message.replace("y ", f"{names[1]} ", 1) if names[1] != "y" else message
            raise type(error)(message + return_sequences_hint(output_shape, y_array.shape)) from None
        return X, y_checked, mask

    def check_weights(self, y, sample_weight=None, class_weight=None, names=("sample_weight", "class_weight")):
        """Keras's sample_weight and class_weight for checked targets y as one weight per target position
        (batch-first), or None (numrnn.weights)."""
        positions = y.shape if self.loss.name == "cross_entropy" and y.dtype.kind in "iu" else y.shape[:-1]
        return position_weights(self.loss, y, positions, sample_weight, class_weight, names)

    # -- inspection, copies and persistence ------------------------------------------------------------------------
    def summary(self, print_fn=print):
        """A table of layers, output shapes and parameter counts (numrnn.summary); returns it as a string too."""
        text = summary_table(self)
        if print_fn is not None:
            print_fn(text)
        return text

    def state_dict(self):
        """Every parameter, copied, under torch's Sequential names ("0.weight_ih_l0", "1.weight")."""
        return {name: value.copy() for name, value in self.params.items()}

    def load_state_dict(self, state):
        """Load parameters after checking every name and shape; nothing changes if anything is wrong."""
        check_state_names(state, self.params, "state dict")
        for name, value in state.items():
            if as_numpy(value).shape != self.params[name].shape:
                raise ValueError(f"state dict entry {name!r} must have shape {self.params[name].shape}, "
                                 f"got {as_numpy(value).shape}")
        per_layer = [{} for _ in self.layers]
        for name, value in state.items():
            index, param = name.split(".", 1)
            per_layer[int(index)][param] = value
        for layer, entries in zip(self.layers, per_layer):
            layer.load_state_dict(entries)
        return self

    def config(self):
        """The architecture, loss, optimizer, clipping, metrics and vocabulary as a JSON-able dict (numrnn.load
        reads it; numrnn.architecture)."""
        return model_config(self)

    @classmethod
    def from_config(cls, config):
        """A new model (fresh weights, fresh optimizer) of what config() described."""
        return model_from_config(cls, config)

    def clone(self):
        """The same architecture, weights, loss, clipping, metrics, vocabulary and extra; a fresh optimizer."""
        return clone_model(self)

    def save(self, path, extra=None):
        """Write an .npz: the weights, the architecture as JSON and the optimizer's state, atomically.
        extra: JSON-able facts to keep with the model (default: self.extra)."""
        from .io.format import write_model
        write_model(path, self, self.extra if extra is None else extra)

    def __repr__(self):
        return f"Sequential({self.layers!r})"


def _require_targets(positions):
    if positions == 0:
        raise ValueError("the batch has no target: every sequence is empty (its lengths are 0 or its mask all False)")
