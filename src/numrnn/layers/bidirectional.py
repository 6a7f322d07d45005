"""Bidirectional(layer): a recurrent layer run forward in time, and a copy run backward within each sequence's
length, their outputs side by side (Keras's Bidirectional with merge_mode="concat").

    y_forward  = layer(x)
    y_backward = reverse(copy(reverse(x)))        reverse: each sequence in time, within its own length
    y          = [y_forward, y_backward]          on the last axis

With a mask (padding anywhere) reverse is the whole time axis, and the copy gets the mask reversed too: its
masked steps change nothing, so it reads each sequence's real steps last to first, which for trailing padding is
reversing within the lengths.

The backward copy has weights of its own, named as the layer's with torch's "_reverse" suffix ("weight_ih" and
"weight_ih_reverse"); a fast layer with bidirectional=True computes the same thing (see its reference_layers()).
With return_sequences=False each direction gives its final output: the forward one at each sequence's last step,
the backward one at the first.
"""
import contextlib

import numpy as np

from .._validate import as_float_array, as_gradient
from ..sequences import check_lengths, real_steps, reverse_within
from .base import LAYERS, Layer


@LAYERS.register
class Bidirectional(Layer):
    """numrnn.Bidirectional(layer, *, backward_layer=None): layer a recurrent layer (numrnn.Recurrent, RNN, ...);
    the backward copy is built from layer.config() with fresh weights unless given.

    forward(x, h0=None, lengths=None, mask=None): h0 = (forward layer's h0, backward layer's h0), each as that layer
    takes it; lengths (batch,) or mask (batch, time) booleans, True where a step is real (not both).
    After forward, `h_n` = (forward h_n, backward h_n).
    """

    takes_lengths = True
    takes_time_major = True
    sequence_rank = 3
    can_stream = False

    def __init__(self, layer, *, backward_layer=None):
        if not isinstance(layer, Layer) or not layer.takes_lengths:
            raise TypeError(f"layer must be a numrnn recurrent layer, got {type(layer).__name__}")
        backward_layer = type(layer).from_config(layer.config()) if backward_layer is None else backward_layer
        if type(backward_layer) is not type(layer) or backward_layer.config() != layer.config():
            raise ValueError("backward_layer must have the layer's class and config")
        super().__init__(np.dtype(layer.dtype).name)
        self.forward_layer, self.backward_layer = layer, backward_layer
        self.return_sequences = layer.return_sequences
        self.h_n = None
        self._lengths = None
        self._output_shape = None
        # the two layers' own arrays, so that an optimizer stepping these dicts updates them
        for name in layer.params:
            self.params[name], self.grads[name] = layer.params[name], layer.grads[name]
            self.params[f"{name}_reverse"] = backward_layer.params[name]
            self.grads[f"{name}_reverse"] = backward_layer.grads[name]

    def config(self):
        return {"layer": {"class": LAYERS.name_of(type(self.forward_layer)), "config": self.forward_layer.config()}}

    @classmethod
    def from_config(cls, config):
        entry = config.get("layer") if isinstance(config, dict) else None
        if not isinstance(entry, dict) or set(entry) != {"class", "config"} or set(config) != {"layer"}:
            raise ValueError(f"a Bidirectional config is {{'layer': {{'class': name, 'config': {{...}}}}}}, got "
                             f"{config!r}")
        return cls(LAYERS.get(entry["class"]).from_config(entry["config"]))

    def input_spec(self):
        return self.forward_layer.input_spec()

    def output_shape(self, input_shape):
        shape = self.forward_layer.output_shape(input_shape)
        return tuple(shape[:-1]) + (2 * shape[-1],)

    def step_multiply_adds(self, batch):
        return self.forward_layer.step_multiply_adds(batch)

    def train(self, mode=True):
        self.forward_layer.train(mode)
        self.backward_layer.train(mode)
        return super().train(mode)

    def inference(self):
        """Both directions forward only inside the block (see Recurrent.inference)."""
        stack = contextlib.ExitStack()
        for layer in (self.forward_layer, self.backward_layer):
            if hasattr(layer, "inference"):
                stack.enter_context(layer.inference())
        return stack

    def forward(self, x, h0=None, lengths=None, mask=None, time_major=False):
        x = as_float_array("x", x, self.dtype, ndim=3, finite=False)
        sequence = x if time_major else np.ascontiguousarray(x.transpose(1, 0, 2))
        steps, batch = sequence.shape[:2]
        if mask is None:
            lengths, valid = check_lengths(lengths, batch, steps), None
        else:  # the backward copy reads the whole time axis reversed, and the mask reversed with it
            valid = real_steps(lengths, mask, batch, steps)
        if h0 is not None and (not isinstance(h0, (tuple, list)) or len(h0) != 2):
            raise TypeError("h0 of a Bidirectional layer must be a pair (forward layer's h0, backward layer's h0)")
        h0_forward, h0_backward = (None, None) if h0 is None else h0
        masks = (None, None) if valid is None else (valid.T, valid[::-1].T)  # (batch, time), as the layers take
        forward = self.forward_layer.forward(sequence, h0=h0_forward, lengths=lengths, mask=masks[0],
                                             time_major=True)
        backward = self.backward_layer.forward(reverse_within(sequence, lengths), h0=h0_backward, lengths=lengths,
                                               mask=masks[1], time_major=True)
        self.h_n = (self.forward_layer.h_n, self.backward_layer.h_n)
        self._lengths = lengths
        self._time_major = time_major
        if not self.return_sequences:
            output = np.concatenate([forward, backward], axis=-1)
        else:
            output = np.concatenate([forward, reverse_within(backward, lengths)], axis=-1)
            output = output if time_major else np.ascontiguousarray(output.transpose(1, 0, 2))
        self._output_shape = output.shape
        return output

    def backward(self, grad_out, need_input_grad=True):
        if self._output_shape is None:
            raise RuntimeError("Bidirectional.backward called before forward")
        grad_out = as_gradient("grad_out", grad_out, self._output_shape, self.dtype)
        size = grad_out.shape[-1] // 2
        if not self.return_sequences:
            grad_forward, grad_backward = grad_out[..., :size], grad_out[..., size:]
        else:
            grad = grad_out if self._time_major else grad_out.transpose(1, 0, 2)
            grad_forward, grad_backward = grad[..., :size], reverse_within(grad[..., size:], self._lengths)
        grad_x = self.forward_layer.backward(np.ascontiguousarray(grad_forward), need_input_grad)
        grad_x_reversed = self.backward_layer.backward(np.ascontiguousarray(grad_backward), need_input_grad)
        if not need_input_grad:
            return None
        grad_x = grad_x + reverse_within(grad_x_reversed, self._lengths)
        return grad_x if self._time_major else np.ascontiguousarray(grad_x.transpose(1, 0, 2))
