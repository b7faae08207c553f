"""Tail latency of health and search while a crowd asks questions (issue 25).

    python -m bench.ask_storm                   # 100 concurrent askers, 60 s
    python -m bench.ask_storm --asks 100 --duration 60 --idle 15

Builds the soak's small index of corpus/ (:mod:`bench.soak`), starts a real
``policy-search serve`` on 127.0.0.1 and measures, first on the idle server
and then while ``--asks`` clients each send one ask after another (a new
question each time, so the query cache does not answer for the embedder):

* ``/api/health`` every 200 ms from a probe process of its own;
* ``/api/search`` every 250 ms from another (new words each time), so the
  probes' own timing is not delayed by the askers' threads.

Asks refused (503 ``overloaded``: the ask pool and its queue are full) are
counted; a refused client waits what ``Retry-After`` says, as the widget does
(``--no-backoff``: only ``--pause``, a flood), any other ``--pause`` seconds. Goals: health p99 < 200 ms and search p95 < 500 ms under the storm,
on this machine's cores. Loopback only; bounded in count and time.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from bench.soak import QUESTIONS, Soak, _pct

# One request every PERIOD seconds, timed with perf_counter; one line per request.
_PROBE = (
    "import http.client, random, sys, time, urllib.parse\n"
    "port, out, end, path, words = int(sys.argv[1]), open(sys.argv[2], 'w'), "
    "time.time() + float(sys.argv[3]), sys.argv[4], sys.argv[5].split('|')\n"
    "period, key = float(sys.argv[6]), sys.argv[7]; rng = random.Random(7)\n"
    "while time.time() < end:\n"
    "    url = path\n"
    "    if words != ['']:\n"
    "        q = rng.choice(words) + ' ' + str(rng.randint(1, 10**6))\n"
    "        url += '?' + urllib.parse.urlencode({'q': q, 'k': 5})\n"
    "    t = time.perf_counter()\n"
    "    try:\n"
    "        c = http.client.HTTPConnection('127.0.0.1', port, timeout=60)\n"
    "        c.request('GET', url, headers={'X-API-Key': key} if key else {})\n"
    "        r = c.getresponse(); r.read(); s = r.status; c.close()\n"
    "    except OSError:\n"
    "        s = 0\n"
    "    out.write(f'{s} {(time.perf_counter() - t) * 1000:.2f}\\n'); out.flush()\n"
    "    time.sleep(max(0.0, period - (time.perf_counter() - t)))\n"
)
SEARCH_WORDS = [
    "chất thải rắn",
    "tăng trưởng xanh",
    "năng lượng tái tạo",
    "xe buýt điện",
    "hợp tác quốc tế",
    "quy hoạch đô thị",
    "nông nghiệp hữu cơ",
    "rừng phòng hộ",
]


def _probe(
    port: int, out: Path, seconds: float, path: str, words: list[str], period: float, key: str = ""
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            _PROBE,
            str(port),
            str(out),
            str(seconds),
            path,
            "|".join(words),
            str(period),
            key,
        ]
    )


def _read(path: Path) -> tuple[list[float], Counter[int]]:
    ms, statuses = [], Counter[int]()
    for line in path.read_text().splitlines():
        status, value = line.split()
        statuses[int(status)] += 1
        if status == "200":
            ms.append(float(value))
    return ms, statuses


class Storm(Soak):
    def asker(self, key: str, seed: int, stop: threading.Event, out: Counter[str]) -> None:
        rng = random.Random(seed)
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=self.base, headers=headers, timeout=120) as client:
            while not stop.is_set():
                q = f"{rng.choice(QUESTIONS)} {rng.randint(1, 10**6)}"
                wait = self.args.pause
                try:
                    r = client.get("/api/ask", params={"q": q})
                    label = str(r.status_code)
                    if r.status_code >= 400:
                        label += " " + str(r.json().get("error", ""))
                    if r.status_code in (429, 503) and not self.args.no_backoff:
                        # As the widget does: wait as long as the server asks.
                        wait = max(wait, float(r.headers.get("retry-after", 1)))
                except (httpx.HTTPError, ValueError) as exc:
                    label = type(exc).__name__
                with self.lock:
                    out[label] += 1
                stop.wait(wait)

    def phase(self, name: str, seconds: float, askers: int) -> dict[str, object]:
        health_file = self.work / f"health-{name}.txt"
        search_file = self.work / f"search-{name}.txt"
        stop = threading.Event()
        asks: Counter[str] = Counter()
        threads = [
            threading.Thread(
                target=self.asker, args=(self.keys[i % len(self.keys)], i, stop, asks), daemon=True
            )
            for i in range(askers)
        ]
        for t in threads:
            t.start()
        if askers:
            time.sleep(3)  # the storm is on before the probes start
        probes = [
            _probe(self.port, health_file, seconds, "/api/health", [""], 0.2),
            # Keyed: the per-address budget is not what is measured.
            _probe(
                self.port, search_file, seconds, "/api/search", SEARCH_WORDS, 0.25, self.keys[-1]
            ),
        ]
        for p in probes:
            p.wait(timeout=seconds + 120)
        stop.set()
        for t in threads:
            t.join(timeout=150)
        health, health_status = _read(health_file)
        search, search_status = _read(search_file)
        return {
            "phase": name,
            "health": health,
            "health_status": health_status,
            "search": search,
            "search_status": search_status,
            "asks": asks,
        }

    def storm(self) -> int:
        print(f"ask storm: scratch folder {self.work}", flush=True)
        self.build_index()
        self.start_server()
        with httpx.Client(base_url=self.base, timeout=120) as c:
            for q in QUESTIONS:  # warm: BM25, accents, windows loaded; embedder ready
                c.get("/api/ask", params={"q": q}, headers={"X-API-Key": self.keys[0]})
        results = [self.phase("idle", self.args.idle, 0)]
        results.append(self.phase("storm", self.args.duration, self.args.asks))
        self.stop_server()

        print(
            f"\n{self.args.asks} concurrent askers, {self.args.duration:g} s; "
            f"probes: health every 200 ms, search every 250 ms (own processes)"
        )
        head = (
            f"{'phase':<6} {'health n':>8} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7} | "
            f"{'search n':>8} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7} | asks answered"
        )
        print(head)
        print("-" * len(head))
        for r in results:
            h, s = r["health"], r["search"]
            assert isinstance(h, list) and isinstance(s, list)
            asks = r["asks"]
            assert isinstance(asks, Counter)
            print(
                f"{r['phase']:<6} {len(h):>8} {_pct(h, 50):>7.1f} {_pct(h, 95):>7.1f} "
                f"{_pct(h, 99):>7.1f} {max(h, default=float('nan')):>7.1f} | "
                f"{len(s):>8} {_pct(s, 50):>7.1f} {_pct(s, 95):>7.1f} {_pct(s, 99):>7.1f} "
                f"{max(s, default=float('nan')):>7.1f} | "
                + (", ".join(f"{k}: {v}" for k, v in sorted(asks.items())) or "-")
            )
            bad = {
                k: v for k, v in {**r["health_status"], **r["search_status"]}.items() if k != 200
            }
            if bad:
                print(f"       non-200 probe answers: {bad}")
        storm = results[-1]
        h, s = storm["health"], storm["search"]
        assert isinstance(h, list) and isinstance(s, list)
        ok = _pct(h, 99) < 200 and _pct(s, 95) < 500
        print(
            f"\ngoal (health p99 < 200 ms, search p95 < 500 ms during the storm): "
            f"{'met' if ok else 'NOT met'}"
        )
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)
        return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--asks", type=int, default=100, help="concurrent askers (100)")
    parser.add_argument("--duration", type=float, default=60, help="seconds of storm (60)")
    parser.add_argument("--idle", type=float, default=15, help="seconds of idle probes (15)")
    parser.add_argument(
        "--pause", type=float, default=0.5, help="an asker's pause after each answer (0.5 s)"
    )
    parser.add_argument(
        "--no-backoff",
        action="store_true",
        help="ignore Retry-After: a refused asker asks again after --pause (a flood)",
    )
    parser.add_argument("--per-key", type=int, default=100_000, help="rate limit per key")
    parser.add_argument("--workdir", help="scratch folder (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    args.clients = 8  # search keys for the askers, shared round-robin
    args.seed = 25
    sys.exit(Storm(args).storm())


if __name__ == "__main__":
    main()
