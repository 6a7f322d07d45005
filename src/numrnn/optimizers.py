"""Optimizers: update parameters in place from their gradients, torch.optim's formulations.

An optimizer sees only two dicts of arrays under the same names, `params` and `grads`, and writes into the
parameter arrays themselves (layers hold references to them). Per-parameter state (momentum buffers, running
averages) is created on a name's first step, in that parameter's dtype, so float32 training stays float32.

In the notation of the code, for one parameter p with gradient g (lr the learning rate):

    SGD      g' = g + weight_decay p;  buf = momentum buf + g';  p -= lr (g' + momentum buf) if nesterov else lr buf
    Adam     m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p -= lr/(1 - b1^t) m / (sqrt(v)/sqrt(1 - b2^t) + eps)
    RMSprop  v = alpha v + (1 - alpha) g^2;  buf = momentum buf + g / (sqrt(v) + eps);  p -= lr buf
    Adagrad  s += g^2;  p -= lr g / (sqrt(s) + eps)
    Rprop    step *= eta+ if sign(g) sign(g_prev) > 0, eta- if < 0;  step = clip(step, *step_sizes);  p -= sign(g) step

`lr` may be changed between steps. Every update runs in place with `out=` into one scratch array per
(shape, dtype), so after the first step a step allocates no float array of a parameter's size (Rprop's boolean
masks, a quarter of a float32 parameter, aside).
"""
import math
import numbers
from collections.abc import Mapping

import numpy as np

from ._validate import check_positive_float, check_probability
from .registry import Registry

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "Adagrad", "Rprop", "OPTIMIZERS", "get_optimizer"]


class Optimizer:
    """The shared machinery: checks, lazily created per-name state, state_dict and config.

    `state` maps a parameter name to its slots {slot: array}; `step_count` counts calls to step().
    """

    name = None
    #: the per-parameter state arrays, each shaped like the parameter (Adam adds a 0-d step count)
    slots = ()

    def __init__(self, lr):
        self.lr = lr
        self.state = {}
        self.step_count = 0
        self._scratch = {}
        self._kept, self._kept_names, self._kept_step = {}, {}, 0

    @property
    def lr(self):
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = check_positive_float("lr", value)

    def step(self, params, grads):
        """Update every array in `params` in place from `grads[name]`; grads for names not in params are ignored."""
        grads = self._check(params, grads)
        for name, param in params.items():
            self._update(param, grads[name], self._state_for(name, param), self._scratch_for(param))
        self.step_count += 1

    def keep(self, params):
        """Copy `params` and this optimizer's state (into buffers reused from step to step) for rollback():
        numrnn.Sequential keeps them before every step, so that a step that overflows is undone exactly."""
        for name, value in list(params.items()) + [((name, slot), array) for name, slots in self.state.items()
                                                   for slot, array in slots.items()]:
            buffer = self._kept.get(name)
            if buffer is None or buffer.shape != value.shape or buffer.dtype != value.dtype:
                buffer = self._kept[name] = np.empty_like(value)
            np.copyto(buffer, value)
        self._kept_names = {name: set(slots) for name, slots in self.state.items()}
        self._kept_step = self.step_count

    def rollback(self, params):
        """Put back the parameters and the state keep() copied: as they were before the steps since."""
        for name, value in params.items():
            np.copyto(value, self._kept[name])
        for name in list(self.state):
            if name not in self._kept_names:
                del self.state[name]  # created by the undone step
                continue
            for slot in self._kept_names[name]:
                np.copyto(self.state[name][slot], self._kept[(name, slot)])
        self.step_count = self._kept_step

    def config(self):
        """The constructor's arguments as a JSON-able dict with the optimizer's "name"; get_optimizer rebuilds it."""
        return {"name": self.name, **self._hyperparameters()}

    def state_dict(self):
        """{"step": calls to step(), "state": {param_name: {slot: array}}}, all arrays copied."""
        return {"step": self.step_count,
                "state": {name: {slot: array.copy() for slot, array in slots.items()}
                          for name, slots in self.state.items()}}

    def load_state_dict(self, state_dict):
        """Restore what state_dict() returned (arrays copied in); shapes are checked against params on the next step."""
        if not isinstance(state_dict, Mapping) or set(state_dict) != {"step", "state"}:
            got = sorted(state_dict) if isinstance(state_dict, Mapping) else type(state_dict).__name__
            raise ValueError(f"state_dict must be a dict with keys ['state', 'step'], got {got}")
        step = state_dict["step"]
        if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
            raise ValueError(f"state_dict['step'] must be a non-negative integer, got {step!r}")
        if not isinstance(state_dict["state"], Mapping):
            raise ValueError(f"state_dict['state'] must be a dict, got {type(state_dict['state']).__name__}")
        state = {}
        for name, slots in state_dict["state"].items():
            if not isinstance(slots, Mapping) or set(slots) != set(self.slots):
                got = sorted(slots) if isinstance(slots, Mapping) else type(slots).__name__
                raise ValueError(f"state_dict['state'][{name!r}] must have the slots {sorted(self.slots)} "
                                 f"of {type(self).__name__}, got {got}")
            state[name] = {slot: np.array(value, copy=True) for slot, value in slots.items()}
        self.state = state
        self.step_count = int(step)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._hyperparameters().items())
        return f"{type(self).__name__}({args})"

    # -- what subclasses supply ----------------------------------------------------------------------------------
    def _hyperparameters(self):
        raise NotImplementedError

    def _new_state(self, param):
        """The slots for a parameter seen for the first time."""
        return {slot: np.zeros_like(param) for slot in self.slots}

    def _update(self, param, grad, state, scratch):
        """Write the new value into param; scratch is a free array of param's shape and dtype."""
        raise NotImplementedError

    # -- machinery -----------------------------------------------------------------------------------------------
    def _check(self, params, grads):
        """Every check before any parameter moves; returns grads as arrays."""
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be a dict of arrays, got {type(params).__name__}")
        if not isinstance(grads, Mapping):
            raise TypeError(f"grads must be a dict of arrays, got {type(grads).__name__}")
        missing = [name for name in params if name not in grads]
        if missing:
            raise ValueError(f"grads has no entry for the parameters {missing}")
        arrays = {}
        for name, param in params.items():
            if not isinstance(param, np.ndarray) or param.dtype not in (np.float32, np.float64):
                what = f"dtype {param.dtype}" if isinstance(param, np.ndarray) else type(param).__name__
                raise TypeError(f"params[{name!r}] must be a float32 or float64 NumPy array (updated in place), "
                                f"got {what}")
            if not param.flags.writeable:
                raise ValueError(f"params[{name!r}] is read-only; it must be updated in place")
            grad = np.asarray(grads[name])
            if not np.issubdtype(grad.dtype, np.floating):
                raise TypeError(f"grads[{name!r}] must be a float array, got dtype {grad.dtype}")
            if grad.shape != param.shape:
                raise ValueError(f"grads[{name!r}] must have the shape of its parameter {param.shape}, "
                                 f"got {grad.shape}")
            for slot, value in self.state.get(name, {}).items():
                if value.ndim and value.shape != param.shape:
                    raise ValueError(f"optimizer state {name!r}/{slot!r} has shape {value.shape}, but the "
                                     f"parameter now has shape {param.shape}")
            arrays[name] = grad
        return arrays

    def _state_for(self, name, param):
        state = self.state.get(name)
        if state is None:
            state = self.state[name] = self._new_state(param)
        for slot, value in state.items():
            # a restored state may come in another float dtype; it follows the parameter's from here on
            if value.ndim and value.dtype != param.dtype:
                state[slot] = value.astype(param.dtype)
        return state

    def _scratch_for(self, param):
        key = (param.shape, param.dtype)
        scratch = self._scratch.get(key)
        if scratch is None:
            scratch = self._scratch[key] = np.empty(param.shape, dtype=param.dtype)
        return scratch


class SGD(Optimizer):
    """Stochastic gradient descent with torch's momentum: buf = momentum buf + g (no dampening).

        g' = g + weight_decay p
        buf = momentum buf + g'                          (buf starts at 0, so the first buf is g')
        p -= lr (g' + momentum buf)   if nesterov,   p -= lr buf   otherwise (p -= lr g' without momentum)
    """

    name = "sgd"

    def __init__(self, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(lr)
        self.momentum = check_probability("momentum", momentum)
        if not isinstance(nesterov, bool):
            raise TypeError(f"nesterov must be True or False, got {type(nesterov).__name__} {nesterov!r}")
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs a momentum > 0, got momentum=0.0")
        self.nesterov = nesterov
        self.weight_decay = check_positive_float("weight_decay", weight_decay, allow_zero=True)
        self.slots = ("momentum_buffer",) if self.momentum else ()

    def _hyperparameters(self):
        return {"lr": self.lr, "momentum": self.momentum, "nesterov": self.nesterov,
                "weight_decay": self.weight_decay}

    def _update(self, param, grad, state, scratch):
        lr = self.lr
        direction = grad
        if self.weight_decay:
            direction = np.multiply(param, self.weight_decay, out=scratch)
            direction += grad
        if self.momentum:
            buf = state["momentum_buffer"]
            buf *= self.momentum
            buf += direction
            if self.nesterov:
                # p -= lr g' and then p -= lr momentum buf: the same sum, without a second scratch array
                param -= np.multiply(direction, lr, out=scratch)
                param -= np.multiply(buf, lr * self.momentum, out=scratch)
                return
            direction = buf
        param -= np.multiply(direction, lr, out=scratch)


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba; torch.optim.Adam without weight decay or amsgrad).

        t += 1
        m = b1 m + (1 - b1) g,   v = b2 v + (1 - b2) g^2          (b1, b2) = betas, torch's name
        p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

    t counts each parameter's own steps (slot "step"), so stepping layers in separate calls is safe.
    """

    name = "adam"
    slots = ("exp_avg", "exp_avg_sq", "step")

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(lr)
        beta1, beta2 = _check_pair("betas", betas)
        self.beta1 = check_probability("betas[0]", beta1)
        self.beta2 = check_probability("betas[1]", beta2)
        self.eps = check_positive_float("eps", eps)

    @property
    def betas(self):
        return (self.beta1, self.beta2)

    def _hyperparameters(self):
        return {"lr": self.lr, "betas": [self.beta1, self.beta2], "eps": self.eps}

    def _new_state(self, param):
        return {"exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param),
                "step": np.zeros((), dtype=np.int64)}

    def _update(self, param, grad, state, scratch):
        state["step"] += 1
        t = int(state["step"])  # a Python int keeps b^t a Python float: no float64 scalar meets a float32 array
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg *= self.beta1
        exp_avg += np.multiply(grad, 1.0 - self.beta1, out=scratch)
        exp_avg_sq *= self.beta2
        np.multiply(grad, grad, out=scratch)
        scratch *= 1.0 - self.beta2
        exp_avg_sq += scratch
        bias_correction1 = 1.0 - self.beta1 ** t
        bias_correction2 = 1.0 - self.beta2 ** t
        denom = np.sqrt(exp_avg_sq, out=scratch)
        denom /= math.sqrt(bias_correction2)
        denom += self.eps
        update = np.divide(exp_avg, denom, out=scratch)
        update *= self.lr / bias_correction1
        param -= update


class RMSprop(Optimizer):
    """RMSprop as torch.optim.RMSprop (not centered): eps is added after the square root.

        v = alpha v + (1 - alpha) g^2
        buf = momentum buf + g / (sqrt(v) + eps);  p -= lr buf     (p -= lr g / (sqrt(v) + eps) without momentum)
    """

    name = "rmsprop"

    def __init__(self, lr=1e-2, alpha=0.99, eps=1e-8, momentum=0.0):
        super().__init__(lr)
        self.alpha = check_probability("alpha", alpha)
        self.eps = check_positive_float("eps", eps)
        self.momentum = check_probability("momentum", momentum)
        self.slots = ("square_avg", "momentum_buffer") if self.momentum else ("square_avg",)

    def _hyperparameters(self):
        return {"lr": self.lr, "alpha": self.alpha, "eps": self.eps, "momentum": self.momentum}

    def _update(self, param, grad, state, scratch):
        square_avg = state["square_avg"]
        square_avg *= self.alpha
        np.multiply(grad, grad, out=scratch)
        scratch *= 1.0 - self.alpha
        square_avg += scratch
        np.sqrt(square_avg, out=scratch)
        scratch += self.eps
        scaled = np.divide(grad, scratch, out=scratch)  # g / (sqrt(v) + eps)
        if self.momentum:
            buf = state["momentum_buffer"]
            buf *= self.momentum
            buf += scaled
            scaled = np.multiply(buf, self.lr, out=scratch)
        else:
            scaled *= self.lr
        param -= scaled


class Adagrad(Optimizer):
    """Adagrad as torch.optim.Adagrad (no lr decay, accumulator starting at 0).

        s += g^2;   p -= lr g / (sqrt(s) + eps)
    """

    name = "adagrad"
    slots = ("sum",)

    def __init__(self, lr=1e-2, eps=1e-10):
        super().__init__(lr)
        self.eps = check_positive_float("eps", eps)

    def _hyperparameters(self):
        return {"lr": self.lr, "eps": self.eps}

    def _update(self, param, grad, state, scratch):
        state["sum"] += np.multiply(grad, grad, out=scratch)
        np.sqrt(state["sum"], out=scratch)
        scratch += self.eps
        update = np.divide(grad, scratch, out=scratch)
        update *= self.lr
        param -= update


class Rprop(Optimizer):
    """Resilient backpropagation, the sign-based variant of the seed tutorial 003: only gradient signs count.

    Per element, with step starting at lr and prev_sign at 0:

        step *= eta_plus    if sign(g) sign(g_prev) > 0    (same direction again: speed up)
        step *= eta_minus   if sign(g) sign(g_prev) < 0    (overshot a minimum: slow down)
        step unchanged      if sign(g) sign(g_prev) = 0    (first step, or a zero gradient)
        step = clip(step, step_sizes[0], step_sizes[1]);   p -= sign(g) step

    Differences from the others: torch.optim.Rprop, after a sign change, also sets g to 0 so that element does not
    move this step and its next step is left unchanged; here the element moves by the shrunk step at once (no
    backtracking, no zeroing). The tutorial shrinks the step whenever the signs are not equal, so its first step
    (prev_sign 0) is lr * eta_minus where this one is lr, and it has no clipping. `lr` is only the initial step:
    changing it later affects parameters seen for the first time after the change.
    """

    name = "rprop"
    slots = ("prev_sign", "step_size")

    def __init__(self, lr=0.01, etas=(0.5, 1.2), step_sizes=(1e-6, 50)):
        super().__init__(lr)
        eta_minus, eta_plus = _check_pair("etas", etas)
        if not 0.0 < eta_minus < 1.0 < eta_plus:
            raise ValueError(f"etas must be (eta_minus, eta_plus) with 0 < eta_minus < 1 < eta_plus, got {etas!r}")
        step_min, step_max = _check_pair("step_sizes", step_sizes)
        if not (0.0 <= step_min <= step_max and step_max > 0 and math.isfinite(step_max)):
            raise ValueError(f"step_sizes must be (min, max) with 0 <= min <= max, max positive and finite, "
                             f"got {step_sizes!r}")
        self.etas = (eta_minus, eta_plus)
        self.step_sizes = (step_min, step_max)

    def _hyperparameters(self):
        return {"lr": self.lr, "etas": list(self.etas), "step_sizes": list(self.step_sizes)}

    def _new_state(self, param):
        return {"prev_sign": np.zeros_like(param), "step_size": np.full_like(param, self.lr)}

    def _update(self, param, grad, state, scratch):
        eta_minus, eta_plus = self.etas
        prev_sign, step_size = state["prev_sign"], state["step_size"]
        sign = np.sign(grad, out=scratch)
        agreement = np.multiply(prev_sign, sign, out=prev_sign)  # prev_sign is rewritten below
        np.multiply(step_size, eta_plus, out=step_size, where=agreement > 0)
        np.multiply(step_size, eta_minus, out=step_size, where=agreement < 0)
        np.clip(step_size, self.step_sizes[0], self.step_sizes[1], out=step_size)
        np.copyto(prev_sign, sign)
        sign *= step_size
        param -= sign


def _check_pair(name, value):
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2 \
            or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value):
        raise TypeError(f"{name} must be a pair of numbers, got {value!r}")
    return float(value[0]), float(value[1])


#: every optimizer by name (the file format, get_optimizer and the command line read it)
OPTIMIZERS = Registry("optimizer")
for _class in (SGD, Adam, RMSprop, Adagrad, Rprop):
    OPTIMIZERS.register(_class)


def get_optimizer(optimizer, **kwargs):
    """An optimizer from an instance (returned as is), a class, a name (case-insensitive) or a config dict.

    Names: "sgd", "adam", "rmsprop", "adagrad", "rprop"; kwargs go to the constructor (and add to a config).
    """
    return OPTIMIZERS.build(optimizer, Optimizer, **kwargs)
