"""Sequential: layers in a row, a loss and an optimizer, trained with fit and used with evaluate and predict.

One training step (train_on_batch), the whole of what the tutorials' training loops do:

    output = layer_n(... layer_1(x))          forward, time-major inside (converted once at the boundary)
    loss   = loss.forward(output, y, mask)     mask: the positions that have a target (variable lengths)
    grad   = loss.backward()
    grad   = layer.backward(grad) for each layer, last to first; each layer sets its `grads`
    clip_grad_norm / clip_grad_value           optional, between backward and the update
    optimizer.step(params, grads)              the only place where a weight changes

Parameters and gradients are gathered under torch's Sequential names ("0.weight_ih_l0", "1.weight") as
references to the layers' own arrays, so the optimizer updates the layers in place.
"""
import contextlib

import numpy as np

from ._validate import as_index_array, check_positive_float, check_positive_int
from .clipping import clip_grad_norm, clip_grad_value
from .layers.base import Layer
from .module import as_numpy, check_state_names
from .losses import get_loss
from .optimizers import get_optimizer
from .random import get_rng


class History:
    """What fit returns: `history` maps "loss", "accuracy", "val_loss", "val_accuracy" to per-epoch lists."""

    def __init__(self):
        self.history = {}
        self.epoch = []

    def append(self, epoch, logs):
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self):
        last = {k: round(v[-1], 6) for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"


class Sequential:
    """Sequential(layers, loss="cross_entropy", optimizer="adam", clip_norm=None, clip_value=None)."""

    def __init__(self, layers=None, loss=None, optimizer=None, clip_norm=None, clip_value=None):
        self.layers = []
        for layer in layers or []:
            self.add(layer)
        self.loss = None if loss is None else get_loss(loss)
        self.optimizer = None if optimizer is None else get_optimizer(optimizer)
        self.clip_norm = None if clip_norm is None else check_positive_float("clip_norm", clip_norm)
        self.clip_value = None if clip_value is None else check_positive_float("clip_value", clip_value)
        #: for character models: the characters in id order (saved with the model)
        self.vocab = None

    # -- building ------------------------------------------------------------------------------------------------
    def add(self, layer):
        """Append a layer after checking that its input matches the previous layer's output."""
        if not isinstance(layer, Layer):
            raise TypeError(f"layer must be a numrnn layer, got {type(layer).__name__}")
        if self.layers:
            shape = self._output_shape_symbolic()
            rank, features = layer.input_spec()
            index = len(self.layers)
            previous = self.layers[-1].__class__.__name__
            if features is not None and shape[-1] is not None and shape[-1] != features:
                raise ValueError(f"layers do not chain: layer {index} ({layer.__class__.__name__}) expects "
                                 f"{features} input features, but layer {index - 1} ({previous}) gives {shape[-1]}")
            if rank is not None and len(shape) != rank:
                raise ValueError(f"layers do not chain: layer {index} ({layer.__class__.__name__}) expects input of "
                                 f"rank {rank}, but layer {index - 1} ({previous}) gives rank {len(shape)} "
                                 f"(set return_sequences=True on it to keep the time axis)")
        if layer.dtype != (self.layers[0].dtype if self.layers else layer.dtype):
            raise ValueError(f"all layers must share one dtype: layer 0 is {np.dtype(self.layers[0].dtype).name}, "
                             f"the new layer {np.dtype(layer.dtype).name}")
        self.layers.append(layer)
        self._params = self._grads = None
        return self

    def compile(self, loss=None, optimizer=None, clip_norm=None, clip_value=None):
        """Set (or replace) the loss, optimizer and clipping, as Keras's compile does."""
        if loss is not None:
            self.loss = get_loss(loss)
        if optimizer is not None:
            self.optimizer = get_optimizer(optimizer)
        if clip_norm is not None:
            self.clip_norm = check_positive_float("clip_norm", clip_norm)
        if clip_value is not None:
            self.clip_value = check_positive_float("clip_value", clip_value)
        return self

    def _input_shape_symbolic(self):
        rank, features = self.layers[0].input_spec()
        rank = rank or 2
        return (None,) * (rank - 1) + ((features,) if rank >= 1 else ())

    def _output_shape_symbolic(self, input_shape=None):
        shape = input_shape or self._input_shape_symbolic()
        for layer in self.layers:
            shape = tuple(layer.output_shape(shape))
        return shape

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

    # -- the forward and backward passes ---------------------------------------------------------------------------
    def _is_sequence_input(self, x):
        """A batch with a time axis is carried time-major through the layers (converted here, once)."""
        rank = getattr(self.layers[0], "sequence_rank", None)
        return rank is not None and x.ndim == rank

    def forward(self, x, lengths=None, initial_state=None):
        """Run the layers on a validated batch; returns the output time-major if the input had a time axis."""
        self._time_major = self._is_sequence_input(x)
        out = np.ascontiguousarray(np.swapaxes(x, 0, 1)) if self._time_major else x
        states = list(initial_state) if initial_state is not None else None
        for index, layer in enumerate(self.layers):
            kwargs = {}
            if getattr(layer, "takes_time_major", False):
                kwargs["time_major"] = self._time_major
            if getattr(layer, "takes_lengths", False) and lengths is not None:
                kwargs["lengths"] = lengths
            if states is not None and hasattr(layer, "state_names"):
                kwargs["h0"] = states[index]
            out = layer.forward(out, **kwargs)
        return out

    def backward(self, grad):
        for index in reversed(range(len(self.layers))):
            grad = self.layers[index].backward(grad, need_input_grad=index > 0)

    def _to_output_layout(self, y):
        """Targets (and masks) batch-first -> the layout of the output (time-major for sequence outputs)."""
        if y is None or not self._sequence_output:
            return y
        return np.swapaxes(y, 0, 1)

    @property
    def _sequence_output(self):
        return self._time_major and len(self._output_shape_symbolic()) >= 3

    def _position_mask(self, lengths, steps):
        if lengths is None or not self._sequence_output:
            return None
        return np.arange(steps)[:, None] < lengths[None, :]

    # -- training and evaluation on one batch ----------------------------------------------------------------------
    def train_on_batch(self, x, y, lengths=None):
        """One step of gradient descent on (x, y); returns {"loss": ..., "accuracy": ...} (accuracy if classifying)."""
        self._require_compiled()
        x, y, lengths = self._check_data(x, y, lengths)
        return self._train_step(x, y, lengths)

    def _train_step(self, x, y, lengths):
        self.train()
        output = self.forward(x, lengths)
        y_layout = self._to_output_layout(y)
        mask = self._position_mask(lengths, x.shape[1] if x.ndim > 1 else 1)
        loss = self.loss.forward(output, y_layout, mask=mask, checked=True)
        logs = {"loss": float(loss)}
        if self.loss.is_classification:
            logs["accuracy"] = float(self.loss.accuracy(output, y_layout, mask=mask, checked=True))
        self.backward(self.loss.backward())
        if self.clip_value is not None:
            clip_grad_value(self.grads, self.clip_value)
        if self.clip_norm is not None:
            logs["grad_norm"] = float(clip_grad_norm(self.grads, self.clip_norm))
        self.optimizer.step(self.params, self.grads)
        return logs

    def test_on_batch(self, x, y, lengths=None):
        """Loss (and accuracy) on one batch, without changing anything."""
        self._require_loss()
        x, y, lengths = self._check_data(x, y, lengths)
        return self._test_step(x, y, lengths)

    def _test_step(self, x, y, lengths):
        self.eval()
        with self.inference():
            output = self.forward(x, lengths)
        y_layout = self._to_output_layout(y)
        mask = self._position_mask(lengths, x.shape[1] if x.ndim > 1 else 1)
        logs = {"loss": float(self.loss.forward(output, y_layout, mask=mask, checked=True))}
        if self.loss.is_classification:
            logs["accuracy"] = float(self.loss.accuracy(output, y_layout, mask=mask, checked=True))
        return logs

    # -- whole datasets --------------------------------------------------------------------------------------------
    def fit(self, X, y, epochs=1, batch_size=32, validation_data=None, shuffle=True, seed=None, lengths=None,
            callbacks=None, verbose=False):
        """Train for `epochs` passes over (X, y) in mini-batches; returns a History.

        validation_data: (X_val, y_val) or (X_val, y_val, lengths_val), evaluated after each epoch.
        seed: seeds the shuffling (numrnn's generator if None). callbacks: objects with any of
        on_epoch_begin(epoch), on_batch_end(batch, logs), on_epoch_end(epoch, logs).
        verbose: print one line per epoch.
        """
        self._require_compiled()
        epochs = check_positive_int("epochs", epochs)
        batch_size = check_positive_int("batch_size", batch_size)
        X, y, lengths = self._check_data(X, y, lengths)
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise TypeError("validation_data must be a tuple (X_val, y_val) or (X_val, y_val, lengths_val)")
            val = self._check_data(*validation_data, names=("validation_data[0]", "validation_data[1]",
                                                             "validation_data[2]"))
        rng = np.random.default_rng(seed) if seed is not None else get_rng()
        callbacks = list(callbacks or [])
        history = History()
        count = X.shape[0]
        for epoch in range(epochs):
            _call(callbacks, "on_epoch_begin", epoch)
            order = rng.permutation(count) if shuffle else np.arange(count)
            totals, weight = {}, 0
            for batch, start in enumerate(range(0, count, batch_size)):
                index = order[start:start + batch_size]
                batch_lengths = None if lengths is None else lengths[index]
                logs = self._train_step(X[index], y[index], batch_lengths)
                positions = self._positions(index.size, X.shape[1] if X.ndim > 1 else 1, batch_lengths)
                weight += self._accumulate(totals, logs, positions)
                _call(callbacks, "on_batch_end", batch, logs)
            epoch_logs = self._average(totals, weight)
            if validation_data is not None:
                val_logs = self._evaluate_checked(*val, batch_size=batch_size)
                epoch_logs.update({f"val_{key}": value for key, value in val_logs.items()})
            history.append(epoch, epoch_logs)
            _call(callbacks, "on_epoch_end", epoch, epoch_logs)
            if verbose:
                print(f"epoch {epoch + 1}/{epochs} " + " ".join(f"{k}={v:.6g}" for k, v in epoch_logs.items()))
        return history

    def _positions(self, batch, steps, lengths):
        """How many target positions a batch has, to weight its mean loss in an epoch's average."""
        if not self._sequence_output:
            return batch
        return int(lengths.sum()) if lengths is not None else batch * steps

    def evaluate(self, X, y, batch_size=256, lengths=None):
        """{"loss": ..., "accuracy": ...} over the whole dataset, averaged over every position with a target."""
        self._require_loss()
        batch_size = check_positive_int("batch_size", batch_size)
        X, y, lengths = self._check_data(X, y, lengths)
        return self._evaluate_checked(X, y, lengths, batch_size=batch_size)

    def _evaluate_checked(self, X, y, lengths, batch_size):
        totals, weight = {}, 0
        for start in range(0, X.shape[0], batch_size):
            stop = start + batch_size
            batch_lengths = None if lengths is None else lengths[start:stop]
            logs = self._test_step(X[start:stop], y[start:stop], batch_lengths)
            positions = self._positions(X[start:stop].shape[0], X.shape[1] if X.ndim > 1 else 1, batch_lengths)
            weight += self._accumulate(totals, logs, positions)
        return self._average(totals, weight)

    def _accumulate(self, totals, logs, positions):
        """Add one batch's logs, weighted by its number of target positions, so that a dataset's mean loss is the
        mean over all its positions whatever the batching. A summed loss (reduction="sum") just adds up."""
        for key, value in logs.items():
            if key == "grad_norm":
                continue
            scale = 1 if key == "loss" and self.loss.reduction == "sum" else positions
            totals[key] = totals.get(key, 0.0) + value * scale
        return positions

    def _average(self, totals, weight):
        return {key: value if key == "loss" and self.loss.reduction == "sum" else value / weight
                for key, value in totals.items()}

    def predict(self, X, batch_size=256, lengths=None, chunk_size=1024):
        """The model's output for X, batch-first: probabilities for classification losses, values otherwise.

        Long sequences run in chunks of `chunk_size` steps with the state carried from one chunk to the next, so
        memory stays bounded whatever the length (a whole validation text in one call); the result is the same as
        one pass. Models with a bidirectional layer, or given lengths, run in one pass.
        """
        batch_size = check_positive_int("batch_size", batch_size)
        chunk_size = check_positive_int("chunk_size", chunk_size)
        X = self.layers[0].check_input("X", X)
        lengths = self._check_lengths(lengths, X)
        self.eval()
        recurrent = [layer for layer in self.layers if hasattr(layer, "reset_states")]
        chunked = (self._is_sequence_input(X) and lengths is None and X.shape[1] > chunk_size
                   and all(layer.return_sequences and not layer.bidirectional for layer in recurrent))
        outputs = []
        with self.inference():
            for start in range(0, X.shape[0], batch_size):
                stop = start + batch_size
                if chunked:
                    outputs.append(self._predict_chunked(X[start:stop], chunk_size))
                    continue
                output = self.forward(X[start:stop], None if lengths is None else lengths[start:stop])
                outputs.append(self._prediction(output))
        return np.concatenate(outputs, axis=0)

    @contextlib.contextmanager
    def inference(self):
        """Forward only inside (predict, evaluate, sampling): recurrent layers keep nothing for backward and build
        their derived weight copies once (see Recurrent.inference)."""
        with contextlib.ExitStack() as stack:
            for layer in self.layers:
                if hasattr(layer, "inference"):
                    stack.enter_context(layer.inference())
            yield self

    def _prediction(self, output):
        if self.loss is not None:
            output = self.loss.predict(output)
        output = np.swapaxes(output, 0, 1) if self._sequence_output else output
        return np.array(output, copy=True)

    def _predict_chunked(self, X, chunk_size):
        result = None
        with self._carried_state_from_zeros():
            for begin in range(0, X.shape[1], chunk_size):
                piece = self._prediction(self.forward(X[:, begin:begin + chunk_size]))
                if result is None:
                    result = np.empty((X.shape[0], X.shape[1]) + piece.shape[2:], dtype=piece.dtype)
                result[:, begin:begin + piece.shape[1]] = piece
        return result

    @contextlib.contextmanager
    def _carried_state_from_zeros(self):
        """Run the recurrent layers statefully from zeros inside (each forward carries on from the last one's final
        state), and give them back their mode and carried state afterwards: reading one long sequence in chunks
        (predict, the text model's validation and sampling) without disturbing a training pass's state."""
        layers = [layer for layer in self.layers if hasattr(layer, "reset_states")]
        saved = [(layer.stateful, layer._carried_states) for layer in layers]
        try:
            for layer in layers:
                layer.stateful = True
                layer.reset_states()
            yield self
        finally:
            for layer, (stateful, carried) in zip(layers, saved):
                layer.stateful, layer._carried_states = stateful, carried

    def reset_states(self):
        """Forget the state carried by stateful recurrent layers (truncated BPTT over consecutive chunks)."""
        for layer in self.layers:
            if hasattr(layer, "reset_states"):
                layer.reset_states()

    # -- checks ----------------------------------------------------------------------------------------------------
    def _require_loss(self):
        if not self.layers:
            raise ValueError("the model has no layers; add some with add(layer)")
        if self.loss is None:
            raise ValueError("the model has no loss: pass loss=... to Sequential or compile()")

    def _require_compiled(self):
        self._require_loss()
        if self.optimizer is None:
            raise ValueError("the model has no optimizer: pass optimizer=... to Sequential or compile()")

    def _check_lengths(self, lengths, X, name="lengths"):
        if lengths is None:
            return None
        if X.ndim < 2 or not getattr(self.layers[0], "takes_time_major", False):
            raise ValueError(f"{name} needs sequence input (batch, time, ...), got X of shape {X.shape}")
        lengths = as_index_array(name, lengths, ndim=1)
        if lengths.shape[0] != X.shape[0]:
            raise ValueError(f"{name} must have one entry per sequence: expected {X.shape[0]}, got {lengths.shape[0]}")
        if lengths.min() < 1 or lengths.max() > X.shape[1]:
            raise ValueError(f"{name} must be in [1, {X.shape[1]}], got values from {lengths.min()} to "
                             f"{lengths.max()}")
        return lengths

    def _check_data(self, X, y, lengths=None, names=("X", "y", "lengths")):
        """Validate a dataset once, before any work: ranks, sizes, NaN/inf, class ranges, matching lengths."""
        if not self.layers:
            raise ValueError("the model has no layers; add some with add(layer)")
        X = self.layers[0].check_input(names[0], X)
        y_array = np.asarray(y) if not hasattr(y, "detach") else as_numpy(y)
        if y_array.ndim == 0 or y_array.shape[0] != X.shape[0]:
            got = "a scalar" if y_array.ndim == 0 else f"{y_array.shape[0]} samples"
            raise ValueError(f"{names[0]} and {names[1]} must have the same number of samples: "
                             f"{names[0]} has {X.shape[0]}, {names[1]} has {got}")
        self._time_major = self._is_sequence_input(X)
        output_shape = self._output_shape_symbolic(tuple(X.shape))
        lengths = self._check_lengths(lengths, X, names[2])
        # targets past a sequence's length are never read: they may hold anything (-100, NaN, ...) and come back
        # as zeros, so the steps pass them to the loss as checked
        mask = self._position_mask(lengths, X.shape[1])
        try:
            y_checked = self.loss.check_target(y_array, output_shape, mask=None if mask is None else mask.T,
                                               dtype=self.dtype)
        except (ValueError, TypeError) as error:
            message = str(error)
            raise type(error)(message.replace("y ", f"{names[1]} ", 1) if names[1] != "y" else message) from None
        return X, y_checked, lengths

    # -- inspection and persistence --------------------------------------------------------------------------------
    def summary(self, print_fn=print):
        """A table of layers, output shapes and parameter counts; returns it as a string too."""
        rows = [("#", "layer", "output shape", "params")]
        shape = self._input_shape_symbolic() if self.layers else ()
        for index, layer in enumerate(self.layers):
            shape = tuple(layer.output_shape(shape))
            rows.append((str(index), repr(layer), str(tuple("batch" if s is None and i == 0 else
                                                         ("time" if s is None else s)
                                                         for i, s in enumerate(shape))).replace("'", ""),
                         f"{layer.num_parameters():,}"))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in rows]
        lines.insert(1, "-" * len(lines[0]))
        lines.append(f"total parameters: {self.num_parameters():,}")
        if self.loss is not None:
            lines.append(f"loss: {self.loss.name}" + (f", optimizer: {self.optimizer.config()}" if self.optimizer
                                                       else ""))
        text = "\n".join(lines)
        if print_fn is not None:
            print_fn(text)
        return text

    def state_dict(self):
        """Every parameter, copied, under torch's Sequential names ("0.weight_ih_l0", "1.weight")."""
        return {name: value.copy() for name, value in self.params.items()}

    def load_state_dict(self, state):
        """Load parameters after checking every name and shape; nothing changes if anything is wrong."""
        check_state_names(state, self.params, "state dict")
        per_layer = [{} for _ in self.layers]
        for name, value in state.items():
            index, param = name.split(".", 1)
            per_layer[int(index)][param] = value
        # check everything first so that a bad entry leaves the model untouched
        for index, layer in enumerate(self.layers):
            for param, value in per_layer[index].items():
                array = as_numpy(value)
                if array.shape != layer.params[param].shape:
                    raise ValueError(f"state dict entry '{index}.{param}' must have shape "
                                     f"{layer.params[param].shape}, got {array.shape}")
        for index, layer in enumerate(self.layers):
            layer.load_state_dict(per_layer[index])
        return self

    def config(self):
        return {"layers": [{"class": layer.__class__.__name__, "config": layer.config()} for layer in self.layers],
                "loss": None if self.loss is None else self.loss.config(),
                "optimizer": None if self.optimizer is None else self.optimizer.config(),
                "clip_norm": self.clip_norm, "clip_value": self.clip_value, "vocab": self.vocab}

    def save(self, path, extra=None):
        """Write an .npz: the weights, the architecture as JSON, optimizer state; atomically (temp file + rename)."""
        from .io import save_model
        save_model(self, path, extra=extra)

    def __repr__(self):
        return f"Sequential({self.layers!r})"


def _call(callbacks, method, *args):
    for callback in callbacks:
        function = getattr(callback, method, None)
        if function is not None:
            function(*args)

