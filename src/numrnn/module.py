"""What every object with parameters shares: layers (numrnn.layers) and cells (numrnn.cells).

A module owns its parameters and their gradients as two dicts under PyTorch's names, `params` and `grads`, with
arrays of the same shapes. Gradients are written into the arrays of `grads` (in place: the model and the optimizer
hold references to them), and nothing but an optimizer changes a parameter. Its constructor's arguments are its
`config()`, a JSON-able dict, so `type(module).from_config(module.config())` builds the same architecture and
`clone()` the same module with copied weights.
"""
import inspect

import numpy as np

from ._validate import check_dtype


class Module:
    def __init__(self, dtype="float32"):
        self.dtype = check_dtype(dtype)
        self.params = {}
        self.grads = {}

    def add_param(self, name, value):
        """Declare a parameter: stored contiguous in the module's dtype, with a zero gradient of the same shape.
        Returns the parameter's array."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"a parameter name must be a non-empty str, got {name!r}")
        if name in self.params:
            raise ValueError(f"{type(self).__name__} already has a parameter named {name!r}")
        self.params[name] = np.ascontiguousarray(value, dtype=self.dtype)
        self.grads[name] = np.zeros_like(self.params[name])
        return self.params[name]

    def zero_grad(self):
        for grad in self.grads.values():
            grad.fill(0)

    def num_parameters(self):
        return int(sum(p.size for p in self.params.values()))

    def config(self):
        """The constructor's arguments as a JSON-able dict: what numrnn's file format writes for this module."""
        raise NotImplementedError(f"{type(self).__name__} must define config()")

    @classmethod
    def from_config(cls, config):
        """A new module (fresh weights) with the architecture that config() described."""
        return cls(**config)

    def clone(self):
        """A new module of the same architecture with a copy of the weights (and none of the state of a run)."""
        copy = type(self).from_config(self.config())
        copy.load_state_dict(self.state_dict())
        return copy

    def state_dict(self):
        """A copy of every parameter, under torch's names."""
        return {name: value.copy() for name, value in self.params.items()}

    def load_state_dict(self, state):
        """Copy parameters in after checking names, shapes and values (torch tensors are accepted); nothing changes
        if anything is wrong."""
        check_state_names(state, self.params, f"state dict for {type(self).__name__}")
        arrays = {}
        for name, value in state.items():
            array = as_numpy(value)
            if array.shape != self.params[name].shape:
                raise ValueError(f"state dict entry {name!r} must have shape {self.params[name].shape}, "
                                 f"got {array.shape}")
            if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
                raise ValueError(f"state dict entry {name!r} must hold real numbers, got dtype {array.dtype}")
            with np.errstate(over="ignore"):  # a value too large for the dtype becomes inf, refused just below
                converted = array.astype(self.dtype)
            if not np.isfinite(converted).all():
                raise ValueError(f"state dict entry {name!r} must hold finite numbers that fit in "
                                 f"{np.dtype(self.dtype).name}")
            arrays[name] = converted
        for name, array in arrays.items():
            # copied into the existing arrays: optimizers and derived-weight caches hold references to them
            self.params[name][...] = array
        return self

    def __repr__(self):
        """The constructor call, leaving out arguments at their defaults: RNN(3, 16, nonlinearity='relu')."""
        parameters = inspect.signature(type(self).__init__).parameters
        parts = []
        for key, value in self.config().items():
            parameter = parameters.get(key)
            if parameter is None:
                continue
            if parameter.default is inspect.Parameter.empty:
                parts.append(repr(value))
            elif parameter.default != value:
                parts.append(f"{key}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


def check_state_names(state, params, what):
    """A state dict must name exactly the parameters: say which are missing and which unknown."""
    if not hasattr(state, "keys") or not hasattr(state, "items"):
        raise TypeError(f"{what} must be a dict of arrays, got {type(state).__name__}")
    expected, given = set(params), set(state)
    missing, unknown = sorted(expected - given), sorted(map(str, given - expected))
    if missing or unknown:
        raise ValueError(f"{what} does not match: missing {missing}, unknown {unknown}")


def as_numpy(value):
    """NumPy arrays, lists and torch tensors (without importing torch) as a NumPy array."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)
