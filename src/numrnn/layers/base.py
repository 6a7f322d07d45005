"""The contract every numrnn layer keeps.

A layer owns its parameters and their gradients as dicts under PyTorch's names (`params`, `grads`), exposes
`forward(x)` and `backward(grad_out) -> grad_in`, and never updates a weight itself: the optimizer sees only the
(params, grads) dicts, so gradients can be clipped, inspected or checked in between.
"""
import inspect

import numpy as np

from .._validate import as_float_array, check_dtype


class Layer:
    #: True for layers whose forward takes `lengths` (the recurrent layers)
    takes_lengths = False
    #: True for layers whose forward takes `time_major` (layers with a time axis of their own)
    takes_time_major = False
    #: the rank of this layer's input when it is a batch of sequences (RNN 3, Embedding 2), None if it has none
    sequence_rank = None

    def __init__(self, dtype="float32"):
        self.dtype = check_dtype(dtype)
        self.params = {}
        self.grads = {}
        self.training = True

    # -- the interface -------------------------------------------------------------------------------------------
    def forward(self, x):
        raise NotImplementedError

    def backward(self, grad_out, need_input_grad=True):
        raise NotImplementedError

    def config(self):
        """The constructor's arguments as a JSON-able dict: what `numrnn.save` writes for this layer."""
        raise NotImplementedError

    def output_shape(self, input_shape):
        """The output shape for an input shape whose batch (and time) entries may be None."""
        raise NotImplementedError

    def input_spec(self):
        """(rank, last axis size) this layer takes; None for either means any. Used to chain layers."""
        return None, None

    def check_input(self, name, data):
        """Validate a model's input data for this (first) layer, NaN and inf included, before any work."""
        rank, features = self.input_spec()
        return as_float_array(name, data, self.dtype, ndim=rank, last_dim=features)

    # -- shared machinery ----------------------------------------------------------------------------------------
    def _add_param(self, name, value):
        # gradients are written in place into these arrays on every backward (np.matmul(..., out=)): the
        # optimizer and the model hold references to both dicts' arrays
        self.params[name] = np.ascontiguousarray(value, dtype=self.dtype)
        self.grads[name] = np.zeros_like(self.params[name])

    def num_parameters(self):
        return int(sum(p.size for p in self.params.values()))

    def train(self, mode=True):
        self.training = bool(mode)
        return self

    def eval(self):
        return self.train(False)

    def state_dict(self):
        """A copy of every parameter, under torch's names."""
        return {name: value.copy() for name, value in self.params.items()}

    def load_state_dict(self, state):
        """Copy parameters in after checking that names and shapes match exactly (torch tensors are accepted)."""
        check_state_names(state, self.params, f"state dict for {self.__class__.__name__}")
        arrays = {}
        for name, value in state.items():
            array = _to_numpy(value)
            if array.shape != self.params[name].shape:
                raise ValueError(f"state dict entry {name!r} must have shape {self.params[name].shape}, "
                                 f"got {array.shape}")
            if not np.issubdtype(array.dtype, np.number) or not np.isfinite(array).all():
                raise ValueError(f"state dict entry {name!r} must hold finite numbers")
            arrays[name] = array
        for name, array in arrays.items():
            # copy into the existing arrays: optimizers and caches hold references to them
            self.params[name][...] = array
        return self

    def __repr__(self):
        """The constructor call, leaving out arguments at their defaults: RNN(3, 16, nonlinearity='relu')."""
        parameters = inspect.signature(self.__class__.__init__).parameters
        parts = []
        for key, value in self.config().items():
            parameter = parameters.get(key)
            if parameter is None:
                continue
            if parameter.default is inspect.Parameter.empty:
                parts.append(repr(value))
            elif parameter.default != value:
                parts.append(f"{key}={value!r}")
        return f"{self.__class__.__name__}({', '.join(parts)})"


def check_state_names(state, params, what):
    """A state dict must name exactly the parameters: say which are missing and which unknown."""
    if not hasattr(state, "keys"):
        raise TypeError(f"state must be a dict of arrays, got {type(state).__name__}")
    expected, given = set(params), set(state)
    missing, unknown = sorted(expected - given), sorted(given - expected)
    if missing or unknown:
        raise ValueError(f"{what} does not match: missing {missing}, unknown {unknown}")


def _to_numpy(value):
    """Accept NumPy arrays, lists and torch tensors (without importing torch)."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


class Workspace:
    """Arrays reused from one call to the next.

    Allocating a large array afresh on every training step costs page faults in the kernel; a layer asks its
    workspace for a buffer by name and gets the same memory back while the shape and dtype stay the same.
    """

    def __init__(self):
        self._arrays = {}

    def get(self, name, shape, dtype, zero=False):
        array = self._arrays.get(name)
        if array is None or array.shape != tuple(shape) or array.dtype != dtype:
            array = np.empty(shape, dtype=dtype)
            self._arrays[name] = array
        if zero:
            array.fill(0)
        return array

    def clear(self):
        self._arrays.clear()
