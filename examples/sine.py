"""Predict the next value of sin(x) from the 50 before it (seed tutorial 002), x = 0, 1, 2, ... radians.

A many-to-one RNN (tanh) + Dense, mean squared error, Adam with a cosine learning-rate decay. The test windows
come from x >= 1000, a stretch of the wave the model never saw.

    PYTHONPATH=src python examples/sine.py
"""
import numpy as np

import numrnn
from numrnn import data
from numrnn.callbacks import LearningRateScheduler
from numrnn.schedules import Schedule

numrnn.seed(0)
X, y = data.sine(500, start=0)              # X (500, 50, 1), y (500, 1)
X_val, y_val = data.sine(100, start=500)
X_test, y_test = data.sine(200, start=1000)  # never seen in training

model = numrnn.Sequential([numrnn.RNN(1, 32, return_sequences=False), numrnn.Dense(32, 1)], loss="mse",
                          optimizer=numrnn.Adam(lr=0.01))
epochs = 150
model.fit(X, y, epochs=epochs, batch_size=16, validation_data=(X_val, y_val), seed=0,
          callbacks=[LearningRateScheduler(Schedule("cosine"))])  # lr from 0.01 down towards 0 along half a cosine

rmse = float(np.sqrt(np.mean((model.predict(X_test) - y_test) ** 2)))
print(f"RMSE on windows from x >= 1000: {rmse:.2e}")
