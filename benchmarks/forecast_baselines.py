"""numrnn's forecaster against what a data scientist would otherwise use, on real series shipped with statsmodels.

    python benchmarks/forecast_baselines.py                      # the table (about a minute on two cores)
    python benchmarks/forecast_baselines.py --seeds 0,1,2,3,4    # numrnn's spread over seeds
    python benchmarks/forecast_baselines.py --series co2,elnino --json results.json

For each series: write it to a CSV, run the default command `numrnn train csv --data FILE --target COLUMN --out DIR`
(its date column found by itself; the whole command timed, plots left out), and read its test-tail table (the last
15% of the rows, which it never trains on): numrnn's one-step and multi-step RMSE, naive, seasonal naive and ETS
(statsmodels' ETSModel, the kind with the lowest AIC). Then fit a simple SARIMAX on the same rows before the tail:
d = 1 when KPSS rejects level stationarity at 5%, seasonal (0, 1, 1, S) when the series has a season, (p, q) in
{0, 1, 2} x {0, 1} by AIC; its one-step forecasts of the tail use the fitted parameters (filtered, not refitted).

The series: sunspots (yearly, 1700-2008), co2 (Mauna Loa, weekly resampled to monthly means, gaps interpolated),
elnino (monthly sea-surface temperatures, the year-by-month table reshaped), realgdp (macrodata, quarterly, a strong
trend) and nile (yearly volumes, 100 rows). Yearly series have no calendar season; the seasonal naive column then
uses the known cycle (11 years for sunspots; none for the Nile), as the issue did.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import _setup  # noqa: F401  (this checkout's numrnn, BLAS threads)
import numpy as np

SERIES = ("sunspots", "co2", "elnino", "realgdp", "nile")
CYCLE = {"sunspots": 11}


def load(name):
    """The series as a pandas DataFrame: a date column, then the target."""
    import pandas as pd
    import statsmodels.api as sm
    if name == "sunspots":
        data = sm.datasets.sunspots.load_pandas().data
        return pd.DataFrame({"year": data.YEAR.astype(int).astype(str), "sunspots": data.SUNACTIVITY})
    if name == "co2":
        data = sm.datasets.co2.load_pandas().data
        monthly = data.co2.resample("MS").mean().interpolate()
        return pd.DataFrame({"month": monthly.index.strftime("%Y-%m-%d"), "co2": monthly.to_numpy().round(3)})
    if name == "elnino":
        data = sm.datasets.elnino.load_pandas().data
        values = data.iloc[:, 1:].to_numpy().reshape(-1)
        dates = pd.date_range(f"{int(data.YEAR.iloc[0])}-01-01", periods=values.size, freq="MS")
        return pd.DataFrame({"month": dates.strftime("%Y-%m"), "temperature": values})
    if name == "realgdp":
        data = sm.datasets.macrodata.load_pandas().data
        dates = [f"{int(y)}-{3 * int(q) - 2:02d}-01" for y, q in zip(data.year, data.quarter)]
        return pd.DataFrame({"quarter": dates, "realgdp": data.realgdp})
    if name == "nile":
        data = sm.datasets.nile.load_pandas().data
        return pd.DataFrame({"year": data.year.astype(int).astype(str), "volume": data.volume})
    raise ValueError(f"unknown series {name!r}; known: {', '.join(SERIES)}")


def sarimax(y, n_seen, season):
    """(one-step forecasts of rows n_seen .. n - 1, the order) of the simple SARIMAX described above."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX
    from statsmodels.tsa.stattools import kpss
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = int(kpss(y[:n_seen], regression="c", nlags="auto")[1] < 0.05)
        seasonal = (0, 1, 1, season) if season else (0, 0, 0, 0)
        best = None
        for p in (0, 1, 2):
            for q in (0, 1):
                try:
                    result = SARIMAX(y[:n_seen], order=(p, d, q), seasonal_order=seasonal).fit(disp=False)
                except (ValueError, np.linalg.LinAlgError):
                    continue
                if best is None or result.aic < best[0]:
                    best = (result.aic, (p, d, q), result.params)
        _, order, params = best
        fitted = SARIMAX(y, order=order, seasonal_order=seasonal).filter(params).fittedvalues
    name = f"({order[0]},{order[1]},{order[2]})" + (f"(0,1,1,{season})" if season else "")
    return np.asarray(fitted)[n_seen:], name


def run_numrnn(csv_path, target, out, seed=None):
    command = [sys.executable, "-m", "numrnn", "train", "csv", "--data", csv_path, "--target", target,
               "--out", out, "--no-plots", "--quiet"] + (["--seed", str(seed)] if seed is not None else [])
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr}")
    with open(os.path.join(out, "history.json")) as stream:
        record = json.load(stream)
    return record, seconds, (load_before + os.getloadavg()[0]) / 2, result.stdout


def measure(name, folder, seeds):
    frame = load(name)
    date, target = frame.columns[0], frame.columns[1]
    path = os.path.join(folder, f"{name}.csv")
    frame.to_csv(path, index=False)
    runs = [run_numrnn(path, target, os.path.join(folder, f"{name}-{seed}"), seed) for seed in seeds]
    record, seconds, load_average, printed = runs[0]
    table = record["backtest"]
    by_model = {row["model"].split(" (")[0]: row for row in table["rows"]}
    settings = record["settings"]
    y = frame[target].to_numpy(dtype=np.float64)
    n_seen = settings["train_rows"] + settings["validation_rows"]
    season = record["forecaster"]["season"]
    forecasts, order = sarimax(y, n_seen, season)
    ets = next((row for row in table["rows"] if row["model"].startswith("ETS")), None)
    snaive = by_model.get("seasonal naive")
    cycle = season or CYCLE.get(name)
    if snaive is None and cycle:  # a yearly series' known cycle, as the issue measured it
        snaive = {"one_step": {"rmse": rmse(y[n_seen - cycle:len(y) - cycle], y[n_seen:])}}
    numrnn_rmse = [r[0]["metrics"]["rmse"] for r in runs]
    row = {"series": name, "rows": len(y), "test_rows": len(y) - n_seen, "season": season, "cycle": cycle,
           "naive": by_model["naive"]["one_step"]["rmse"],
           "seasonal_naive": snaive["one_step"]["rmse"] if snaive else None,
           "ets": ets["one_step"]["rmse"] if ets else None, "ets_model": ets["model"] if ets else None,
           "sarimax": rmse(forecasts, y[n_seen:]), "sarimax_order": order,
           "numrnn": numrnn_rmse[0], "numrnn_seeds": numrnn_rmse,
           "numrnn_multi_step": record["metrics"].get("multi_step_rmse"), "steps": record["metrics"].get("steps"),
           "seconds": seconds, "load": load_average, "window": settings["window"],
           "epochs": record["metrics"]["epochs_run"]}
    best = min(v for v in (row["ets"], row["sarimax"]) if v is not None)
    row["ratio"] = row["numrnn"] / best
    row["beats_naive"] = row["numrnn"] < row["naive"] and (row["seasonal_naive"] is None
                                                          or row["numrnn"] < row["seasonal_naive"])
    return row


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def show(rows):
    head = (f"{'series':10}{'rows':>6}{'naive':>9}{'s.naive':>9}{'ETS':>9}{'SARIMAX':>9}{'numrnn':>9}"
            f"{'ratio':>7}{'multi':>9}{'steps':>6}{'seconds':>9}{'load':>6}")
    print(head)
    for r in rows:
        def cell(value, width=9):
            return f"{'-':>{width}}" if value is None else f"{value:>{width}.4g}"
        print(f"{r['series']:10}{r['rows']:>6}{cell(r['naive'])}{cell(r['seasonal_naive'])}{cell(r['ets'])}"
              f"{cell(r['sarimax'])}{cell(r['numrnn'])}{r['ratio']:>7.2f}{cell(r['numrnn_multi_step'])}"
              f"{r['steps'] or '-':>6}{r['seconds']:>9.1f}{r['load']:>6.1f}")
    print()
    for r in rows:
        spread = r["numrnn_seeds"]
        extra = (f"; seeds {', '.join(f'{v:.4g}' for v in spread)} (mean {np.mean(spread):.4g})"
                 if len(spread) > 1 else "")
        print(f"{r['series']}: ETS = {r['ets_model']}, SARIMAX{r['sarimax_order']}, window {r['window']}, "
              f"{r['epochs']} epochs, seasonal naive of {r['cycle'] or '-'}, beats naive and seasonal naive: "
              f"{r['beats_naive']}, within 1.1x of the better of ETS and SARIMAX: {r['ratio'] <= 1.1}{extra}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", default=",".join(SERIES), help="comma-separated, from " + ", ".join(SERIES))
    parser.add_argument("--seeds", default="0", help="numrnn's seeds, comma-separated (the table shows the first)")
    parser.add_argument("--out", default=None, help="keep the CSVs and runs here (default: a temporary folder)")
    parser.add_argument("--json", default=None, metavar="FILE", help="also write the rows as JSON")
    parser.add_argument("--threads", default="2", help="BLAS threads (read by _setup)")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    folder = args.out or tempfile.mkdtemp(prefix="numrnn-forecast-")
    os.makedirs(folder, exist_ok=True)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start; files in {folder}\n")
    rows = [measure(name, folder, seeds) for name in args.series.split(",")]
    show(rows)
    if args.json:
        with open(args.json, "w") as stream:
            json.dump(rows, stream, indent=1)


if __name__ == "__main__":
    main()
