"""Predict the next symbol mod 3 at every step (seed tutorial 001): input x_t in {0, 1, 2}, target (x_t + 1) % 3.

An Elman RNN with tanh units and a Dense layer on every step, softmax cross-entropy, full BPTT; tested on new
sequences of the training length and on sequences five times longer.

    PYTHONPATH=src python examples/mod3.py
"""
import numrnn
from numrnn import data

numrnn.seed(0)
X, y = data.mod3(500, steps=10, seed=0)  # X (500, 10, 3) one-hot, y (500, 10) class indices

model = numrnn.Sequential([numrnn.RNN(3, 16), numrnn.Dense(16, 3)], loss="cross_entropy",
                          optimizer=numrnn.Adam(lr=0.01))
model.fit(X, y, epochs=20, batch_size=32, validation_data=data.mod3(200, steps=10, seed=1), seed=0)

for steps in (10, 50):
    X_test, y_test = data.mod3(1000, steps=steps, seed=2)
    accuracy = (model.predict(X_test).argmax(axis=-1) == y_test).mean()
    print(f"new sequences of length {steps}: accuracy {100 * accuracy:.2f}%")
