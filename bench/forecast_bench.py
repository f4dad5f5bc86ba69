#!/usr/bin/env python3
"""Forecasting speed and accuracy, Pulse vs statsforecast vs R forecast, side by side in one run.

Every engine fits the same three ETS models - ANN (SES), AAN (Holt), AAdN (damped trend) - and
the automatically selected ETS model ("Auto": statsforecast's AutoETS, R's ets() and Pulse's
AutoEts, each choosing by AICc among the same default candidates with the group's seasonal
period: 1 for Weekly as in M4, 24 for Hourly) to the same M4 series on ONE core, forecasts the
test horizon with 80% and 95% intervals, and is scored on the same test values (MASE with m = 1,
sMAPE, 95% interval coverage). Times cover fit + forecast +
intervals only (file reading and JIT warm-up excluded). Prints medians over --repeat runs and the
speed ratios.

  .venv/bin/pip install -r bench/requirements.txt      # statsforecast (pinned)
  apt-get install r-cran-forecast                      # R's forecast package (optional)
  scripts/build release
  .venv/bin/python bench/forecast_bench.py [--group Weekly] [--repeat 3] [--r-runs 1]
"""
import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODELS = [("ANN", "ANN", False), ("AAN", "AAN", False), ("AAdN", "AAN", True), ("Auto", "ZZZ", None)]
PERIOD = {"Weekly": 1, "Hourly": 24}


def read_m4(path):
    out = {}
    with open(path) as f:
        rows = csv.reader(f)
        next(rows)
        for row in rows:
            out[row[0]] = np.array([float(v) for v in row[1:] if v != ""])
    return out


def mase(train, test, fc):
    scale = np.mean(np.abs(np.diff(train)))
    return float(np.mean(np.abs(test - fc)) / scale)


def smape(test, fc):
    return float(np.mean(200 * np.abs(test - fc) / (np.abs(test) + np.abs(fc))))


def run_statsforecast(train, test, period):
    os.environ["NUMBA_NUM_THREADS"] = "1"
    from statsforecast.models import AutoETS
    warm = np.arange(1.0, 100.0) + np.sin(np.arange(99.0))
    for _, spec, damped in MODELS:  # JIT warm-up, untimed
        AutoETS(season_length=period if spec == "ZZZ" else 1, model=spec, damped=damped).forecast(
            y=warm, h=3, level=[80, 95])
    results = {}
    for name, spec, damped in MODELS:
        seconds, scores, smapes, covered, points = 0.0, [], [], 0, 0
        m = period if spec == "ZZZ" else 1
        for sid, y in train.items():
            h = len(test[sid])
            t0 = time.perf_counter()
            fc = AutoETS(season_length=m, model=spec, damped=damped).forecast(y=y, h=h, level=[80, 95])
            seconds += time.perf_counter() - t0
            scores.append(mase(y, test[sid], fc["mean"]))
            smapes.append(smape(test[sid], fc["mean"]))
            covered += int(np.sum((test[sid] >= fc["lo-95"]) & (test[sid] <= fc["hi-95"])))
            points += h
        results[name] = {"seconds": seconds, "mase": float(np.mean(scores)), "smape": float(np.mean(smapes)),
                         "coverage95": covered / points}
    return results


R_SCRIPT = r"""
suppressMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
read_m4 <- function(p) { d <- read.csv(p, stringsAsFactors = FALSE); lapply(seq_len(nrow(d)), function(i) { v <- as.numeric(d[i, -1]); v[!is.na(v)] }) }
train <- read_m4(args[1]); test <- read_m4(args[2])
period <- as.integer(args[3])
specs <- list(ANN = list("ANN", FALSE), AAN = list("AAN", FALSE), AAdN = list("AAN", TRUE), Auto = list("ZZZ", NULL))
for (name in names(specs)) {
  s <- specs[[name]]; secs <- 0; mases <- c(); smapes <- c(); cov <- 0; pts <- 0
  for (i in seq_along(train)) {
    y <- ts(train[[i]], frequency = if (name == "Auto") period else 1); h <- length(test[[i]])
    t0 <- proc.time()[["elapsed"]]
    fc <- forecast(ets(y, model = s[[1]], damped = s[[2]]), h = h, level = c(80, 95))
    secs <- secs + proc.time()[["elapsed"]] - t0
    mases <- c(mases, mean(abs(test[[i]] - fc$mean)) / mean(abs(diff(train[[i]]))))
    smapes <- c(smapes, mean(200 * abs(test[[i]] - fc$mean) / (abs(test[[i]]) + abs(fc$mean))))
    cov <- cov + sum(test[[i]] >= fc$lower[, 2] & test[[i]] <= fc$upper[, 2]); pts <- pts + h
  }
  cat(sprintf('{"model": "%s", "seconds": %.4f, "mase": %.4f, "smape": %.4f, "coverage95": %.4f}\n', name, secs,
              mean(mases), mean(smapes), cov / pts))
}
"""


def run_r(train_path, test_path, period):
    if not shutil.which("Rscript"):
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as f:
        f.write(R_SCRIPT)
    out = subprocess.run(["Rscript", f.name, str(train_path), str(test_path), str(period)], capture_output=True, text=True,
                         check=True, env={**os.environ, "OMP_NUM_THREADS": "1"}).stdout
    os.unlink(f.name)
    return {r["model"]: r for r in map(json.loads, out.splitlines())}


def run_pulse(train_path, test_path, binary, period):
    out = subprocess.run(["taskset", "-c", "0", str(binary), str(train_path), str(test_path), str(period)],
                         capture_output=True, text=True, check=True).stdout
    return {r["model"]: r for r in map(json.loads, out.splitlines())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--group", default="Weekly", choices=["Weekly", "Hourly"])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "m4"))
    ap.add_argument("--binary", default=str(ROOT / "build/release/bench/forecast_throughput"))
    ap.add_argument("--r-runs", type=int, default=None,
                    help="run R in only the first N repeats (its Auto run on Hourly takes over 10 minutes); 0 skips R")
    args = ap.parse_args()
    train_path = Path(args.data) / f"{args.group}-train.csv"
    test_path = Path(args.data) / f"{args.group}-test.csv"
    train, test = read_m4(train_path), read_m4(test_path)
    runs = {"pulse": [], "statsforecast": [], "R": []}
    for r in range(args.repeat):
        period = PERIOD[args.group]
        runs["pulse"].append(run_pulse(train_path, test_path, args.binary, period))
        runs["statsforecast"].append(run_statsforecast(train, test, period))
        r_runs = args.repeat if args.r_runs is None else args.r_runs
        rr = run_r(train_path, test_path, period) if r < r_runs else None
        if rr:
            runs["R"].append(rr)
        print(f"run {r + 1}: " + json.dumps({k: v[-1] for k, v in runs.items() if v}), flush=True)
    print(f"\nM4 {args.group} subset: {len(train)} series, one core, fit + forecast + 80/95% intervals; "
          f"medians of {args.repeat} runs (R: {len(runs['R'])})")
    engines = [e for e in ("pulse", "statsforecast", "R") if runs[e]]
    print(f"{'model':6s} " + " ".join(f"{e + ' s':>16s} {e + ' MASE':>12s} {e + ' sMAPE':>12s} {e + ' cov95':>11s}"
                                      for e in engines) + "  sf/pulse  R/pulse")
    for name, _, _ in MODELS:
        med = {e: {k: statistics.median(run[name][k] for run in runs[e]) for k in ("seconds", "mase", "smape", "coverage95")}
               for e in engines}
        cells = " ".join(f"{med[e]['seconds']:16.3f} {med[e]['mase']:12.3f} {med[e]['smape']:12.3f} {med[e]['coverage95']:11.3f}"
                         for e in engines)
        sf = med["statsforecast"]["seconds"] / med["pulse"]["seconds"]
        r = med["R"]["seconds"] / med["pulse"]["seconds"] if "R" in med else float("nan")
        print(f"{name:6s} {cells}  {sf:7.1f}x {r:7.1f}x")


if __name__ == "__main__":
    main()
