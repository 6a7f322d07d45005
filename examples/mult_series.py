"""Predict the next element of s, 2s, ..., 10s and then an end marker (seed tutorial 000), one-hot over 61 classes.

Only 5 different series exist (s = 2..6), so the 60/40 split of the tutorial puts the same 5 series in both parts:
this shows that the RNN can learn the series, not that it generalises.

    PYTHONPATH=src python examples/mult_series.py
"""
import numrnn
from numrnn import data

numrnn.seed(0)
X, y = data.mult_series(3000, seed=0)  # X (3000, 10, 61), y (3000, 10): next element; class 1 at the last step
X_train, y_train, X_test, y_test = X[:1800], y[:1800], X[1800:], y[1800:]

model = numrnn.Sequential([numrnn.RNN(61, 32), numrnn.Dense(32, 61)], loss="cross_entropy",
                          optimizer=numrnn.Adam(lr=0.01))
model.fit(X_train, y_train, epochs=30, batch_size=64, validation_data=(X_test, y_test), seed=0)

per_step = (model.predict(X_test).argmax(axis=-1) == y_test).mean(axis=0)
print("accuracy per step:", " ".join(f"{100 * a:.0f}%" for a in per_step))
print(f"end marker: {100 * per_step[-1]:.2f}%")
