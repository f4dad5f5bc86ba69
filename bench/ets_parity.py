#!/usr/bin/env python3
"""Compares two ets_batch_throughput --dump files (bench/gpu_check: the CPU build's against the
CUDA build's). Per series: identical line (every printed digit), same model, relative difference
of -2 log-likelihood and the largest relative difference of the forecasts (relative to the
largest |forecast| of the CPU side). Exit 1 when the series differ in count or ids, when an
error differs, or when a difference exceeds the stated tolerance (src/forecast/README.md, "GPU
batches"): -2 log-likelihood 1e-9 relative, forecasts 1e-6 relative, and, for AutoEts, another
model only where the two AICc values are that close.

    bench/ets_parity.py CPU_DUMP OTHER_DUMP [--loglik-tol 1e-9] [--forecast-tol 1e-6]
"""
import argparse
import sys


def read(path):
    rows = {}
    order = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            rows[parts[0]] = parts
            order.append(parts[0])
    return order, rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cpu")
    ap.add_argument("other")
    ap.add_argument("--loglik-tol", type=float, default=1e-9)
    ap.add_argument("--forecast-tol", type=float, default=1e-6)
    args = ap.parse_args()
    order_a, a = read(args.cpu)
    order_b, b = read(args.other)
    if order_a != order_b:
        print("parity: the two runs fitted different series")
        return 1
    identical = same_model = 0
    worst_loglik = worst_forecast = 0.0
    bad = []
    for sid in order_a:
        x, y = a[sid], b[sid]
        if x == y:
            identical += 1
            same_model += 1
            continue
        if x[1] == "error" or y[1] == "error":
            bad.append(f"{sid}: {' '.join(x[1:])} vs {' '.join(y[1:])}")
            continue
        ll_x, ll_y = float(x[2]), float(y[2])
        d_ll = abs(ll_x - ll_y) / max(abs(ll_x), 1e-300)
        if x[1] != y[1]:
            # Another model (AutoEts): acceptable only on a near-tie of the AICc values.
            aicc_x, aicc_y = float(x[3]), float(y[3])
            if abs(aicc_x - aicc_y) > args.loglik_tol * max(abs(aicc_x), 1e-300):
                bad.append(f"{sid}: model {x[1]} vs {y[1]}, AICc {aicc_x} vs {aicc_y}")
            continue
        same_model += 1
        worst_loglik = max(worst_loglik, d_ll)
        fx = [float(v) for v in x[8:]]
        fy = [float(v) for v in y[8:]]
        scale = max(max(abs(v) for v in fx), 1e-300)
        d_f = max(abs(p - q) for p, q in zip(fx, fy)) / scale
        worst_forecast = max(worst_forecast, d_f)
        if d_ll > args.loglik_tol or d_f > args.forecast_tol:
            bad.append(f"{sid}: {x[1]} -2logL rel diff {d_ll:.2e}, forecast rel diff {d_f:.2e}")
    n = len(order_a)
    print(f"parity: {identical}/{n} series identical to the last digit, {same_model}/{n} same model; "
          f"largest relative difference: -2 log-likelihood {worst_loglik:.2e}, forecasts {worst_forecast:.2e} "
          f"(tolerance {args.loglik_tol:g} / {args.forecast_tol:g})")
    for line in bad[:20]:
        print("  beyond tolerance: " + line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
