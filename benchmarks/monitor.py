"""Benchmark of the monitoring engine against whylogs and Evidently on the same 1,000,000 x 30 data.

    .venv/bin/python benchmarks/monitor.py [--rows N] [--data DIR] [--skip-peers]

Data: the acceptance checks' seeded pair (numpy default_rng(11): base.csv and cur.csv, 30 normal
columns, x00-x09 shifted by 0.5 sd in cur.csv), generated once into DIR.

Ours: `mlops monitor suggest-baseline` on base.csv and `mlops monitor run --kind data-quality` of
cur.csv against it: a first run with an empty numba cache (cold: compiles the kernels), then
--repeat warm runs whose median is reported (the machine is shared; single runs are noisy). Wall seconds and peak RSS are those of the whole command (one
process). Accuracy: every column's drift distance against scipy's exact two-sample KS statistic,
and which columns were flagged.

Peers, each in its own venv created here on first use (.venv-bench-whylogs, .venv-bench-evidently;
Evidently needs pandas < 3): whylogs profiling of base.csv and its KS drift of cur.csv against
base.csv; Evidently's DataSummaryPreset on base.csv and DataDriftPreset of cur.csv against base.csv.
Each reads the CSV itself (pandas), as a user would. Results are printed and saved as JSON. CPU
seconds (user + system) are printed beside wall seconds: on a shared machine they vary far less.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
MLOPS = [str(Path(PYTHON).with_name("mlops"))]
SHIFTED = [f"x{i:02d}" for i in range(10)]
PEERS = {
    "whylogs": ["whylogs[viz]==1.6.4", "pandas<3", "scipy"],
    "evidently": ["evidently==0.7.23", "pandas<3"],
}

_MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": done.returncode, "seconds": seconds, "peak_mb": usage.ru_maxrss / 1024,
                  "cpu_seconds": usage.ru_utime + usage.ru_stime,
                  "stdout": done.stdout[-20000:], "stderr": done.stderr[-4000:]}))
"""

WHYLOGS_PROFILE = """
import json, pandas as pd, whylogs as why
view = why.log(pandas=pd.read_csv(BASE)).view()
print(json.dumps({"columns": len(view.get_columns())}))
"""
WHYLOGS_DRIFT = """
import json, pandas as pd, whylogs as why
from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores
reference = why.log(pandas=pd.read_csv(BASE)).view()
target = why.log(pandas=pd.read_csv(CUR)).view()
scores = calculate_drift_scores(target_view=target, reference_view=reference, with_thresholds=True)
print(json.dumps({"drifted": sorted(c for c, s in scores.items() if s and s["drift_category"] == "DRIFT"),
                  "distance": {c: float(s["statistic"]) for c, s in scores.items() if s}}))
"""
EVIDENTLY_SUMMARY = """
import json, pandas as pd
from evidently import Report
from evidently.presets import DataSummaryPreset
snapshot = Report([DataSummaryPreset()]).run(current_data=pd.read_csv(BASE))
print(json.dumps({"metrics": len(snapshot.dict()["metrics"])}))
"""
EVIDENTLY_DRIFT = """
import json, pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
snapshot = Report([DataDriftPreset()]).run(current_data=pd.read_csv(CUR), reference_data=pd.read_csv(BASE))
drifts = [m for m in snapshot.dict()["metrics"] if m["config"].get("type", "").endswith("ValueDrift")]
print(json.dumps({"drifted": sorted(m["config"]["column"] for m in drifts if m["value"] >= m["config"]["threshold"]),
                  "method": drifts[0]["config"]["method"] if drifts else None,
                  "distance": {m["config"]["column"]: float(m["value"]) for m in drifts}}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=REPO / ".build" / "bench-monitor")
    parser.add_argument("--skip-peers", action="store_true", help="only our engine (keeps saved peer figures)")
    parser.add_argument("--repeat", type=int, default=3, help="warm runs of ours; the median is reported")
    parser.add_argument("--peer-timeout", type=int, default=1800, help="seconds per peer step")
    args = parser.parse_args()
    data = args.data / str(args.rows)
    base, cur = ensure_data(data, args.rows)
    saved = data / "results.json"
    results: dict = {"rows": args.rows, "columns": 30, "cpus": os.cpu_count()}
    results["ours"] = ours(data, base, cur, args.repeat)
    if not args.skip_peers:
        results["peers"] = peers(base, cur, args.peer_timeout)
    elif saved.exists() and "peers" in json.loads(saved.read_text()):
        results["peers"] = json.loads(saved.read_text())["peers"]
    report(results)
    saved.write_text(json.dumps(results, indent=2))
    print(f"\nresults saved to {saved}")
    return 0


def ensure_data(folder: Path, rows: int) -> tuple[Path, Path]:
    base, cur = folder / "base.csv", folder / "cur.csv"
    if (folder / "ready").exists():
        return base, cur
    folder.mkdir(parents=True, exist_ok=True)
    print(f"generating the seeded {rows:,} x 30 pair in {folder} (once)...", flush=True)
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(11)
    columns = [f"x{i:02d}" for i in range(30)]
    frame = pd.DataFrame(rng.normal(0, 1, (rows, 30)), columns=columns)
    shifted = pd.DataFrame(rng.normal(0, 1, (rows, 30)), columns=columns)
    shifted.iloc[:, :10] += 0.5
    frame.to_csv(base, index=False)
    shifted.to_csv(cur, index=False)
    (folder / "ready").touch()
    return base, cur


def measure(command: list[str], env: dict | None = None, timeout: int | None = None) -> dict:
    """Wall seconds and peak RSS of one command (a fresh wrapper process: its only child is it)."""
    try:
        done = subprocess.run(
            [PYTHON, "-c", _MEASURE, *command],
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"rc": None, "seconds": timeout, "peak_mb": None, "error": f"timed out after {timeout} s"}
    out = json.loads(done.stdout.strip().splitlines()[-1])
    if out["rc"] != 0:
        out["error"] = (out["stderr"] or out["stdout"]).strip().splitlines()[-1:] or ["failed"]
    return out


def ours(folder: Path, base: Path, cur: Path, repeat: int) -> dict:
    baseline, report_dir = folder / "ours-baseline", folder / "ours-report"
    cache = Path(tempfile.mkdtemp(prefix="numba-cache-"))
    env = {"NUMBA_CACHE_DIR": str(cache)}
    suggest = [*MLOPS, "monitor", "suggest-baseline", "--dataset", str(base), "--header", "--output", str(baseline)]
    check = [*MLOPS, "monitor", "run", "--kind", "data-quality", "--json"]
    check += ["--baseline-statistics", str(baseline / "statistics.json")]
    check += ["--baseline-constraints", str(baseline / "constraints.json")]
    check += ["--dataset", str(cur), "--header", "--output", str(report_dir)]
    out = {}
    print("ours: suggest-baseline (cold, then warm)...", flush=True)
    out["baseline_cold"] = _strip(measure(suggest, env))
    out["baseline_warm"] = _median([_strip(measure(suggest, env)) for _ in range(repeat)])
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir()
    print("ours: data-quality check (cold, then warm)...", flush=True)
    out["check_cold"] = _strip(measure(check, env))
    out["check_warm"] = _median([_strip(measure(check, env)) for _ in range(repeat)])
    shutil.rmtree(cache, ignore_errors=True)
    violations = json.loads((report_dir / "constraint_violations.json").read_text())["violations"]
    out["drifted"] = sorted(
        v["feature_name"] for v in violations if v["constraint_check_type"] == "baseline_drift_check"
    )
    out["accuracy"] = accuracy(base, cur, baseline, report_dir)
    return out


def _median(runs: list[dict]) -> dict:
    """The run with the median wall time, with every run's seconds alongside."""
    ordered = sorted(runs, key=lambda r: r.get("seconds") or float("inf"))
    return {**ordered[len(ordered) // 2], "all_seconds": [r.get("seconds") for r in runs]}


def _strip(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in ("stdout", "stderr")}


def accuracy(base: Path, cur: Path, baseline: Path, report_dir: Path) -> dict:
    """Each column's sketch distance (Simple, and the Robust one reported) minus the exact KS statistic."""
    import pyarrow.csv as pacsv
    from scipy.stats import ks_2samp

    from processing.monitoring.checks.drift import numeric_distance, robust
    from processing.monitoring.kll import KLLSketch

    def sketches(path: Path) -> dict:
        doc = json.loads(path.read_text())
        out = {}
        for f in doc["features"]:
            sketch = f["numerical_statistics"]["distribution"]["kll"]["sketch"]
            out[f["name"]] = KLLSketch.reconstruct(sketch["parameters"]["k"], sketch["parameters"]["c"], sketch["data"])
        return out

    reference, window = sketches(baseline / "statistics.json"), sketches(report_dir / "statistics.json")
    base_table, cur_table = pacsv.read_csv(base), pacsv.read_csv(cur)
    rows: dict = {}
    for name in reference:
        a, b = base_table[name].to_numpy(), cur_table[name].to_numpy()
        exact = float(ks_2samp(a, b).statistic)
        simple = numeric_distance(reference[name], window[name], "Simple")
        rows[name] = {
            "ks": exact,
            "simple": simple,
            "robust": robust(simple, len(a), len(b), "Robust"),
        }
    worst_simple = max(abs(r["simple"] - r["ks"]) for r in rows.values())
    worst_robust = max(abs(r["robust"] - r["ks"]) for r in rows.values())
    return {"max_abs_error_simple": worst_simple, "max_abs_error_robust": worst_robust, "columns": rows}


def peers(base: Path, cur: Path, timeout: int) -> dict:
    out = {}
    for name, script_pairs in (
        ("whylogs", (("profile", WHYLOGS_PROFILE), ("drift", WHYLOGS_DRIFT))),
        ("evidently", (("summary", EVIDENTLY_SUMMARY), ("drift", EVIDENTLY_DRIFT))),
    ):
        python = ensure_venv(name)
        if python is None:
            out[name] = {"error": "could not create its venv"}
            continue
        out[name] = {"version": _version(python, name)}
        for step, script in script_pairs:
            print(f"{name}: {step}...", flush=True)
            code = textwrap.dedent(script).replace("BASE", repr(str(base))).replace("CUR", repr(str(cur)))
            result = measure([str(python), "-c", code], timeout=timeout)
            if result.get("rc") == 0:
                result["result"] = json.loads(result["stdout"].strip().splitlines()[-1])
            out[name][step] = _strip(result)
    return out


def ensure_venv(name: str) -> Path | None:
    venv = REPO / f".venv-bench-{name}"
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    if marker.exists():
        return python
    print(f"creating {venv.name} for {name} (once)...", flush=True)
    base_python = shutil.which("python3.11") or shutil.which("python3") or PYTHON
    steps = [
        [base_python, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PEERS[name]],
    ]
    for step in steps:
        if subprocess.run(step, check=False).returncode != 0:
            return None
    marker.touch()
    return python


def _version(python: Path, package: str) -> str:
    done = subprocess.run(
        [str(python), "-c", f"import importlib.metadata as m; print(m.version({package!r}))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "?"


def report(results: dict) -> None:
    o = results["ours"]
    print(f"\n{results['rows']:,} rows x 30 numeric columns, {results['cpus']} CPUs\n")
    print(f"{'engine / step':<44}{'wall s':>9}{'CPU s':>8}{'peak MB':>10}  notes")
    line = "{:<44}{:>9}{:>8}{:>10}  {}"
    for key, label in (
        ("baseline_cold", "ours: suggest-baseline, first run (cold)"),
        ("baseline_warm", "ours: suggest-baseline, warm (median)"),
        ("check_cold", "ours: data-quality check, first run (cold)"),
        ("check_warm", "ours: data-quality check, warm (median)"),
    ):
        r = o[key]
        runs = ", ".join(_fmt(s) for s in r.get("all_seconds", []))
        note = r.get("error", "") or (f"runs: {runs} s" if runs else "")
        print(line.format(label, _fmt(r.get("seconds")), _fmt(r.get("cpu_seconds")), _fmt(r.get("peak_mb"), 0), note))
    a = o["accuracy"]
    verdict = "exactly the 10 shifted columns" if o["drifted"] == SHIFTED else f"{o['drifted']}"
    print(
        f"{'':<71}  drift on {verdict}; |distance - exact KS| <= "
        f"{a['max_abs_error_simple']:.4f} (Simple), {a['max_abs_error_robust']:.4f} (Robust, as reported)"
    )
    for name, steps in results.get("peers", {}).items():
        if "error" in steps:
            print(line.format(name, "-", "-", "-", steps["error"]))
            continue
        for step, r in steps.items():
            if step == "version":
                continue
            note = r.get("error", "")
            result = r.get("result", {})
            if "drifted" in result:
                flagged = result["drifted"]
                note = "drift on exactly the 10 shifted columns" if flagged == SHIFTED else f"drift on {flagged}"
                if result.get("method"):
                    note += f" ({result['method']})"
            label = f"{name} {steps['version']}: {step}"
            print(
                line.format(label, _fmt(r.get("seconds")), _fmt(r.get("cpu_seconds")), _fmt(r.get("peak_mb"), 0), note)
            )


def _fmt(value, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
