"""Fixture writer for tests/fixtures/drift (run by scripts/make-drift-fixtures).

Input drift numbers are scipy's, with Evidently's definitions (src/drift/input_drift.h says which):
binning by numpy.histogram_bin_edges(ref + cur, "sturges") when the reference has more than 20
distinct values, else one bin per distinct value. Streaming decisions are river's detectors with
their default parameters. Large windows are described by a formula ("lcg") rather than stored:
value_i = ((i * a + c) % m) / m * scale + shift, which C++ evaluates to the same doubles.
"""

import json
import math
import sys

import numpy as np
import river
import scipy
from river import drift
from scipy import stats
from scipy.spatial import distance


def lcg(spec):
    n, a, c, m, scale, shift = (spec[k] for k in ("n", "a", "c", "m", "scale", "shift"))
    return np.array([((i * a + c) % m) / m * scale + shift for i in range(n)], dtype=float)


def shares(ref, cur, fill_zeroes):
    if len(np.unique(ref)) > 20:
        edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        r = np.histogram(ref, edges)[0] / len(ref)
        c = np.histogram(cur, edges)[0] / len(cur)
    else:
        keys = sorted(set(ref) | set(cur))
        r = np.array([np.sum(ref == k) / len(ref) for k in keys])
        c = np.array([np.sum(cur == k) / len(cur) for k in keys])
    if fill_zeroes:
        for p in (r, c):
            mn = min(p[p != 0])
            np.place(p, p == 0, mn / 10**6 if mn <= 0.0001 else 0.0001)
    return r, c


def input_case(name, ref, cur, spec=None):
    ks = stats.ks_2samp(ref, cur)
    r, c = shares(ref, cur, True)
    psi = float(np.sum((r - c) * np.log(r / c)))
    r, c = shares(ref, cur, False)
    js = float(distance.jensenshannon(r, c))
    wd = float(stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001))
    case = {"name": name, "ks_statistic": float(ks.statistic), "ks_pvalue": float(ks.pvalue),
            "psi": psi, "jensenshannon": js, "wasserstein_normed": wd}
    if spec is None:
        case["reference"] = [float(x) for x in ref]
        case["current"] = [float(x) for x in cur]
    else:
        case["reference_lcg"], case["current_lcg"] = spec
    keys = sorted(set(ref) | set(cur))
    if 2 <= len(keys) <= 5 and all(np.sum(ref == k) > 0 for k in keys):
        f_exp = [np.sum(ref == k) * len(cur) / len(ref) for k in keys]
        f_obs = [np.sum(cur == k) for k in keys]
        chi = stats.chisquare(f_obs, f_exp)
        case["chisquare_statistic"] = float(chi.statistic)
        case["chisquare_pvalue"] = float(chi.pvalue)
    if len(keys) == 2:
        # Evidently's "z": two-proportion z-test, p = 2 (1 - Phi(|z|)) (scipy.stats.norm).
        p1 = np.mean(ref != keys[0])
        p2 = np.mean(cur != keys[0])
        pooled = (p1 * len(ref) + p2 * len(cur)) / (len(ref) + len(cur))
        z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / len(ref) + 1.0 / len(cur)))
        case["z_pvalue"] = float(2 * (1 - stats.norm.cdf(abs(z))))
    return case


def main(out):
    rng = np.random.default_rng(20261201)
    cases = []
    # Exact KS: equal and unequal sizes, ties, shifts, constant windows.
    for n1, n2, shift in [(20, 20, 0.0), (50, 50, 0.5), (30, 45, 0.3), (100, 37, 0.0), (200, 300, 0.2),
                          (1000, 1000, 0.1), (800, 1200, 0.05), (7, 5, 1.0), (64, 96, 0.8)]:
        ref = rng.normal(0, 1, n1)
        cur = rng.normal(shift, 1, n2)
        cases.append(input_case(f"normal_{n1}_{n2}_shift{shift}", ref, cur))
    ref = np.round(rng.normal(0, 1, 150), 1)
    cur = np.round(rng.normal(0.2, 1, 120), 1)
    cases.append(input_case("ties_150_120", ref, cur))
    ref = rng.integers(0, 4, 200).astype(float)
    cur = rng.integers(0, 4, 180).astype(float)
    cur[:30] = 3.0
    cases.append(input_case("categories_4_200_180", ref, cur))
    ref = rng.integers(0, 2, 300).astype(float)
    cur = (rng.random(250) < 0.6).astype(float)
    cases.append(input_case("binary_300_250", ref, cur))
    cases.append(input_case("constant_same", np.full(40, 2.5), np.full(30, 2.5)))
    cases.append(input_case("level_shift_60", rng.normal(10, 1, 60), rng.normal(13, 1, 60)))
    # Asymptotic KS: a window over 10,000 points.
    for (n1, s1), (n2, s2) in [((12000, 0.0), (9000, 0.01)), ((15000, 0.0), (15000, 0.2)),
                               ((20000, 0.0), (30, 0.0)), ((11000, 0.0), (10500, 0.003))]:
        sa = {"n": n1, "a": 7919, "c": 13, "m": 10007, "scale": 1.0, "shift": s1}
        sb = {"n": n2, "a": 104729, "c": 7, "m": 9973, "scale": 1.0, "shift": s2}
        cases.append(input_case(f"lcg_{n1}_{n2}_shift{s2}", lcg(sa), lcg(sb), (sa, sb)))

    kstwo = []
    for n, x in [(141, 0.05), (500, 0.02), (500, 0.06), (5000, 0.004), (5000, 0.012), (5000, 0.03),
                 (150000, 0.002), (150000, 0.004), (50, 0.1), (50, 0.3), (100, 0.6), (1000, 0.0006)]:
        kstwo.append({"n": n, "x": x, "sf": float(stats.kstwo.sf(x, n))})

    chi2 = [{"x": x, "dof": k, "sf": float(stats.chi2.sf(x, k))}
            for x, k in [(0.5, 1), (3.84, 1), (10.0, 3), (25.0, 4), (1e-3, 2), (80.0, 10), (200.0, 50)]]

    binom = []
    for k, n, p in [(40, 50, 0.8), (45, 50, 0.8), (30, 50, 0.8), (8, 8, 0.95), (90, 100, 0.95),
                    (100, 100, 0.95), (80, 100, 0.8), (12, 20, 0.8), (0, 10, 0.8), (700, 1000, 0.8),
                    (19, 20, 0.95), (57, 60, 0.95)]:
        binom.append({"k": k, "n": n, "p": p, "pvalue": float(stats.binomtest(k, n, p).pvalue)})

    streams = []
    for name, values in [
        ("level_shift", list(rng.normal(0, 1, 600)) + list(rng.normal(3, 1, 600))),
        ("small_shift", list(rng.normal(0, 1, 1500)) + list(rng.normal(0.5, 1, 1500))),
        ("no_change", list(rng.normal(0, 1, 2000))),
        ("variance_change", list(rng.normal(0, 1, 800)) + list(rng.normal(0, 4, 800))),
        ("ramp", [0.002 * i + float(e) for i, e in enumerate(rng.normal(0, 0.5, 2500))]),
        ("big_values", list(rng.normal(100, 10, 700)) + list(rng.normal(60, 10, 700))),
    ]:
        entry = {"name": name, "values": [float(v) for v in values]}
        for key, det in [("adwin", drift.ADWIN()), ("page_hinkley", drift.PageHinkley())]:
            hits = []
            for i, v in enumerate(values):
                det.update(v)
                if det.drift_detected:
                    hits.append(i)
            entry[key] = hits
        streams.append(entry)
    binary = []
    for name, values in [
        ("error_rate_up", list(rng.binomial(1, 0.1, 800)) + list(rng.binomial(1, 0.4, 800))),
        ("error_rate_flat", list(rng.binomial(1, 0.2, 3000))),
        ("error_rate_steps", list(rng.binomial(1, 0.05, 500)) + list(rng.binomial(1, 0.3, 500))
         + list(rng.binomial(1, 0.05, 500)) + list(rng.binomial(1, 0.5, 500))),
    ]:
        det = drift.binary.DDM()
        hits = []
        for i, v in enumerate(values):
            det.update(int(v))
            if det.drift_detected:
                hits.append(i)
        binary.append({"name": name, "values": [int(v) for v in values], "ddm": hits})

    versions = {"scipy": scipy.__version__, "river": river.__version__, "numpy": np.__version__}
    with open(f"{out}/input_drift.json", "w") as f:
        json.dump({"versions": versions, "cases": cases, "kstwo": kstwo, "chi2": chi2, "binomtest": binom}, f)
    with open(f"{out}/streaming.json", "w") as f:
        json.dump({"versions": versions, "streams": streams, "binary": binary}, f)


if __name__ == "__main__":
    main(sys.argv[1])
