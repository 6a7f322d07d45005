"""The applications built on numrnn: what the command line trains, and the examples' recipes.

    tasks/      the four tutorial tasks (count, mod3, sine, mult-series): data, model, metrics, plots; TASKS
    forecast/   one numeric column of a CSV file: reading it, training a forecaster, forecasting
    charlm/     character-level language models: corpus, model, trainer, evaluation, sampling
    runs.py     a finished run and its folder (model.npz, history.json, plots)
    plots.py    the PNGs, matplotlib imported only when one is drawn
    callbacks.py  the recorders the runs keep (gradient per time step, a parameter's path)
    gradcheck.py  the gradient check of a small layer, truncated BPTT included

Applications use the library's public API only, and the library never imports them; nothing here imports the
command line (numrnn.cli), which hands in what it needs (a progress bar is a callback).
"""
