"""Fixtures of the real-stack suite: the stack, the cluster, the replica.

A scenario asks for what it needs (`cluster`, `replica`, `healthy`) and
pytest builds exactly that, once per run, in order: `-k test_3_` brings up
the stack, bootstraps node1, takes node1's backup and creates node2 before
it switches over. A fixture that cannot do its part raises: the scenarios
that need it are ERRORs, never passes.

Each scenario prints one line, `PASS|FAIL|ERROR|SKIP N NAME: figures`, as it
ends; the run ends with the results table, the side-by-side table of both
tools for this combination, and pytest's own summary line. Whatever happens,
the session's finalizer stops every process by pid and checks that no port
listens and nothing of the run is left.
"""

import csv
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import stack  # noqa: E402
from stack import LOGS, PIDS, PORTS, ROOT, RUN, SERVER, StackError, now, psql, run, say, secs, wait_until  # noqa: E402
from components import (Api, Barman, BarmanCron, Etcd, Nginx, Patroni, Pki, SourcePg, Sshd, Tool,  # noqa: E402
                        Versions, pg_stop, setup_ssh)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.abspath(os.environ.get("E2E_OUT", os.path.join(REPO, "target", "e2e")))
TOOL = os.environ.get("E2E_TOOL", "rust")
PATRONI = os.environ.get("E2E_PATRONI", "4.1.5")
BARMAN = os.environ.get("E2E_BARMAN", "3.19.1")
BIN = os.environ.get("E2E_BIN", os.path.join(REPO, "target", "x86_64-unknown-linux-musl", "release", "patroni_barman"))
COMBO = f"patroni-{PATRONI}-barman-{BARMAN}"

RESULTS = []        # (n, name, outcome, figures), in the order they ended
METRICS = {}        # figure name -> value, for the side-by-side table


def pytest_configure(config):
    config.addinivalue_line("markers", "scenario(n, name): the scenario's number and name in the PASS/FAIL lines")
    config.addinivalue_line("markers", "longlist: 30,000 job files (scenario 10); E2E_ONLY=longlist runs it alone")
    # SIGTERM and SIGHUP end the run as Ctrl-C does: the finalizers still stop everything
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


# ---------------------------------------------------------- reporting ---

class Figures:
    """What a scenario measured: its PASS line's text and named figures."""

    def __init__(self):
        self.text = ""
        self.notes = []

    def metric(self, key, value):
        METRICS[key] = value


@pytest.fixture
def figures():
    return Figures()


def _scenario(item):
    m = item.get_closest_marker("scenario")
    return (str(m.args[0]), m.args[1]) if m else ("-", item.name)


def _first_line(report):
    exc = getattr(report, "longrepr", None)
    crash = getattr(exc, "reprcrash", None)
    msg = crash.message if crash else str(exc or "")
    # pytest prefixes assertion messages; keep the message itself
    for prefix in ("AssertionError: ", "Failed: ", "components.StackError: ", "stack.StackError: "):
        msg = msg.replace(prefix, "")
    msg = msg.split("\nassert ")[0]
    return " ".join(msg.split())[:1500]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    n, name = _scenario(item)
    line = None
    if rep.when == "setup" and rep.failed:
        line = ("ERROR", f"setup: {_first_line(rep)}")
    elif rep.when == "setup" and rep.skipped:
        line = ("SKIP", str(rep.longrepr[2]).replace("Skipped: ", "") if isinstance(rep.longrepr, tuple) else "")
    elif rep.when == "call":
        if rep.passed:
            f = item.funcargs.get("figures")
            line = ("PASS", f.text if f else "")
        elif rep.skipped:
            line = ("SKIP", str(rep.longrepr[2]).replace("Skipped: ", "") if isinstance(rep.longrepr, tuple) else "")
        else:
            f = item.funcargs.get("figures")
            extra = f"; {'; '.join(f.notes)}" if f and f.notes else ""
            line = ("FAIL", _first_line(rep) + extra)
    elif rep.when == "teardown" and rep.failed:
        msg = _first_line(rep)
        if msg.startswith("cleanup:"):
            n, name, line = "-", "cleanup", ("FAIL", msg[len("cleanup:"):].strip())
        else:
            line = ("ERROR", f"teardown: {msg}")
    if line:
        RESULTS.append((n, name, line[0], line[1]))
        tr = item.config.pluginmanager.get_plugin("terminalreporter")
        msg = f"{line[0]} {n} {name}: {line[1]}"
        if tr:
            tr.write_line("")
            tr.write_line(msg, bold=True, red=line[0] in ("FAIL", "ERROR"), green=line[0] == "PASS")
        else:
            print(msg, flush=True)
    if rep.failed:
        # the logs as they were when it failed, and their tails in the report
        dest = os.path.join(OUT, f"failed-{TOOL}-{COMBO}", f"{n}-{name}-{rep.when}")
        shutil.rmtree(dest, ignore_errors=True)
        if os.path.isdir(LOGS):
            shutil.copytree(LOGS, dest, ignore_dangling_symlinks=True, dirs_exist_ok=True)
        for p in _CONTROLLERS:
            t = p.tail(15)
            if t:
                rep.sections.append((f"log {p.name} (last lines; all in {dest})", t))


_CONTROLLERS = []


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not RESULTS:
        return
    tr = terminalreporter
    day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, f"results-{TOOL}-{COMBO}.tsv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f, delimiter="\t")
        w.writerow(["#date", day, TOOL, PATRONI, BARMAN])
        for r in RESULTS:
            w.writerow(r)
        for k, v in METRICS.items():
            w.writerow(["metric", k, v])
    tr.write_sep("=", f"e2e results: {TOOL} tool, Patroni {PATRONI}, Barman {BARMAN}, {day}")
    for n, name, res, figs in RESULTS:
        tr.write_line(f"{n:<3} {name:<12} {res:<6} {figs}")
    side_by_side(tr)
    tr.write_line(f"results: {path}; logs: {OUT}/logs-{TOOL}-{COMBO}")


def read_results(tool):
    path = os.path.join(OUT, f"results-{tool}-{COMBO}.tsv")
    res, met, day = {}, {}, "?"
    try:
        with open(path) as f:
            for row in csv.reader(f, delimiter="\t"):
                if row[0] == "#date":
                    day = row[1]
                elif row[0] == "metric":
                    met[row[1]] = row[2]
                else:
                    res[row[0]] = (row[1], row[2], row[3])
    except OSError:
        return None
    return res, met, day


def side_by_side(tr):
    r, p = read_results("rust"), read_results("python")
    if not r or not p:
        return
    tr.write_sep("-", f"side by side, Patroni {PATRONI} + Barman {BARMAN}: Rust ({r[2]}) vs Python ({p[2]})")
    order = sorted(set(r[0]) | set(p[0]), key=lambda s: int(s) if s.isdigit() else 99)
    for s in order:
        name = (r[0].get(s) or p[0].get(s))[0]
        tr.write_line(f"{s:<3} {name:<12} {r[0].get(s, ('', '-'))[1]:<6} {p[0].get(s, ('', '-'))[1]:<6}")
    for k in sorted(set(r[1]) | set(p[1])):
        tr.write_line(f"    {k:<34} {r[1].get(k, '-'):>8} {p[1].get(k, '-'):>8}")


# -------------------------------------------------------------- stack ---

class Stack:
    """Everything a scenario may use; built once per run by the `stack`
    fixture, stopped by its finalizer."""

    def __init__(self):
        self.v = Versions(PATRONI, BARMAN, TOOL, BIN)
        self.run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"
        self.procs = []

    def track(self, p):
        if p not in self.procs:
            self.procs.append(p)
            _CONTROLLERS.append(p)
        return p


def preflight():
    if os.getuid() != 0:
        raise StackError("make e2e runs as root (it starts services as postgres and barman)")
    v = Versions(PATRONI, BARMAN, TOOL, BIN)
    for d, what in ((v.vb, f"Barman {BARMAN}"), (v.vp, f"Patroni {PATRONI}")):
        if not os.path.isdir(d):
            raise StackError(f"no venv for {what} at {d}: run scripts/e2e/setup.sh (make e2e does)")
    if TOOL not in ("rust", "python"):
        raise StackError(f"E2E_TOOL must be rust or python, not {TOOL!r}")
    if TOOL == "rust" and not os.access(BIN, os.X_OK):
        raise StackError(f"binary under test not found: E2E_BIN={BIN} (run make build)")
    # what an earlier run left (killed before its finalizer ran)
    stack.stop_recorded()
    for d in ("src/data", "node1/data", "node2/data"):
        pg_stop(os.path.join(RUN, d), "immediate", 30)
    stack.sweep()
    busy = [f"{p} ({stack.port_owner(p)})" for p in PORTS if stack.listening(p)]
    if busy:
        raise StackError(f"ports in use on 127.0.0.1: {', '.join(busy)}; make e2e needs {' '.join(map(str, PORTS))} free")


def cleanup(s):
    """Patroni first (it stops its PostgreSQL), then the clusters left, then
    every other process by pid, then the leftovers of barman and postgres
    that name E2E_ROOT. Then: no port listens, nothing is left."""
    for p in [p for p in s.procs if isinstance(p, Patroni)]:
        p.stop(40)
    for d in ("src/data", "node1/data", "node2/data"):
        try:
            pg_stop(os.path.join(RUN, d), "immediate", 30)
        except StackError as e:
            say(f"cleanup: {e}")
    for p in reversed(s.procs):
        p.stop(15)
    stack.stop_recorded()
    swept = stack.sweep()
    if swept:
        say("cleanup: stopped leftovers " + "; ".join(f"{pid} {' '.join(a)[:80]}" for pid, a in swept.items()))
    time.sleep(0.2)
    busy = [f"{p} ({stack.port_owner(p)})" for p in PORTS if stack.listening(p)]
    left = stack.leftovers()
    if busy or left:
        raise StackError(f"cleanup: still listening: {', '.join(busy) or 'none'}; still running: "
                         f"{'; '.join(' '.join(a)[:100] for a in left.values()) or 'none'}")
    say("cleanup: nothing of this run is running or listening")


def pytest_sessionfinish(session, exitstatus):
    if os.path.isdir(LOGS):
        dest = os.path.join(OUT, f"logs-{TOOL}-{COMBO}")
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(LOGS, dest, ignore_dangling_symlinks=True)


@pytest.fixture(scope="session")
def stack_():
    """The stack, up: users, TLS, sshd, etcd, the source PostgreSQL with its
    first backup, Barman (cron), pg-backup-api (gunicorn), nginx."""
    t0 = now()
    preflight()
    s = Stack()
    try:
        build_stack(s)
        say(f"stack up in {now() - t0:.1f} s: {s.v.label}, {TOOL} tool; backup of "
            f"{s.backup_mb} MB; source system identifier {s.src.sysid}")
        yield s
    finally:
        cleanup(s)


def build_stack(s):
    shutil.rmtree(RUN, ignore_errors=True)
    for d in (RUN, PIDS, LOGS):
        os.makedirs(d)
    os.chmod(RUN, 0o755)
    os.chmod(LOGS, 0o1777)
    os.makedirs(OUT, exist_ok=True)
    bh = os.path.join(RUN, "barman")
    try:
        pwd.getpwnam("barman")
        if pwd.getpwnam("barman").pw_dir != bh:
            run(["usermod", "-d", bh, "barman"], 30, check=True)
    except KeyError:
        run(["useradd", "--system", "--user-group", "--home-dir", bh, "--shell", "/bin/bash", "barman"], 30, check=True)
    for d in (bh, "/var/log/barman", "/run/sshd", os.path.join(bh, "conf.d")):
        os.makedirs(d, exist_ok=True)
    shutil.chown("/var/log/barman", "barman", "barman")
    os.chmod("/run/sshd", 0o755)
    # the tool under test, where postgres can run it
    if TOOL == "rust":
        os.makedirs(os.path.join(ROOT, "bin"), exist_ok=True)
        shutil.copy(BIN, os.path.join(ROOT, "bin", "patroni_barman.new"))
        os.chmod(os.path.join(ROOT, "bin", "patroni_barman.new"), 0o755)
        os.replace(os.path.join(ROOT, "bin", "patroni_barman.new"), os.path.join(ROOT, "bin", "patroni_barman"))
        # the binary that the broken-on-purpose wrappers (scripts/e2e/broken/) run
        built = os.path.join(REPO, "target", "x86_64-unknown-linux-musl", "release", "patroni_barman")
        if os.path.exists(built):
            os.makedirs(os.path.join(ROOT, "bin", "real"), exist_ok=True)
            shutil.copy(built, os.path.join(ROOT, "bin", "real", "patroni_barman"))
    s.pki = Pki().make()
    s.tool = Tool(s.v, s.pki)
    if run([s.tool.path, "--help"], 30).returncode != 0:
        raise StackError(f"{s.tool.path} --help fails")
    setup_ssh(bh)
    s.sshd = s.track(Sshd().configure())
    s.sshd.start(15)
    s.etcd = s.track(Etcd())
    s.etcd.start(30)
    s.src = SourcePg(s.run_id)
    s.src.start()
    s.barman = Barman(s.v)
    s.barman.write_conf()
    run(["chown", "-R", "barman:barman", bh], 30, check=True)
    os.chmod(os.path.join(bh, ".ssh"), 0o700)
    os.chmod(os.path.join(bh, ".ssh", "id_ed25519"), 0o600)
    s.barman.cmd("receive-wal", "--create-slot", SERVER, timeout=60, check=True)
    s.cron = s.track(BarmanCron(s.barman))
    s.cron.start(5)
    wait_until("barman receive-wal streaming from the source", lambda: s.barman.streaming_from(5440), 60)
    s.barman.backup()
    s.backup_mb = stack.tree_bytes(os.path.join(bh, SERVER, "base")) // 2**20
    s.api = s.track(Api(s.barman))
    s.api.restart("gunicorn")
    s.nginx = s.track(Nginx(s.pki).configure())
    s.nginx.start(15)
    if run(["ssh", "pg-node1", "true"], 30, user="barman", env=s.barman.user_env()).returncode != 0:
        raise StackError("barman cannot ssh to postgres@127.0.0.1:2222 (log: run/logs/sshd.log)")
    s.node1 = s.track(Patroni(1, s.v, s.tool, s.pki).configure())
    s.node2 = s.track(Patroni(2, s.v, s.tool, s.pki).configure())


class Bootstrap:
    """What node1's bootstrap from Barman did (scenario 1 asserts it)."""


@pytest.fixture(scope="session")
def bootstrap(stack_):
    s = stack_
    b = Bootstrap()
    t = now()
    s.node1.start(30)
    # Patroni exits when a custom bootstrap fails: no need to wait then
    try:
        wait_until("node1 primary (bootstrap from Barman)",
                   lambda: s.node1.is_primary() or not s.node1.running(), 240)
    except StackError as e:
        b.error = str(e)
    b.secs = now() - t
    b.primary = s.node1.is_primary()
    return b


@pytest.fixture(scope="session")
def cluster(stack_, bootstrap):
    """node1 primary, Barman following it (its model), and a backup of node1,
    the one replicas restore from."""
    s = stack_
    if not bootstrap.primary:
        raise StackError("node1 did not bootstrap (scenario 1)")
    b = s.barman
    b.cmd("config-switch", SERVER, f"{SERVER}-node1", timeout=120, check=True)
    b.cmd("receive-wal", "--stop", SERVER, timeout=60)
    s.src.stop()
    wait_until("barman receive-wal streaming from node1", lambda: b.streaming_from(5441), 60)
    if psql(5441, f"INSERT INTO e2e_marker VALUES ('node1', '{s.run_id}')") is None:
        raise StackError("cannot write the node1 marker row")
    t = now()
    b.backup()
    say(f"backup of node1 in {now() - t:.1f} s")
    return s


class Replica:
    """What node2's creation by the replica method did (scenario 2 asserts)."""


@pytest.fixture(scope="session")
def replica(cluster):
    s = cluster
    r = Replica()
    r.off = s.node2.log_size()
    r.before = set(s.barman.jobs_into(s.node2.data))
    t = now()
    s.node2.start(30)
    try:
        wait_until("node2 replica", s.node2.is_replica, 240)
        wait_until("node2 streaming from node1", lambda: s.node2.streams_to(5441), 60)
        r.error = None
    except StackError as e:
        r.error = str(e)
    r.secs = now() - t
    return r


@pytest.fixture
def healthy(cluster, replica):
    """Before a scenario that changes the cluster: node1 primary, node2 a
    streaming replica, pg-backup-api under gunicorn. Otherwise an ERROR."""
    s = cluster
    if replica.error:
        raise StackError(f"no replica: {replica.error}")
    if s.api.mode != "gunicorn" or not s.api.running():
        s.api.restart("gunicorn")
    if not s.node1.is_primary():
        raise StackError("precondition: node1 is not the primary")
    wait_until("precondition: node2 streaming from node1", lambda: s.node2.is_replica() and s.node2.streams_to(5441), 60)
    return s
