#!/bin/sh
# The walk that recover's progress lines make (src/jobs/recover/disk.rs), over a tree of
# 1,000,000 files: 1,000 directories of 1,000 files of 1 byte (made once, under target/bench/,
# and kept: it takes about a minute). Prints each run's wall time, CPU time and the share of one
# core that the walk costs at the default --progress-interval of 60 s, with the rule that spaces
# a slow walk out (src/rules/progress.rs: a walk of w is followed by at least 99 w).
# `make bench` runs it; `scripts/bench-walk.sh [RUNS]` alone too.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
tree=$root/target/bench/tree
if [ ! -f "$tree.done" ]; then
    echo "bench-walk: making $tree (1,000,000 files)" >&2
    rm -rf "$tree" && mkdir -p "$tree"
    python3 - "$tree" <<'END_OF_PY'
import os, sys
top = sys.argv[1]
for d in range(1000):
    path = os.path.join(top, "base", str(d))
    os.makedirs(path)
    for f in range(1000):
        fd = os.open(os.path.join(path, str(f)), os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, b"x")
        os.close(fd)
END_OF_PY
    touch "$tree.done"
fi
cargo build --quiet --release --locked --example walk
walk=$root/target/release/examples/walk
# One cold-ish run to warm the dentry cache the way a restore's own writes do, then the runs.
"$walk" "$tree" 1 >/dev/null
python3 - "$walk" "$tree" "$runs" <<'END_OF_PY'
import resource, subprocess, sys, time
walk, tree, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
walls, cpus = [], []
for _ in range(runs):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    out = subprocess.run([walk, tree, "1"], check=True, capture_output=True, text=True).stdout
    walls.append(time.monotonic() - start)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
walls.sort(); cpus.sort()
wall, cpu = walls[len(walls) // 2], cpus[len(cpus) // 2]
pause = max(60.0, 99 * wall)
print(f"walk of 1,000,000 files ({out.split()[0]} bytes): median of {runs}: {wall * 1000:.0f} ms wall, "
      f"{cpu * 1000:.0f} ms CPU; at --progress-interval 60 the next walk comes {pause:.0f} s later: "
      f"{100 * cpu / (pause + wall):.2f} % of one core")
END_OF_PY
