"""A cell of your own, a peephole LSTM: i = s(a_i + p_i c), f = s(a_f + p_f c), g = tanh(a_g), c' = f c + i g,
o = s(a_o + p_o c'), h' = o tanh(c'). numrnn.Recurrent runs it over time; numrnn.gradcheck checks its backward."""
import numpy as np
import numrnn
from numrnn.functional import derivative, sigmoid


@numrnn.cells.register  # so that numrnn.load can rebuild it from a file
class PeepholeLSTMCell(numrnn.cells.Cell):
    def __init__(self, input_size, hidden_size, *, dtype="float32"):
        super().__init__(input_size, hidden_size, dtype=dtype)
        self.state_size = (hidden_size, hidden_size)  # (hidden, cell)
        self.add_gate_params(4, bias=True)  # weight_ih, weight_hh, bias_ih, bias_hh, torch's layout
        self.add_param("peephole", np.zeros((3, hidden_size)))  # p_i, p_f, p_o

    def config(self):
        return {"input_size": self.input_size, "hidden_size": self.hidden_size, "dtype": np.dtype(self.dtype).name}

    def forward(self, x, state):
        hidden, cell = state
        W_ih, W_hh, b_ih, b_hh = self.gate_params()
        p_i, p_f, p_o = self.params["peephole"]
        a_i, a_f, a_g, a_o = np.split(x @ W_ih.T + b_ih + hidden @ W_hh.T + b_hh, 4, axis=1)
        i, f, g = sigmoid(a_i + p_i * cell), sigmoid(a_f + p_f * cell), np.tanh(a_g)
        new_cell = f * cell + i * g
        o = sigmoid(a_o + p_o * new_cell)
        tanh_c = np.tanh(new_cell)
        new_hidden = o * tanh_c
        return new_hidden, (new_hidden, new_cell), (x, hidden, cell, new_cell, i, f, g, o, tanh_c)

    def backward(self, grad_output, grad_new_state, cache):
        x, hidden, cell, new_cell, i, f, g, o, tanh_c = cache
        W_ih, W_hh, _, _ = self.gate_params()
        p_i, p_f, p_o = self.params["peephole"]
        grad_h = grad_output + grad_new_state[0]
        grad_a_o = grad_h * tanh_c * derivative("sigmoid", o)
        grad_c = grad_new_state[1] + grad_h * o * derivative("tanh", tanh_c) + grad_a_o * p_o
        grad_a_i = grad_c * g * derivative("sigmoid", i)
        grad_a_f = grad_c * cell * derivative("sigmoid", f)
        grad_a_g = grad_c * i * derivative("tanh", g)
        grad_gates = np.concatenate([grad_a_i, grad_a_f, grad_a_g, grad_a_o], axis=1)
        self.add_gate_grads(x, hidden, grad_gates, grad_gates)
        self.grads["peephole"] += np.stack([(grad_a_i * cell).sum(0), (grad_a_f * cell).sum(0),
                                            (grad_a_o * new_cell).sum(0)])
        grad_cell = grad_c * f + grad_a_i * p_i + grad_a_f * p_f
        return grad_gates @ W_ih, (grad_gates @ W_hh, grad_cell)


numrnn.seed(0)
cell = PeepholeLSTMCell(3, 4, dtype="float64")
cell.params["peephole"][...] = np.random.default_rng(0).normal(size=(3, 4))  # nonzero, so the check sees them
errors = numrnn.gradcheck(numrnn.Recurrent(cell), np.random.default_rng(1).normal(size=(2, 5, 3)))
print(f"largest relative error against central differences: {max(errors.values()):.1e}")

X, y = numrnn.data.mod3(n=500, steps=10, seed=0)
model = numrnn.Sequential([numrnn.Recurrent(PeepholeLSTMCell(3, 16)), numrnn.Dense(16, 3)],
                          loss="cross_entropy", optimizer=numrnn.Adam(lr=0.02))
model.fit(X, y, epochs=10, batch_size=32, seed=0)
print("mod3 accuracy:", model.evaluate(*numrnn.data.mod3(n=200, steps=50, seed=1))["accuracy"])
