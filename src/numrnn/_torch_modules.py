"""torch.nn modules that compute what numrnn's layers compute: what numrnn.torch.to_torch builds. This module
imports torch at its top, so only numrnn.torch's functions import it (`import numrnn` never does).

Every module takes and gives batch-first tensors, and keeps its parameters under the numrnn layer's own names, so
Sequential's state_dict names are numrnn's ("0.weight", "1.weight_ih_l0", "1.weight_ih_l0_reverse"):

    numrnn layer                         torch module
    Embedding, Dense, Dropout            nn.Embedding (Embedding below, for mask_zero), nn.Linear, nn.Dropout
    OneHot, Activation                   OneHot, Activation (below)
    RNN (tanh, relu), LSTM, GRU          RNN, LSTM, GRU: torch's own (cuDNN where there is one), batch_first=True;
                                         lengths go through pack_padded_sequence
    RNN (sigmoid, linear), Recurrent,    Loop: torch's cell equations, one step at a time, with numrnn's rules for
    Bidirectional, GRU(reset_after=      lengths (past its end a sequence's state is frozen, its outputs zero; the
    False)                               backward direction runs on each sequence reversed within its length);
                                         reset_after=False is numrnn's GRUCell step, which torch has no layer for

Masks, as numrnn's (mask= (batch, time) booleans, or a first Embedding(mask_zero=True) making ids != 0, joined with
lengths: a step is real where all say so): a masked step keeps the state and outputs zeros. torch's own layers run
each sequence's real steps moved to its front (numrnn.sequences.packed_steps) as packed sequences and move the
outputs back; the Loop freezes the state at masked steps, its reverse direction running on the whole time axis
reversed, mask and all. Both only permute steps, so they compute what numrnn computes.
"""
import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

ACTIVATIONS = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu, "linear": lambda z: z,
               "softmax": lambda z: torch.softmax(z, dim=-1)}


class Sequential(nn.Module):
    """numrnn.Sequential in torch: forward(x, lengths=None, mask=None) -> what numrnn's model.forward gives (raw
    outputs, logits for a classifier), batch-first. `numrnn_config` is the numrnn model's config(), for from_torch."""

    def __init__(self, layers, numrnn_config):
        super().__init__()
        for index, layer in enumerate(layers):
            self.add_module(str(index), layer)
        self.numrnn_config = numrnn_config

    def forward(self, x, lengths=None, mask=None):
        """lengths (batch,) or mask (batch, time) booleans (not both); a first Embedding(mask_zero=True) adds its
        own mask of the ids."""
        mask = step_mask(next(iter(self.children())), x, lengths, mask)
        lengths = None if mask is not None else lengths
        for layer in self.children():
            x = layer(x, lengths, mask) if getattr(layer, "takes_lengths", False) else layer(x)
        return x


def step_mask(first, x, lengths, mask):
    """The (batch, time) mask of the real steps, or None when lengths alone say it (numrnn.sequences.input_mask)."""
    if lengths is not None and mask is not None:
        raise ValueError("give lengths or mask, not both")
    mask = None if mask is None else mask.to(x.device).bool()
    if not getattr(first, "mask_zero", False) or x.dim() != 2:
        return mask
    own = x != 0
    if lengths is not None:
        own &= torch.arange(x.shape[1], device=x.device)[None, :] < lengths.to(x.device)[:, None]
    return own if mask is None else own & mask


class Embedding(nn.Embedding):
    """nn.Embedding with numrnn's mask_zero: the model takes id 0 for padding (step_mask)."""

    def __init__(self, *args, mask_zero=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.mask_zero = mask_zero


class OneHot(nn.Module):
    def __init__(self, num_classes, dtype):
        super().__init__()
        self.num_classes, self.dtype = num_classes, dtype

    def forward(self, ids):
        return F.one_hot(ids.long(), self.num_classes).to(self.dtype)


class Activation(nn.Module):
    def __init__(self, name):
        super().__init__()
        self.name = name

    def forward(self, x):
        return ACTIVATIONS[self.name](x)


class _Packed:
    """forward(x, lengths=None, mask=None) for torch's own recurrent layers: variable lengths through packed
    sequences, and with return_sequences=False the last layer's final states, forward direction first (numrnn's
    output). A mask: each sequence's real steps moved to its front, run with their count as its length, and the
    outputs moved back (the steps packed sequences leave out are zeros, at the masked steps)."""

    takes_lengths = True

    def forward(self, x, lengths=None, mask=None):
        if mask is None:
            return self._run(x, lengths)
        mask = mask.to(x.device)
        order = torch.argsort((~mask).to(torch.int8), dim=1, stable=True)  # real steps first, in their order
        out = self._run(x.gather(1, order[..., None].expand_as(x)), mask.sum(1))
        if not self.return_sequences:
            return out
        return torch.zeros_like(out).scatter(1, order[..., None].expand_as(out), out)  # packed step j -> order[j]

    def _run(self, x, lengths):
        empty = None
        if lengths is None:
            output, state = super().forward(x)
        else:  # torch packs no empty sequence: run it one step, then zero its outputs and final state (numrnn's)
            lengths = lengths.cpu().long()
            empty = lengths == 0
            packed = pack_padded_sequence(x, lengths.clamp(min=1), batch_first=True, enforce_sorted=False)
            output, state = super().forward(packed)
            output, _ = pad_packed_sequence(output, batch_first=True, total_length=x.shape[1])
        if self.return_sequences:
            return output if empty is None or not empty.any() else output.masked_fill(empty[:, None, None].to(
                output.device), 0)
        final = state[0] if isinstance(state, tuple) else state  # LSTM: (h_n, c_n)
        final = torch.cat(list(final[-(2 if self.bidirectional else 1):]), dim=-1)
        return final if empty is None or not empty.any() else final.masked_fill(empty[:, None].to(final.device), 0)


class RNN(_Packed, nn.RNN):
    def __init__(self, *args, return_sequences=True, **kwargs):
        super().__init__(*args, batch_first=True, **kwargs)
        self.return_sequences = return_sequences


class LSTM(_Packed, nn.LSTM):
    def __init__(self, *args, return_sequences=True, **kwargs):
        super().__init__(*args, batch_first=True, **kwargs)
        self.return_sequences = return_sequences


class GRU(_Packed, nn.GRU):
    def __init__(self, *args, return_sequences=True, **kwargs):
        super().__init__(*args, batch_first=True, **kwargs)
        self.return_sequences = return_sequences


def reverse_within(sequence, lengths):
    """(T, B, ...) reversed in time within each sequence's length (numrnn.sequences.reverse_within)."""
    if lengths is None:
        return sequence.flip(0)
    steps, batch = sequence.shape[:2]
    time = torch.arange(steps, device=sequence.device)[:, None].expand(steps, batch)
    lengths = lengths.to(sequence.device)[None, :]
    index = torch.where(time < lengths, lengths - 1 - time, time)
    return sequence[index, torch.arange(batch, device=sequence.device)[None, :]]


def step(kind, nonlinearity, reset_after, x, state, weight_ih, weight_hh, bias_ih, bias_hh):
    """One step of torch's cells (numrnn.cells' equations); state (h,) or (h, c); returns the new state. A GRU with
    reset_after=False (numrnn's, Keras's reset_after=False) resets h before the product by W_hn."""
    gi = x @ weight_ih.T + (0 if bias_ih is None else bias_ih)
    if kind == "GRU" and not reset_after:  # n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)
        size = state[0].shape[1]
        gh = state[0] @ weight_hh[:2 * size].T + (0 if bias_hh is None else bias_hh[:2 * size])
        r_i, z_i, n_i = gi.chunk(3, dim=1)
        r_h, z_h = gh.chunk(2, dim=1)
        r, z = torch.sigmoid(r_i + r_h), torch.sigmoid(z_i + z_h)
        n_h = (r * state[0]) @ weight_hh[2 * size:].T + (0 if bias_hh is None else bias_hh[2 * size:])
        n = torch.tanh(n_i + n_h)
        return ((1 - z) * n + z * state[0],)
    gh = state[0] @ weight_hh.T + (0 if bias_hh is None else bias_hh)
    if kind == "RNN":
        return (ACTIVATIONS[nonlinearity](gi + gh),)
    if kind == "LSTM":
        i, f, g, o = (gi + gh).chunk(4, dim=1)
        cell = torch.sigmoid(f) * state[1] + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(cell), cell
    r_i, z_i, n_i = gi.chunk(3, dim=1)
    r_h, z_h, n_h = gh.chunk(3, dim=1)
    r, z = torch.sigmoid(r_i + r_h), torch.sigmoid(z_i + z_h)
    n = torch.tanh(n_i + r * n_h)
    return ((1 - z) * n + z * state[0],)


class Loop(nn.Module):
    """Any numrnn recurrent layer as torch's cell equations over time, parameters under numrnn's names:

        fast layer (stacked=True)     weight_ih_l{k}{s}            s in "", "_reverse" (bidirectional)
        Recurrent(cell)               weight_ih
        Bidirectional(layer)          the layer's names, and the same + "_reverse" for its backward copy

    outer=2 (Bidirectional): the layer runs on x, its copy on x reversed within lengths (with a mask: the whole time
    axis reversed, and the mask with it); outputs side by side."""

    takes_lengths = True

    def __init__(self, kind, input_size, hidden_size, *, num_layers=1, bidirectional=False, outer=1, stacked=True,
                 bias=True, nonlinearity="tanh", reset_after=True, dropout=0.0, return_sequences=True,
                 dtype=torch.float32):
        super().__init__()
        self.kind, self.hidden_size, self.num_layers, self.nonlinearity = kind, hidden_size, num_layers, nonlinearity
        self.reset_after = reset_after
        self.inner = ("", "_reverse")[: 2 if bidirectional else 1]
        self.outer = ("", "_reverse")[:outer]
        self.stacked, self.dropout, self.return_sequences = stacked, dropout, return_sequences
        rows = {"RNN": 1, "LSTM": 4, "GRU": 3}[kind] * hidden_size
        for o in self.outer:
            for k in range(num_layers):
                width = input_size if k == 0 else hidden_size * len(self.inner)
                for s in self.inner:
                    suffix = self._suffix(k, s, o)
                    shapes = {"weight_ih": (rows, width), "weight_hh": (rows, hidden_size)}
                    if bias:
                        shapes.update(bias_ih=(rows,), bias_hh=(rows,))
                    for name, shape in shapes.items():
                        self.register_parameter(name + suffix, nn.Parameter(torch.zeros(shape, dtype=dtype)))

    def _suffix(self, k, s, o):
        return (f"_l{k}{s}" if self.stacked else s) + o

    def _weights(self, suffix):
        return tuple(getattr(self, name + suffix, None) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def forward(self, x, lengths=None, mask=None):
        sequence = x.transpose(0, 1)
        steps = sequence.shape[0]
        if mask is not None:  # padding anywhere: reversed, the whole time axis and its mask
            mask = mask.to(x.device).transpose(0, 1)
            masks, reverse = (mask, mask.flip(0)), (lambda s: s.flip(0))
        else:  # trailing padding: reversed within each length, where the mask stays as it is
            if lengths is not None:
                mask = torch.arange(steps, device=x.device)[:, None] < lengths.to(x.device)[None, :]
            masks, reverse = (mask, mask), (lambda s: reverse_within(s, lengths))
        if mask is not None:
            sequence = torch.where(mask[..., None], sequence, torch.zeros((), dtype=sequence.dtype))
        outputs = []
        for o in self.outer:  # the backward copy sees the reversed input, whose masks are the other way round
            output = self._stack(sequence if not o else reverse(sequence), masks[::-1] if o else masks, reverse, o)
            outputs.append(reverse(output) if o and self.return_sequences else output)
        output = torch.cat(outputs, dim=-1)
        return output.transpose(0, 1) if self.return_sequences else output

    def _stack(self, layer_input, masks, reverse, o):
        """masks: (the input's, the reversed input's)."""
        for k in range(self.num_layers):
            outputs, finals = [], []
            for s in self.inner:
                inputs = layer_input if not s else reverse(layer_input)
                output, final = self._direction(inputs, masks[1] if s else masks[0],
                                                self._weights(self._suffix(k, s, o)))
                outputs.append(reverse(output) if s else output)
                finals.append(final)
            layer_input = torch.cat(outputs, dim=-1)
            if self.dropout and k < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, self.training)
        return layer_input if self.return_sequences else torch.cat(finals, dim=-1)

    def _direction(self, inputs, mask, weights):
        batch = inputs.shape[1]
        zeros = inputs.new_zeros((batch, self.hidden_size))
        state = (zeros, zeros) if self.kind == "LSTM" else (zeros,)
        outputs = []
        for t in range(inputs.shape[0]):
            new = step(self.kind, self.nonlinearity, self.reset_after, inputs[t], state, *weights)
            if mask is None:
                state = new
                outputs.append(new[0])
            else:  # past its end a sequence keeps its state and outputs zeros
                keep = mask[t][:, None]
                state = tuple(torch.where(keep, n, s) for n, s in zip(new, state))
                outputs.append(torch.where(keep, new[0], zeros))
        return torch.stack(outputs), state[0]
