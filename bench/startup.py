"""Start-up cost of the command line, as a person runs it (issue 9).

For `yingshe art mandelbrot` at a few sizes, each run as its own process: wall time of the whole
command, the render time the artwork records (the mapping's own work), and the overhead = total −
render (interpreter, imports, registry, saving). Run with a cold numba cache (NUMBA_CACHE_DIR set
to an empty folder: everything compiles) and a warm one. Also `yingshe --help` and `yingshe list`.

    python bench/startup.py --repeat 5

CPU seconds (user + sys of the child) are printed beside wall seconds: on a shared machine they
are the steadier number.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(cmd: list[str], env: dict) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {p.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, p.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sizes", default="256,1024")
    a = ap.parse_args()
    py = [sys.executable, "-m", "yingshe"]
    with tempfile.TemporaryDirectory() as tmp:
        base = dict(os.environ, YINGSHE_HOME=str(Path(tmp) / "home"))
        rows = []
        for what, cmd in (("yingshe --help", py + ["--help"]), ("yingshe list", py + ["list"])):
            walls, cpus = zip(*[run(cmd, base)[:2] for _ in range(a.repeat)])
            rows.append((what, statistics.median(walls), statistics.median(cpus), None, None))
        for size in map(int, a.sizes.split(",")):
            for cache in ("cold", "warm"):
                walls, cpus, renders = [], [], []
                for i in range(a.repeat):
                    env = dict(base)
                    if cache == "cold":  # a fresh numba cache each time: every kernel it needs compiles
                        env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(dir=tmp)
                    out = str(Path(tmp) / f"m{size}-{cache}-{i}.png")
                    w, c, stdout = run(py + ["art", "mandelbrot", "-o", out, "--size", str(size), "--json",
                                             "--no-gallery", "-q"], env)
                    walls.append(w)
                    cpus.append(c)
                    renders.append(json.loads(stdout)["seconds"])
                wall, render = statistics.median(walls), statistics.median(renders)
                rows.append((f"art mandelbrot --size {size} ({cache} JIT cache)", wall, statistics.median(cpus),
                             render, wall - render))
    print(f"{'command':48s} {'wall s':>7s} {'cpu s':>6s} {'render s':>9s} {'overhead s':>10s}")
    for what, wall, cpu, render, over in rows:
        r = f"{render:9.3f}" if render is not None else " " * 9
        o = f"{over:10.3f}" if over is not None else " " * 10
        print(f"{what:48s} {wall:7.3f} {cpu:6.3f} {r} {o}")


if __name__ == "__main__":
    main()
