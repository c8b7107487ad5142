#!/usr/bin/env python3
"""Measures patroni_barman (ours) against Patroni's Python patroni_barman against ONE stub
pg-backup-api, in alternating runs (ours, Python, ours, ...) so that any drift of the machine hits
both alike. Run by scripts/bench.sh (`make bench`), which installs the Python tool. Standard
library only. Prints a Markdown report and writes it to --out.

Each run goes through the launcher bench.sh compiles (--spawn; itself run with Popen and reaped
with os.wait4): it forks, execs the tool, reaps it with wait4 and reports the tool's wall time
(fork..reap), peak RSS (ru_maxrss) and CPU (user+sys). Popen + os.wait4 on the tool itself would
fold this Python process's RSS (~15 MiB) into ru_maxrss (see bench.sh).
"""
import argparse
import datetime
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

N_FAST, N_PROFILE, N_POLLS = 30, 10, 10  # alternating runs per tool in each phase
POLLS = 1000                             # polls of the recover in phase c
# Operation specs of the stub, see scripts/stub_api.py.
FIRST_POLL = {"in_progress_polls": 0, "result": "DONE"}
PROFILE = {"done_after": 0.4}          # a real config switch takes 0.3-0.5 s
MANY_POLLS = {"in_progress_polls": POLLS - 1}
MiB = 1024 * 1024
RTT_PATH = "/status?rtt"  # the stub's own latency is measured on this (the query tells it apart)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # --ours/--ours-http: the default and HTTP-only binaries; --venv: holds patroni; --stub:
    # scripts/stub_api.py; --spawn: the launcher bench.sh compiles; --out: the Markdown report.
    for name in ("--ours", "--ours-http", "--venv", "--stub", "--spawn", "--out"):
        ap.add_argument(name, required=True)
    args = ap.parse_args()
    started = time.perf_counter()
    tools = {"ours": args.ours, "python": os.path.join(args.venv, "bin", "patroni_barman")}

    # The stub hands out operation specs in creation order, all servers together, so the list
    # follows the phases below exactly (2 tools per round, plus 1 warm-up round for the
    # first phase). A fresh server name per run: pg-backup-api refuses a second operation
    # for one server within the same second, which would add a 1 s retry to the timing.
    ops = ([FIRST_POLL] * 2 * (N_FAST + 1) + [PROFILE] * 2 * N_PROFILE
           + [MANY_POLLS] * 2 * N_POLLS)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        scenario, record = os.path.join(tmp, "scenario.json"), os.path.join(tmp, "record.jsonl")
        with open(scenario, "w", encoding="utf-8") as f:
            json.dump({"servers": [f"s{i}" for i in range(len(ops))], "operations": ops}, f)
        stub = subprocess.Popen([sys.executable, args.stub, "--scenario", "@" + scenario, "--record",
                                 record, "--lifetime", "3600"], stdout=subprocess.PIPE, text=True)
        try:
            line = stub.stdout.readline().split()
            if len(line) != 2 or line[0] != "PORT":
                sys.exit(f"bench: the stub did not start (said {line!r})")
            results = measure(args.spawn, tools, int(line[1]), os.path.join(tmp, "data"))
            results["requests"] = audit(record, results.pop("expected"))
        finally:
            stub.terminate()
            stub.wait()
    results["check"] = measure_check(args.spawn, args.stub, tools["ours"])
    results["history"] = measure_history(args.spawn, args.stub, tools["ours"])
    report = render(args, tools, results, time.perf_counter() - started)
    print(report)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(report)
    print(f"(written to {args.out})", file=sys.stderr)


def run(spawn, argv):
    """One run: (wall seconds, peak RSS KiB, CPU seconds); aborts unless it exits 0."""
    proc = subprocess.Popen([spawn, *argv], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    proc.stdout.close()
    _, status, _ = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # so that Popen does not reap it again
    fields = out.split()
    if proc.returncode != 0 or len(fields) != 5:
        sys.exit(f"bench: the launcher failed ({proc.returncode}, {out!r}) on {argv}")
    code, wall_ns, rss_kib, user_us, sys_us = map(int, fields)
    if code != 0:
        sys.exit(f"bench: exit code {code} (expected 0) from: {subprocess.list2cmdline(argv)}"
                 "\nrerun that command by hand to see its messages")
    return wall_ns / 1e9, rss_kib, (user_us + sys_us) / 1e6


def measure(spawn, tools, port, data_dir):
    url, counter = f"http://127.0.0.1:{port}", iter(range(10**6))
    expected = {}  # server -> (tool, number of polls the stub must see from that run or None)

    def config_switch(name, polls=None):
        server = f"s{next(counter)}"
        expected[server] = (name, polls)
        return [tools[name], "--api-url", url, "config-switch", "--barman-server", server,
                "--barman-model", "m", "--switch-when", "always", "on_role_change", "primary", "batman"]

    def recover(name):
        server = f"s{next(counter)}"
        expected[server] = (name, POLLS)
        # The Python tool's --loop-wait is an int; it accepts 0 (no sleep at all between polls).
        return [tools[name], "--api-url", url, "recover", "--barman-server", server, "--backup-id", "latest",
                "--ssh-command", "ssh postgres@pg1", "--data-directory", data_dir,
                "--loop-wait", "0.001" if name == "ours" else "0"]

    def alternate(label, rounds, make_argv, warmup=0):
        print(f"bench: {label}: {rounds} alternating runs per tool", file=sys.stderr, flush=True)
        out = {"ours": [], "python": []}
        for i in range(warmup + rounds):
            for name in ("ours", "python"):
                sample = run(spawn, make_argv(name))
                if i >= warmup:
                    out[name].append(sample)
        return out

    return {
        "load": os.getloadavg(),  # evaluated first: before any run
        "stub_rtt": stub_round_trip(port),
        "fast": alternate("config-switch done on first poll", N_FAST, lambda n: config_switch(n, 1), 1),
        "help": alternate("--help", N_FAST, lambda n: [tools[n], "--help"], 1),
        "profile": alternate("config-switch on the 0.4 s profile", N_PROFILE, config_switch),
        "polls": alternate(f"recover with {POLLS} polls", N_POLLS, recover),
        "expected": expected,
    }


CHECK_GROW = {"servers": 100, "backups": 50}
N_CHECK = 5


def measure_check(spawn, stub_script, ours):
    """`check` against a /diagnose of 100 servers x 50 backups: (samples, body bytes)."""
    stub = subprocess.Popen([sys.executable, stub_script, "--scenario",
                             json.dumps({"diagnose_grow": CHECK_GROW}), "--lifetime", "600"],
                            stdout=subprocess.PIPE, text=True)
    try:
        port = int(stub.stdout.readline().split()[1])
        url = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(url + "/diagnose") as answer:
            size = len(answer.read())
        print(f"bench: check against a /diagnose of {size} bytes: {N_CHECK} runs", file=sys.stderr)
        argv = [ours, "--api-url", url, "check", "--barman-server", "main"]
        return [run(spawn, argv) for _ in range(N_CHECK)], size
    finally:
        stub.terminate()
        stub.wait()


HISTORY, N_HISTORY = 30_000, 5


def measure_history(spawn, stub_script, ours):
    """config-switch against servers whose lists hold HISTORY past operations each (years of a
    busy server: pg-backup-api never deletes a job): (samples, list bytes)."""
    servers = [f"h{i}" for i in range(N_HISTORY)]
    stub = subprocess.Popen([sys.executable, stub_script, "--scenario",
                             json.dumps({"servers": servers, "history": HISTORY}), "--lifetime", "600"],
                            stdout=subprocess.PIPE, text=True)
    try:
        port = int(stub.stdout.readline().split()[1])
        url = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{url}/servers/h0/operations") as answer:
            size = len(answer.read())
        print(f"bench: config-switch against a list of {HISTORY} operations ({size} bytes): "
              f"{N_HISTORY} runs", file=sys.stderr)
        return [run(spawn, [ours, "--api-url", url, "config-switch", "--barman-server", server,
                            "--barman-model", "m", "--switch-when", "always", "on_role_change",
                            "primary", "batman"]) for server in servers], size
    finally:
        stub.terminate()
        stub.wait()


def stub_round_trip(port, n=50):
    """Median time of one GET /status over a fresh connection from here: the stub's share."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(f"GET {RTT_PATH} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
            while conn.recv(65536):
                pass
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def audit(record, expected):
    """Aborts unless every run polled as often as planned (guards against a misaligned scenario);
    returns the median number of requests per first-poll config-switch, per tool."""
    polls, total, pending = {}, {}, 0
    with open(record, encoding="utf-8") as f:
        for line in f:
            req = json.loads(line)
            if req["server"] is None:  # GET /status: runs are sequential, it is the next one's
                pending += req["path"] != RTT_PATH
                continue
            total[req["server"]], pending = total.get(req["server"], 0) + 1 + pending, 0
            polls[req["server"]] = polls.get(req["server"], 0) + (req["route"] == "poll")
    for server, (_, want) in expected.items():
        if want is not None and polls.get(server, 0) != want:
            sys.exit(f"bench: server {server} saw {polls.get(server, 0)} polls, expected {want}")
    return {name: statistics.median(total[s] for s, (n, want) in expected.items() if n == name and want == 1)
            for name in ("ours", "python")}


def med(samples, field):
    return statistics.median(s[field] for s in samples)


def fmt_time(s):
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def fmt_size(n):
    return f"{n / 1024:.0f} KiB" if n < MiB else f"{n / MiB:.1f} MiB"


def fmt_mib(kib):
    return f"{kib / 1024:.2f} MiB"


def ratio(theirs, ours, word):
    return f"{theirs / ours:.{0 if theirs >= 10 * ours else 1}f}x {word}"


def du(paths):
    return sum(int(subprocess.check_output(["du", "-sb", p], text=True).split()[0]) for p in paths)


def python_footprint(venv):
    """(whole venv, the site-packages directories patroni_barman actually imports from)."""
    code = ("import sys, os, patroni.scripts.barman.cli, sysconfig\n"
            "sp = sysconfig.get_paths()['purelib']\n"
            "tops = {m.split('.')[0] for m, v in list(sys.modules.items())\n"
            "        if (getattr(v, '__file__', None) or '').startswith(sp + os.sep)}\n"
            # setuptools' .pth hook is imported at startup by every venv, not by the tool
            "tops.discard('_distutils_hack')\n"
            "print(sp, *sorted(tops))")
    sp, *tops = subprocess.check_output([os.path.join(venv, "bin", "python"), "-c", code], text=True).split()
    return du([venv]), du([os.path.join(sp, t) for t in tops]), tops


def cpu_model():
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        models = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    return models[0] if models else platform.machine()


def render(args, tools, r, elapsed):
    def both(phase, field):  # (ours, Python) medians of one field (0 wall, 1 RSS, 2 CPU)
        return med(r[phase]["ours"], field), med(r[phase]["python"], field)

    def row(label, pair, fmt, word=""):
        return label, fmt(pair[0]), fmt(pair[1]), ratio(pair[1], pair[0], word) if word else ""

    cs_wall, cs_rss, pr_wall, cpu = both("fast", 0), both("fast", 1), both("profile", 0), both("polls", 2)
    check_runs, diagnose_size = r["check"]
    history_runs, list_size = r["history"]
    history_wall, history_rss = med(history_runs, 0), med(history_runs, 1)
    check_wall, check_rss = med(check_runs, 0), med(check_runs, 1)
    http_size, default_size = os.stat(args.ours_http).st_size, os.stat(args.ours).st_size
    venv_size, needed_size, needed = python_footprint(args.venv)
    pyver = subprocess.check_output([os.path.join(args.venv, "bin", "python"), "--version"], text=True).strip()
    rows = [
        row(f"config-switch, done on first poll: wall (median of {N_FAST})", cs_wall, fmt_time, "faster"),
        row("config-switch, done on first poll: peak RSS", cs_rss, fmt_mib, "leaner"),
        row(f"`--help`: wall (median of {N_FAST})", both("help", 0), fmt_time, "faster"),
        row("`--help`: peak RSS", both("help", 1), fmt_mib, "leaner"),
        row(f"config-switch, 0.4 s profile, default options: end to end (median of {N_PROFILE})",
            pr_wall, fmt_time, "faster"),
        row(f"recover, {POLLS} polls: CPU user+sys (median of {N_POLLS})", cpu,
            lambda c: f"{c * 1000:.0f} ms", "less CPU"),
        row("recover: CPU per poll", cpu, lambda c: f"{c / POLLS * 1e6:.0f} µs"),
        row(f"recover, {POLLS} polls: wall (ours `--loop-wait 0.001`, Python `--loop-wait 0`)",
            both("polls", 0), fmt_time),
        row(f"size: HTTP-only binary vs. site-packages it imports ({', '.join(needed)})",
            (http_size, needed_size), fmt_size, "smaller"),
        row("size: default (TLS) binary vs. whole virtualenv", (default_size, venv_size), fmt_size, "smaller"),
    ]
    grow = f"{CHECK_GROW['servers']} servers x {CHECK_GROW['backups']} backups"
    check_rows = [
        (f"check, /diagnose of {grow} ({fmt_size(diagnose_size)}): wall (median of {N_CHECK})",
         fmt_time(check_wall)),
        ("check, same: peak RSS", fmt_mib(check_rss)),
        (f"config-switch, the server's list holds {HISTORY} operations ({fmt_size(list_size)}), read "
         f"before the POST: wall (median of {N_HISTORY})", fmt_time(history_wall)),
        ("config-switch, same: peak RSS", fmt_mib(history_rss)),
    ]
    targets = [
        ("config-switch median wall < 5 ms", cs_wall[0] < 0.005, fmt_time(cs_wall[0])),
        ("config-switch peak RSS < 2 MiB", cs_rss[0] < 2 * 1024, fmt_mib(cs_rss[0])),
        (">= 20x faster than Python (config-switch wall, same run)", cs_wall[1] >= 20 * cs_wall[0],
         ratio(cs_wall[1], cs_wall[0], "faster")),
        (">= 10x leaner than Python (config-switch peak RSS, same run)", cs_rss[1] >= 10 * cs_rss[0],
         ratio(cs_rss[1], cs_rss[0], "leaner")),
        ("0.4 s-profile config-switch < 1.0 s end to end", pr_wall[0] < 1.0, fmt_time(pr_wall[0])),
        ("HTTP-only binary <= 700 KiB", http_size <= 700 * 1024, f"{http_size} bytes"),
        ("default binary <= 1.65 MiB", default_size <= int(1.65 * MiB), f"{default_size} bytes"),
        (f"peak RSS < 64 MiB with a list of {HISTORY} operations", history_rss < 64 * 1024,
         fmt_mib(history_rss)),
        ("check peak RSS <= /diagnose body + 16 MiB", check_rss * 1024 <= diagnose_size + 16 * MiB,
         fmt_mib(check_rss)),
    ]
    ours_cmd = ("BIN --api-url http://127.0.0.1:PORT config-switch --barman-server sN --barman-model m "
                "--switch-when always on_role_change primary batman")
    rec_cmd = ('BIN --api-url http://127.0.0.1:PORT recover --barman-server sN --backup-id latest '
               '--ssh-command "ssh postgres@pg1" --data-directory TMP/data --loop-wait L')
    lines = [
        "# patroni_barman benchmark: ours vs. Patroni 4.1.5's Python patroni_barman", "",
        f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
        f"- Machine: {cpu_model()}, {os.cpu_count()} cores, Linux {platform.release()}; load average "
        f"{r['load'][0]:.2f} at the start, {os.getloadavg()[0]:.2f} at the end (other load skews the timings)",
        f"- Ours: `{tools['ours']}` (`{args.ours_http}` for the HTTP-only size)",
        f"- Python: `{tools['python']}` (patroni 4.1.5, {pyver})",
        "- Command: `make bench` (`scripts/bench.sh BIN HTTP_BIN`), one stub pg-backup-api "
        "(`scripts/stub_api.py`) for the whole run, runs alternating ours/Python, a fresh Barman "
        "server name per run, stderr to /dev/null, every exit code checked to be 0.",
        f"- Runs: `{ours_cmd}`; `BIN --help`; `{rec_cmd}`. The Python tool gets the same arguments.",
        f"- Each run started by a tiny static launcher (fork, execv, `wait4()`): wall time is fork to "
        f"reap, peak RSS and CPU come from the rusage. Total benchmark time {elapsed:.0f} s.", "",
        "| metric | ours | Python | ratio |", "| --- | ---: | ---: | ---: |",
        *(f"| {' | '.join(cells)} |" for cells in rows), "",
        "`check` (ours only: the Python tool has none) against a second stub, and config-switch "
        "against a third whose servers have a long history:", "",
        "| metric | ours |", "| --- | ---: |",
        *(f"| {label} | {value} |" for label, value in check_rows), "",
        "The Python tool also needs a Python 3 interpreter and its standard library (not counted). "
        "Its config-switch polls every 5 s (hard-coded), hence ~5 s on the 0.4 s profile.", "",
        f"Part of every wall time is the stub's: one `GET /status` over a fresh connection took "
        f"{r['stub_rtt'] * 1000:.2f} ms (median of 50, from the benchmark), and a config-switch makes "
        f"{r['requests']['ours']:g} requests (ours) or {r['requests']['python']:g} (Python).", "",
        "## Targets", "", "| target | result | met? |", "| --- | ---: | --- |",
        *(f"| {name} | {value} | {'yes' if ok else '**NO**'} |" for name, ok, value in targets), "",
        f"{sum(ok for _, ok, _ in targets)} of {len(targets)} targets met.", "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
