"""Serving benchmark: the local endpoint host against a bare floor and MLServer, in one run.

    .venv/bin/python benchmarks/serving.py [--duration 5] [--rounds 12] [--skip-mlserver] [--json out.json]

Load: wrk (Debian's `wrk`; `apt-get install -y wrk`), 1 thread, 16 keep-alive connections, one single-row
CSV request at a time per connection, in a process of its own. Servers, all with 2 worker processes and
XGBoost nthread=1 on the same model (the seed's hyperparameters, 100 rounds, breast-cancer data):
- host, capture off / host, capture on (100 %, input and output): `mlops endpoint serve` from this repo,
  POST /endpoints/<name>/invocations (the InvokeEndpoint wire API, the path boto3 uses);
- floor: a bare Starlette app on uvicorn that parses one CSV row and calls inplace_predict, no capture
  and no checks. Its two processes listen with SO_REUSEPORT like ours: uvicorn's own `--workers` shares
  one socket (one worker grabs a burst of connections) and, on asyncio, its sockets miss TCP_NODELAY
  (40 ms delayed-ACK stalls), which would make the floor a strawman;
- MLServer 1.7.1 with mlserver-xgboost in its own venv (.venv-bench-mlserver, created on first use),
  V2 inference protocol JSON with one row (MLServer takes no CSV), parallel workers off (they crash
  with the current uvloop), as measured for the issue.
This machine's two vCPUs are shared: the same CPU-bound loop takes 55 or 105 ms depending on the minute.
So the servers run in short slices (5 s) over many rounds (12), order rotating, and the ratios are taken
within each round, where all servers saw nearly the same machine; medians are reported, and the server
processes' CPU time per request, the steadiest figure.
Last, a SIGTERM during load: every 200 answer wrk counted must have its capture record.
Figures are printed, not asserted (tests check correctness, not timings).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
MLSERVER_VENV = REPO / ".venv-bench-mlserver"
MLSERVER_PINS = ["mlserver==1.7.1", "xgboost-cpu==3.0.5"]
# mlserver-xgboost asks for `xgboost`, whose wheel drags in 470 MB of CUDA NCCL; the CPU-only wheel of the
# same XGBoost as ours (installed above) serves the same model, so it goes in without its dependencies.
MLSERVER_NO_DEPS = ["mlserver-xgboost==1.7.1"]
SEED = {"max_depth": 5, "eta": 0.2, "gamma": 4, "min_child_weight": 6, "subsample": 0.8}


# -- the model -----------------------------------------------------------------------------------------------


def build_model(work: Path) -> tuple[Path, Path, str]:
    """model.tar.gz as the pipeline registers it, the bare model file, and one request row."""
    import numpy as np
    import xgboost as xgb
    from sklearn.datasets import load_breast_cancer

    features, target = load_breast_cancer(return_X_y=True)
    label = 1 - target  # the project's convention: 1 = malignant
    params = {**SEED, "objective": "binary:logistic", "nthread": 1, "verbosity": 0}
    booster = xgb.train(params, xgb.DMatrix(features, label=label, nthread=1), num_boost_round=100)
    model_file = work / "model.ubj"
    booster.save_model(str(model_file))
    archive = work / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(model_file, arcname="xgboost-model")
        tar.add(REPO / "inference" / "inference.py", arcname="code/inference.py")
        tar.add(REPO / "processing" / "data_contract.json", arcname="code/data_contract.json")
    row = ",".join(f"{v:.6g}" for v in np.asarray(features[0]))
    return archive, model_file, row


# -- servers -------------------------------------------------------------------------------------------------


class Server:
    """A server under test: started, measured, stopped."""

    name = "server"

    def start(self) -> None: ...

    def stop(self) -> dict: ...

    def pids(self) -> list[int]:
        return []

    url = ""
    body = b""
    content_type = "text/csv"


class Host(Server):
    def __init__(self, archive: Path, row: str, home: Path, capture: bool):
        self.archive, self.row, self.home, self.capture = archive, row, home, capture
        self.name = "host, capture on" if capture else "host, capture off"
        self.body = row.encode()
        self.endpoint = None

    def start(self) -> None:
        from offline.endpoint import start_endpoint

        self.endpoint = start_endpoint(
            model_data=self.archive,
            endpoint_name="bench-capture" if self.capture else "bench-plain",
            capture_enabled=self.capture,
            workers=2,
            home=self.home,
        )
        self.url = f"{self.endpoint.url}/endpoints/{self.endpoint.name}/invocations"

    def stop(self) -> dict:
        return self.endpoint.stop()

    def pids(self) -> list[int]:
        return [self.endpoint.pid, *descendants(self.endpoint.pid)]


FLOOR_APP = """
import os
import numpy as np
import xgboost as xgb
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

booster = xgb.Booster()
booster.load_model(os.environ["FLOOR_MODEL"])
booster.set_param({"nthread": 1})


async def invocations(request):
    body = await request.body()
    row = np.array(body.decode().split(","), dtype=np.float32).reshape(1, -1)
    return Response(f"{float(booster.inplace_predict(row, validate_features=False)[0])}\\n", media_type="text/csv")


app = Starlette(routes=[Route("/invocations", invocations, methods=["POST"])])
"""


class Floor(Server):
    name = "floor (Starlette)"

    def __init__(self, model_file: Path, row: str, work: Path):
        self.model_file, self.work = model_file, work
        self.body = row.encode()
        self.processes: list[subprocess.Popen] = []

    def start(self) -> None:
        (self.work / "floor_app.py").write_text(FLOOR_APP)
        self.processes = []
        port = free_port()
        env = {**os.environ, "FLOOR_MODEL": str(self.model_file), "OMP_NUM_THREADS": "1", "PYTHONPATH": str(self.work)}
        for _ in range(2):
            self.processes.append(
                subprocess.Popen([sys.executable, __file__, "--floor-worker", str(port)], env=env, cwd=self.work)
            )
        self.url = f"http://127.0.0.1:{port}/invocations"
        wait_until_answers(self.url, self.body, "text/csv", self.processes)

    def stop(self) -> dict:
        for p in self.processes:
            p.send_signal(signal.SIGTERM)
        for p in self.processes:
            p.wait(15)
        return {}

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]


def floor_worker(port: int) -> None:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    http = "httptools" if _has("httptools") else "h11"
    config = uvicorn.Config("floor_app:app", http=http, loop="asyncio", log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


class MLServer(Server):
    name = "MLServer 1.7.1"
    content_type = "application/json"

    def __init__(self, model_file: Path, row: str, work: Path):
        self.model_file, self.work = model_file, work
        values = [float(v) for v in row.split(",")]
        request = {"inputs": [{"name": "predict", "shape": [1, len(values)], "datatype": "FP32", "data": values}]}
        self.body = json.dumps(request).encode()
        self.process = None

    def start(self) -> None:
        ensure_mlserver_venv()
        models = self.work / "mlserver"
        model_dir = models / "breast-cancer"
        model_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.model_file, model_dir / "model.ubj")
        (model_dir / "model-settings.json").write_text(
            json.dumps(
                {
                    "name": "breast-cancer",
                    "implementation": "mlserver_xgboost.XGBoostModel",
                    "parameters": {"uri": "./model.ubj"},
                }
            )
        )
        port, grpc_port, metrics_port = free_port(), free_port(), free_port()
        (models / "settings.json").write_text(
            json.dumps(
                {
                    "http_port": port,
                    "grpc_port": grpc_port,
                    "metrics_port": metrics_port,
                    "parallel_workers": 0,
                    "host": "127.0.0.1",
                    "debug": False,
                    "metrics_endpoint": None,
                }
            )
        )
        with open(self.work / "mlserver.log", "wb") as log:
            self.process = subprocess.Popen(
                [str(MLSERVER_VENV / "bin" / "mlserver"), "start", str(models)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "OMP_NUM_THREADS": "1"},
            )
        self.url = f"http://127.0.0.1:{port}/v2/models/breast-cancer/infer"
        wait_until_answers(self.url, self.body, self.content_type, [self.process], timeout=180)

    def stop(self) -> dict:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        return {}

    def pids(self) -> list[int]:
        return [self.process.pid, *descendants(self.process.pid)]


def ensure_mlserver_venv() -> None:
    if (MLSERVER_VENV / "bin" / "mlserver").exists():
        return
    print(f"creating {MLSERVER_VENV} (MLServer has its own pins) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(MLSERVER_VENV)], check=True)
    pip = [str(MLSERVER_VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *MLSERVER_PINS], check=True)
    subprocess.run([*pip, "--no-deps", *MLSERVER_NO_DEPS], check=True)


# -- load ----------------------------------------------------------------------------------------------------

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "{content_type}"
wrk.body = io.open("{body_file}", "rb"):read("*a")
"""

# Counts 200 answers, each request carrying its own InferenceId, for the SIGTERM check.
WRK_COUNTING_SCRIPT = (
    WRK_SCRIPT
    + """
local threads = {{}}
setup = function(thread)
  table.insert(threads, thread)
end
counter = 0
ok = 0
request = function()
  counter = counter + 1
  wrk.headers["X-Amzn-SageMaker-Inference-Id"] = "sigterm-" .. counter
  return wrk.format()
end
response = function(status, headers, body)
  if status == 200 then ok = ok + 1 end
end
done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("ok") end
  io.write("answered_200=" .. total .. "\\n")
end
"""
)


def run_wrk(server: Server, work: Path, duration: float, connections: int, script: str = WRK_SCRIPT) -> dict:
    body_file = work / f"body-{abs(hash(server.name))}.bin"
    body_file.write_bytes(server.body)
    lua = work / "wrk.lua"
    lua.write_text(script.format(content_type=server.content_type, body_file=body_file))
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--latency", "-s", str(lua), server.url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


def parse_wrk(output: str) -> dict:
    def latency(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    answered = re.search(r"answered_200=(\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "p50_ms": latency("50%"),
        "p99_ms": latency("99%"),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0,
        "answered_200": int(answered.group(1)) if answered else None,
    }


# -- the SIGTERM check ---------------------------------------------------------------------------------------


def sigterm_under_load(archive: Path, row: str, home: Path, work: Path) -> dict:
    """Stop a capturing host in the middle of a 16-connection load; count answers and records."""
    from offline.endpoint import count_records, start_endpoint

    server = Host(archive, row, home, capture=True)
    server.endpoint = start_endpoint(model_data=archive, endpoint_name="bench-sigterm", home=home, workers=2)
    server.url = f"{server.endpoint.url}/endpoints/bench-sigterm/invocations"
    wrk = subprocess.Popen(
        ["wrk", "-t1", "-c16", "-d6s", "-s", str(_write_counting_script(server, work)), server.url],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(3)
    started = time.monotonic()
    summary = server.endpoint.stop()
    stop_seconds = time.monotonic() - started
    output = wrk.communicate()[0]
    answered = int(re.search(r"answered_200=(\d+)", output).group(1))
    capture_root = home / "s3" / "sagemaker-us-east-1-123456789012" / "datacapture" / "bench-sigterm"
    records = count_records(capture_root)
    return {
        "answered_200": answered,
        "captured_records": records,
        "lost": answered - records,
        "host_reported": summary.get("captured"),
        "stop_seconds": round(stop_seconds, 2),
    }


def _write_counting_script(server: Server, work: Path) -> Path:
    body_file = work / "sigterm-body.bin"
    body_file.write_bytes(server.body)
    lua = work / "sigterm.lua"
    lua.write_text(WRK_COUNTING_SCRIPT.format(content_type=server.content_type, body_file=body_file))
    return lua


# -- helpers -------------------------------------------------------------------------------------------------


def descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        parent = queue.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            children = (task / "children").read_text().split() if (task / "children").exists() else []
            for child in map(int, children):
                found.append(child)
                queue.append(child)
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes (all their threads) so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_answers(url: str, body: bytes, content_type: str, processes, timeout: float = 60) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise RuntimeError(f"a server process for {url} exited early")
        try:
            request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    time.sleep(1.0)  # let every worker finish starting
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


FLOOR, ON, OFF, PEER = "floor (Starlette)", "host, capture on", "host, capture off", "MLServer 1.7.1"
QUIET = 0.85  # a round is "quiet" when the floor reached at least this share of its best round


def report(results: dict[str, list[dict]], sigterm: dict | None) -> dict:
    """Medians over all rounds, and over the quiet rounds, when the machine gave its two cores in full."""
    rounds = range(len(next(iter(results.values()))))
    quiet = list(rounds)
    if FLOOR in results:
        best = max(r["rps"] for r in results[FLOOR])
        quiet = [i for i in rounds if results[FLOOR][i]["rps"] >= QUIET * best]
    outcome = {"sigterm": sigterm, "quiet_rounds": [i + 1 for i in quiet]}
    for label, chosen in (("all rounds", list(rounds)), ("quiet rounds", quiet)):
        rows = _table(results, chosen)
        goals = _goals(results, rows, chosen, sigterm)
        print(f"\n{label} ({', '.join(str(i + 1) for i in chosen)}):")
        print(
            f"{'server':22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'CPU us/req':>10}  req/s per round"
        )
        for name, row in rows.items():
            print(
                f"{name:22} {row['rps']:8.0f} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f} {row['errors']:7d} "
                f"{row['cpu_us_per_request']:10.0f}  {row['rounds_rps']}"
            )
        for name, value in goals.items():
            print(f"  {name:48} {value:.3f}" if isinstance(value, float) else f"  {name:48} {value}")
        outcome[label.replace(" ", "_")] = {"servers": rows, "goals": goals}
    if sigterm:
        print(f"\nSIGTERM check: {json.dumps(sigterm)}")
    return outcome


def _table(results: dict[str, list[dict]], chosen: list[int]) -> dict:
    rows = {}
    for name, runs in results.items():
        runs = [runs[i] for i in chosen]
        rows[name] = {
            "rps": statistics.median(r["rps"] for r in runs),
            "p50_ms": statistics.median(r["p50_ms"] for r in runs),
            "p99_ms": statistics.median(r["p99_ms"] for r in runs),
            "errors": sum(r["non_2xx"] + r["socket_errors"] for r in runs),
            "cpu_us_per_request": statistics.median(r["cpu_us_per_request"] for r in runs),
            "rounds_rps": [round(r["rps"]) for r in runs],
        }
    return rows


def _goals(results: dict[str, list[dict]], rows: dict, chosen: list[int], sigterm: dict | None) -> dict:
    def ratio(a: str, b: str) -> float:
        """Median over rounds of a/b within each round: both saw the same machine, give or take seconds."""
        return statistics.median(results[a][i]["rps"] / results[b][i]["rps"] for i in chosen)

    goals = {}
    if ON in rows and FLOOR in rows:
        goals["capture on / floor (goal >= 0.80)"] = ratio(ON, FLOOR)
    if ON in rows and PEER in rows:
        goals["capture on / MLServer (goal >= 4)"] = ratio(ON, PEER)
    if ON in rows:
        goals["capture on p99 ms (goal <= 10)"] = rows[ON]["p99_ms"]
    if ON in rows and OFF in rows:
        goals["capture cost (goal <= 0.10)"] = 1 - ratio(ON, OFF)
        goals["capture cost in server CPU per request"] = (
            rows[ON]["cpu_us_per_request"] / rows[OFF]["cpu_us_per_request"] - 1
        )
    if sigterm:
        goals["records lost at SIGTERM under load (goal 0)"] = sigterm["lost"]
    return goals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5, help="seconds of load per server and round")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--skip-mlserver", action="store_true")
    parser.add_argument("--only", help="comma-separated servers to run: host-off,host-on,floor,mlserver")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--floor-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_worker:
        return floor_worker(args.floor_worker)
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get update && apt-get install -y wrk")
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as scratch:
        work = Path(scratch)
        archive, model_file, row = build_model(work)
        servers = {
            "host-off": Host(archive, row, work / "home", capture=False),
            "host-on": Host(archive, row, work / "home", capture=True),
            "floor": Floor(model_file, row, work),
            "mlserver": MLServer(model_file, row, work),
        }
        wanted = args.only.split(",") if args.only else list(servers)
        if args.skip_mlserver and "mlserver" in wanted:
            wanted.remove("mlserver")
        results = measure([servers[k] for k in wanted], work, args)
        sigterm = sigterm_under_load(archive, row, work / "home-sigterm", work) if "host-on" in wanted else None
        outcome = report(results, sigterm)
        outcome["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
        outcome["settings"] = {"duration_s": args.duration, "rounds": args.rounds, "connections": args.connections}
        if args.json:
            args.json.write_text(json.dumps(outcome, indent=2))


def measure(servers: list[Server], work: Path, args) -> dict[str, list[dict]]:
    """All servers up at once (idle ones cost nothing); each round loads each in turn, order rotating."""
    results: dict[str, list[dict]] = {server.name: [] for server in servers}  # one entry per round
    started = []
    try:
        for server in servers:
            server.start()
            started.append(server)
            run_wrk(server, work, 2, args.connections)  # warm up connections and caches
        for round_number in range(args.rounds):
            shift = round_number % len(servers)
            for server in servers[shift:] + servers[:shift]:
                pids = server.pids()
                cpu_before = cpu_seconds(pids)
                result = run_wrk(server, work, args.duration, args.connections)
                result["cpu_us_per_request"] = (cpu_seconds(pids) - cpu_before) / max(1, result["requests"]) * 1e6
                results[server.name].append(result)
                print(
                    f"round {round_number + 1} {server.name:22} {result['rps']:8.0f} req/s"
                    f"  p50 {result['p50_ms']:.2f} ms  p99 {result['p99_ms']:.2f} ms"
                    f"  errors {result['non_2xx'] + result['socket_errors']}"
                    f"  server CPU {result['cpu_us_per_request']:.0f} us/request",
                    flush=True,
                )
    finally:
        for server in started:
            server.stop()
    return results


if __name__ == "__main__":
    main()
