"""Count the ones in a binary sequence (seed tutorial 003) with a 1-unit linear RNN: s_t = w_x x_t + w_rec s_{t-1}.

The exact counter is w_x = w_rec = 1, and then the model counts sequences of any length. Float64 because at
length 1000 an error under 0.01 needs |w_rec - 1| below ~1e-7; Rprop's step floor of 0 lets it get there.

    PYTHONPATH=src python examples/count_ones.py
"""
import numpy as np

import numrnn
from numrnn import data

numrnn.seed(0)
X, y = data.count_ones(100, steps=10, seed=0, dtype="float64")

model = numrnn.Sequential(
    [numrnn.RNN(1, 1, nonlinearity="linear", bias=False, return_sequences=False, dtype="float64")],
    loss="mse",
    optimizer=numrnn.Rprop(lr=0.001, etas=(0.5, 1.2), step_sizes=(0.0, 50.0)),
)
model.fit(X, y, epochs=3000, batch_size=len(X), seed=0)  # full batch: Rprop follows the signs of the gradient

rnn = model.layers[0]
print(f"w_x = {rnn.params['weight_ih_l0'][0, 0]:.12f}, w_rec = {rnn.params['weight_hh_l0'][0, 0]:.12f}")
for length in (10, 100, 1000):
    X_test, y_test = data.count_ones(100, steps=length, seed=2, dtype="float64")
    error = np.abs(model.predict(X_test) - y_test).max()
    print(f"length {length:4d}: largest |prediction - count| = {error:.2e}")
