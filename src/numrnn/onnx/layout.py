"""What numrnn's layers and ONNX's operators agree on, and where they differ: written once, for the writer
(export) and the reader (load).

Recurrent weights. numrnn keeps torch's layout, per stacked layer k and direction s ("" or "_reverse"):

    weight_ih (G*H, in)    weight_hh (G*H, H)    bias_ih, bias_hh (G*H,)        a = x W_ih^T + b_ih + h W_hh^T + b_hh

and one ONNX RNN, LSTM or GRU operator is one stacked layer, both directions stacked on a leading axis D:

    W (D, G*H, in)         R (D, G*H, H)         B (D, 2*G*H) = [b_ih, b_hh]   a = x W^T + Wb + h R^T + Rb

Both multiply from the right, so a matrix carries over as it is, gate block by gate block (G blocks of H rows);
only the order of the blocks differs. ONNX block j is numrnn block ONNX_GATES[kind][j]:

    RNN   numrnn [h]             ONNX [h]
    LSTM  numrnn [i, f, g, o]    ONNX [i, o, f, c]      c is numrnn's g, the tanh candidate
    GRU   numrnn [r, z, n]       ONNX [z, r, h]         h is numrnn's n

GRU_RESET_AFTER maps numrnn's reset_after to ONNX's linear_before_reset, both ways; the weights are the same:

    reset_after=True   linear_before_reset=1   n = tanh(x W_n^T + b_in + r * (h R_n^T + b_hn))    torch's form
    reset_after=False  linear_before_reset=0   n = tanh(x W_n^T + b_in + (r * h) R_n^T + b_hn)    ONNX's default

A layer without bias has no B input (ONNX's default B is zeros).

Outputs: Y (T, D, B, H) every step, Y_h (D, B, H) the final state (each sequence's last valid step with
sequence_lens, and for the reverse direction the state after step 0). numrnn puts the directions side by side on
the feature axis, forward first: (T, B, D*H), which is Y transposed to (T, B, D, H) and reshaped.
"""
import numpy as np

#: for each kind, the numrnn block that each ONNX block holds, in ONNX's order
ONNX_GATES = {"RNN": (0,), "LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2)}
#: numrnn's reset_after (GRU, GRUCell) -> ONNX GRU's linear_before_reset
GRU_RESET_AFTER = {True: 1, False: 0}
#: numrnn's nonlinearities as ONNX RNN activations: (name, alpha, beta); Affine(1, 0) is x itself, exactly
RNN_ACTIVATIONS = {"tanh": ("Tanh", None, None), "relu": ("Relu", None, None), "sigmoid": ("Sigmoid", None, None),
                   "linear": ("Affine", 1.0, 0.0)}
#: LSTM and GRU: numrnn's (and torch's) gate functions are ONNX's defaults
DEFAULT_ACTIVATIONS = {"LSTM": ("Sigmoid", "Tanh", "Tanh"), "GRU": ("Sigmoid", "Tanh")}
#: numrnn.Activation names as element-wise ONNX operators (linear: no operator at all)
ELEMENTWISE = {"tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu", "softmax": "Softmax"}
#: what a loss's predict applies to the model's output (Sequential.prediction): an ONNX operator or None
LOSS_PREDICT = {"cross_entropy": "Softmax", "binary_cross_entropy": "Sigmoid", "mse": None}


def gates_of(kind):
    return len(ONNX_GATES[kind])


def _blocks(array, order, size):
    """Rows of `array` (G*H, ...) regrouped in block order `order` (a copy)."""
    return np.concatenate([array[g * size:(g + 1) * size] for g in order], axis=0)


def to_onnx(kind, directions, dtype):
    """[(weight_ih, weight_hh, bias_ih or None, bias_hh or None)] per direction (numrnn's names and order) ->
    W (D, G*H, in), R (D, G*H, H), B (D, 2*G*H) or None, in `dtype`."""
    order = ONNX_GATES[kind]
    size = directions[0][1].shape[1]
    W = np.stack([_blocks(w_ih, order, size) for w_ih, _, _, _ in directions]).astype(dtype)
    R = np.stack([_blocks(w_hh, order, size) for _, w_hh, _, _ in directions]).astype(dtype)
    if directions[0][2] is None:
        return W, R, None
    B = np.stack([np.concatenate([_blocks(b_ih, order, size), _blocks(b_hh, order, size)])
                  for _, _, b_ih, b_hh in directions]).astype(dtype)
    return W, R, B


def from_onnx(kind, W, R, B, hidden_size):
    """W, R, B (or None) of one ONNX operator -> [(weight_ih, weight_hh, bias_ih, bias_hh)] per direction in
    numrnn's order (biases None without B). Raises ValueError naming the tensor whose shape does not fit."""
    gates = gates_of(kind)
    rows = gates * hidden_size
    if W.ndim != 3 or W.shape[1] != rows or W.shape[0] not in (1, 2):
        raise ValueError(f"W must have shape (num_directions, {rows}, input_size) for hidden_size {hidden_size}, "
                         f"got {W.shape}")
    directions = W.shape[0]
    if R.shape != (directions, rows, hidden_size):
        raise ValueError(f"R must have shape {(directions, rows, hidden_size)}, got {R.shape}")
    if B is not None and B.shape != (directions, 2 * rows):
        raise ValueError(f"B must have shape {(directions, 2 * rows)}, got {B.shape}")
    inverse = tuple(int(j) for j in np.argsort(ONNX_GATES[kind]))  # numrnn block i is ONNX block inverse[i]
    result = []
    for d in range(directions):
        biases = (None, None) if B is None else (_blocks(B[d, :rows], inverse, hidden_size),
                                                 _blocks(B[d, rows:], inverse, hidden_size))
        result.append((_blocks(W[d], inverse, hidden_size), _blocks(R[d], inverse, hidden_size)) + biases)
    return result


def nonlinearity_of(activation, alpha, beta):
    """An ONNX RNN activation (with its alpha, beta or None) -> numrnn's nonlinearity, or None if it has none."""
    for name, (onnx_name, onnx_alpha, onnx_beta) in RNN_ACTIVATIONS.items():
        if activation.lower() == onnx_name.lower():
            if onnx_name == "Affine" and (alpha, beta) != (onnx_alpha, onnx_beta):
                return None  # alpha * x + beta with other values is no nonlinearity of numrnn's
            return name
    return None
