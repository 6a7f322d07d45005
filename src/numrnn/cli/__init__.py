"""The `numrnn` command line: train the tutorial tasks, a CSV forecaster or a character model; evaluate, predict,
forecast, sample, inspect and check gradients.

    main.py       the one parser of every command, and the dispatch to the command modules
    common.py     exit statuses, `numrnn: error: ...` (exit 2, never a traceback), the output folder, number types
    progress.py   the progress bars, as callbacks handed to the applications
    train.py      numrnn train count|mod3|sine|mult-series|csv
    models.py     numrnn evaluate MODEL --task TASK, numrnn predict, numrnn info
    text.py       numrnn train text, numrnn sample, numrnn evaluate MODEL --data FILE
    forecast.py   numrnn forecast
    gradcheck.py  numrnn gradcheck

Each command module parses nothing: main.py hands it the parsed arguments; it calls numrnn.apps and prints.
"""
