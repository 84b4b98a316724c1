"""Load test of the post-editor: concurrent gloss requests on loopback.

    python -m bench.post_editor_load [--requests 50] [--model DIR]

starts ``autogloss serve`` on a free 127.0.0.1 port (with a majority model
trained on a few Tsez sentences unless ``--model`` is given), sends all
requests at once, checks that every one succeeded, prints total time and
latency percentiles and writes them to ``bench/results/post-editor-load.md``.
Only loopback is ever contacted; the number of requests is fixed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

RESULTS = Path(__file__).resolve().parent / "results" / "post-editor-load.md"
SENTENCES = "Ixiw raład boqno.\tA big sea formed.\nŽek’a xabar bayrno.\nIxiw žek’u boqno.\tThe man became big."
TSEZ = """\\t Ixiw raład boqno.
\\m ixiw raład b-oq-n
\\g big sea III-become-PST.UNW
\\l A big sea formed.

\\t Žek’a xabar bayrno.
\\m žek’u-a xabar b-ayr-n
\\g man-ERG story III-bring-PST.UNW
\\l The man brought a story.
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_server(models: list[str], corrections: Path, extra: list[str] = (),
                   timeout: float = 60.0) -> Iterator[str]:
    """``autogloss serve`` in a child process on a free loopback port; yields its URL."""
    port = free_port()
    command = [sys.executable, "-m", "autogloss", "serve", "--port", str(port), "--corrections", str(corrections),
               *[arg for model in models for arg in ("--model", model)], *extra]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"autogloss serve exited: {server.stderr.read()}")
            try:
                if httpx.get(url + "/api/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"autogloss serve did not answer on {url} within {timeout:.0f} s")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@dataclass
class LoadResult:
    requests: int
    succeeded: int
    total_seconds: float
    latencies: list[float]
    failures: list[str]

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]

    def summary(self) -> str:
        return (f"{self.succeeded}/{self.requests} gloss requests succeeded in {self.total_seconds:.2f} s "
                f"({self.requests / self.total_seconds:.1f} requests/s); latency p50 {self.percentile(0.5):.3f} s, "
                f"p95 {self.percentile(0.95):.3f} s, max {max(self.latencies):.3f} s, "
                f"mean {statistics.mean(self.latencies):.3f} s")


async def _send_all(url: str, model: str, requests: int) -> LoadResult:
    limits = httpx.Limits(max_connections=requests, max_keepalive_connections=requests)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        async def one(index: int) -> tuple[float, str | None]:
            started = time.perf_counter()
            response = await client.post("/api/documents/text", json={"text": SENTENCES, "model": model})
            elapsed = time.perf_counter() - started
            ok = response.status_code == 200 and len(response.json()["sentences"]) == 3
            return elapsed, None if ok else f"request {index}: {response.status_code} {response.text[:200]}"

        started = time.perf_counter()
        outcomes = await asyncio.gather(*(one(i) for i in range(requests)))
        total = time.perf_counter() - started
    failures = [problem for _, problem in outcomes if problem]
    return LoadResult(requests, requests - len(failures), total, [t for t, _ in outcomes], failures)


def run_load(url: str, model: str, requests: int = 50) -> LoadResult:
    """Send ``requests`` gloss requests at once to a running server."""
    return asyncio.run(_send_all(url, model, requests))


def train_tsez_model(directory: Path) -> Path:
    from autogloss.formats.sigmorphon import read_sigmorphon
    from autogloss.models import MajorityGlosser

    (directory / "tsez.txt").write_text(TSEZ, encoding="utf-8")
    MajorityGlosser.train(read_sigmorphon(directory / "tsez.txt")).save_pretrained(directory / "tsez")
    return directory / "tsez"


HEADER = """# Post-editor load test

`python -m bench.post_editor_load [--model DIR]`: `autogloss serve` on
127.0.0.1 (uvicorn, one process), N concurrent `POST /api/documents/text`
requests of 3 sentences each, sent at once with httpx (asyncio) after 5
warm-up requests. Each model glosses one request at a time (the server
serialises glossing per model), so latency grows with the queue.

Machine: {machine}.

| model | date | requests | succeeded | total time | requests/s | p50 latency | p95 latency | max latency | conditions |
|---|---|---:|---:|---:|---:|---:|---:|---:|---|
"""


def write_results(row: str, model: str) -> None:
    """Add a row to the results table, replacing an earlier one of the same model."""
    from bench.machine import machine_description

    rows = []
    if RESULTS.exists():
        rows = [line for line in RESULTS.read_text(encoding="utf-8").splitlines()
                if line.startswith("| ") and not line.startswith("| model") and not line.startswith(f"| {model} |")]
    RESULTS.write_text(HEADER.format(machine=machine_description()) + "\n".join(rows + [row]) + "\n",
                       encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--model", help="model directory to serve (default: a small majority model)")
    parser.add_argument("--label", help="how to name the model in the results table (default: its path)")
    parser.add_argument("--note", default="", help="a remark on the conditions, written with the figures")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.machine import today

    with tempfile.TemporaryDirectory() as scratch:
        model_dir = Path(args.model) if args.model else train_tsez_model(Path(scratch))
        with running_server([f"bench={model_dir}"], Path(scratch) / "corrections.jsonl") as url:
            run_load(url, "bench", 5)  # warm-up: model loaded, threads started
            result = run_load(url, "bench", args.requests)
    print(result.summary())
    for failure in result.failures:
        print("  " + failure)
    model = args.label or (f"`{args.model}`" if args.model else "majority baseline (2 Tsez sentences)")
    row = (f"| {model} | {today()} | {result.requests} | {result.succeeded} | {result.total_seconds:.2f} s | "
           f"{result.requests / result.total_seconds:.1f} | {result.percentile(0.5):.3f} s | "
           f"{result.percentile(0.95):.3f} s | {max(result.latencies):.3f} s | "
           f"{args.note} (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}) |")
    write_results(row, model)
    print(f"written to {RESULTS}")
    if result.failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
