"""The scenarios of `make e2e`. Each one asserts from ground truth
(PostgreSQL, Barman's and pg-backup-api's files, Patroni's REST API and
log), never from the tool's own word alone, and asserts its precondition:
a scenario whose setup did not happen fails, it does not pass.

Numbers and names are those of docs/e2e.md; `make e2e E2E_ONLY=3` (or
`-k test_3_`) runs one with what it needs."""

import os
import re
import statistics
import threading
import time

import pytest

from stack import (API, LOGS, NGINX, SCOPE, SERVER, StackError, http, job_time, log_time, now, processes,
                   psql, run, say, secs, tree_bytes, wait_until)
from components import Sshd


def precondition(ok, what):
    """A scenario's setup must have happened: otherwise it FAILs, naming it."""
    if not ok:
        pytest.fail(f"precondition not met: {what}", pytrace=False)


def read_from(path, offset):
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def grep(text, pattern):
    return [ln for ln in text.splitlines() if re.search(pattern, ln)]


def last(text, pattern, default=""):
    found = grep(text, pattern)
    return re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[,.]\d+ ", "", found[-1])[:200] if found else default


def manual_switch(s, log="tool-manual.log", role="primary"):
    """One config-switch by hand, as Patroni's callback runs it."""
    cp, wall = s.tool.run(["config-switch", "on_role_change", role, SCOPE, "--barman-server", SERVER,
                           "--barman-model", f"{SERVER}-node1", "--switch-when", "promoted"], 300,
                          log=os.path.join(LOGS, log))
    return cp.returncode, wall


# ------------------------------------------------------------------ 1 ---

@pytest.mark.scenario(1, "bootstrap")
@pytest.mark.timeout(secs(600))
def test_1_bootstrap(stack_, bootstrap, figures):
    s = stack_
    log = s.node1.log_since(0)
    assert bootstrap.primary, (f"node1 is not primary after {bootstrap.secs:.1f} s "
                               f"({last(log, 'ERROR|failed attempt|exited with code', 'no error in its log')})")
    jobs = s.barman.jobs_into(s.node1.data)
    precondition(jobs, f"a recovery job into {s.node1.data} (Barman's files show none)")
    job = jobs[-1]
    st = s.barman.status(job)
    sysid = psql(5441, "SELECT system_identifier FROM pg_control_system()")
    mark = psql(5441, "SELECT v FROM e2e_marker WHERE k = 'source'")
    rows = psql(5441, "SELECT count(*) FROM e2e_rows")
    assert (st, sysid, mark, rows) == ("DONE", s.src.sysid, s.run_id, "200000"), (
        f"restore {job} {st}; system identifier {sysid} (source {s.src.sysid}); marker {mark} "
        f"(want {s.run_id}); rows {rows}")
    figures.text = (f"primary in {bootstrap.secs:.1f} s; restore {job} {st}; system identifier = source's; "
                    f"marker row and {rows} rows")


# ------------------------------------------------------------------ 2 ---

@pytest.mark.scenario(2, "replica")
@pytest.mark.timeout(secs(900))
def test_2_replica(cluster, replica, figures):
    s = cluster
    log = s.node2.log_since(replica.off)
    assert not replica.error, f"{replica.error} ({last(log, 'ERROR|created using|Error creating')})"
    new = [j for j in s.barman.jobs_into(s.node2.data) if j not in replica.before]
    job = new[-1] if new else None
    st = s.barman.status(job)
    marks = (psql(5442, "SELECT v FROM e2e_marker WHERE k = 'source'"),
             psql(5442, "SELECT v FROM e2e_marker WHERE k = 'node1'"))
    assert grep(log, "replica has been created using barman") and not grep(log, "created using basebackup") \
        and st == "DONE" and marks == (s.run_id, s.run_id), (
        f"Patroni: '{last(log, 'created using|Error creating replica')}'; restore {job or 'none'} {st}; markers {marks}")
    figures.text = f"streaming in {replica.secs:.1f} s; Patroni: created using barman (no basebackup); restore {new[-1]} DONE; both marker rows"


# ------------------------------------------------------------------ 3 ---

def switchover(s, frm, to):
    """Switchover FRM -> TO through Patroni's REST API; the seconds from
    TO's `promoted self to leader` log line to .active-model.auto's mtime."""
    a, b = (s.node1, s.node2) if frm == 1 else (s.node2, s.node1)
    off = b.log_size()
    before = s.barman.active_model_mtime()
    st, body = http(f"http://127.0.0.1:{a.rest}/switchover", "POST", {"leader": a.name[8:], "candidate": b.name[8:]},
                    timeout=30)
    assert st == 200, f"switchover node{frm} -> node{to} refused: {st} {body[:200]}"
    wait_until(f"node{to} primary", b.is_primary, 60)
    model = f"{SERVER}-node{to}"
    try:
        wait_until(f"model {model} active", lambda: s.barman.active_model() == model, 30)
    except StackError:
        pytest.fail(f"node{frm} -> node{to}: active model {s.barman.active_model()!r} after {secs(30):.0f} s, "
                    f"want {model} (callback: {last(b.log_since(off), 'on_role_change|callback', 'none logged')})",
                    pytrace=False)
    mt = s.barman.active_model_mtime()
    assert mt != before, f"node{frm} -> node{to}: .active-model.auto did not change"
    promo = grep(b.log_since(off), "promoted self to leader")
    precondition(promo, f"node{to}'s Patroni log says it promoted itself")
    wait_until(f"node{frm} replica again", a.is_replica, 90)
    wait_until(f"node{frm} streaming", lambda: a.streams_to(b.port), 60)
    return mt - log_time(promo[-1])


@pytest.mark.scenario(3, "switchover")
@pytest.mark.timeout(secs(900))
def test_3_switchover(healthy, figures):
    s = healthy
    http_s = switchover(s, 1, 2)        # node2's callback over plain HTTP
    mtls_s = switchover(s, 2, 1)        # node1's callback over nginx mTLS
    runs = [manual_switch(s) for _ in range(3)]
    codes = [c for c, _ in runs]
    wall = statistics.median(w for _, w in runs)
    figures.metric("promo_to_model_http", f"{http_s:.2f}")
    figures.metric("promo_to_model_mtls", f"{mtls_s:.2f}")
    figures.metric("config_switch_wall", f"{wall:.2f}")
    assert codes == [0, 0, 0], f"promotion -> model {http_s:.2f} s / {mtls_s:.2f} s; config-switch by hand exits {codes}"
    figures.text = (f"promotion -> model active: {http_s:.2f} s (HTTP), {mtls_s:.2f} s (nginx mTLS), "
                    f"config-switch by hand: exits 0 0 0, {wall:.2f} s wall (median of 3)")


# ------------------------------------------------------------------ 4 ---

@pytest.mark.scenario(4, "check")
@pytest.mark.timeout(secs(300))
def test_4_check(cluster, replica, figures):
    s = cluster
    if not s.tool.rust:
        pytest.skip("the Python tool has no check")
    node = ["--barman-server", SERVER, "--barman-model", f"{SERVER}-node1", "--datadir", s.node1.data,
            "--ssh-command", "ssh pg-node1"]
    p = s.pki
    mtls = ["--api-url", NGINX, "--ca-file", p.path("ca.pem"), "--cert-file", p.path("client.pem"),
            "--key-file", p.path("client.key")]
    cases = [
        ("good-http", 0, None, ["--api-url", API, "check", *node]),
        ("good-mtls", 0, None, [*mtls, "check", *node]),
        ("unknown-model", 6, "nosuch-model", ["--api-url", API, "check", "--barman-server", SERVER, "--barman-model", "nosuch-model"]),
        ("other-cluster", 6, "other-node1", ["--api-url", API, "check", "--barman-server", SERVER, "--barman-model", "other-node1"]),
        ("unknown-server", 6, "nosuch", ["--api-url", API, "check", "--barman-server", "nosuch", "--barman-model", f"{SERVER}-node1"]),
        ("no-client-cert", 254, None, ["--api-url", NGINX, "--ca-file", p.path("ca.pem"), "check", "--barman-server", SERVER,
                                       "--barman-model", f"{SERVER}-node1"]),
    ]
    why, figs = [], []
    for name, want, text, args in cases:
        cp = run([s.tool.path, *args], 120, user="postgres", env=s.tool.env())
        with open(os.path.join(LOGS, f"check-{name}.out"), "w") as f:
            f.write(cp.stdout + "--- stderr\n" + cp.stderr)
        ok_n = len(grep(cp.stdout, "^ok")); fail_lines = grep(cp.stdout, "^FAIL")
        figs.append(f"{name}:{ok_n}ok/{len(fail_lines)}FAIL")
        if cp.returncode != want:
            why.append(f"{name}: exit {cp.returncode}, want {want} ({fail_lines[0] if fail_lines else ''})")
        elif text and not any(text in ln for ln in fail_lines):
            why.append(f"{name}: no FAIL line naming '{text}'")
    assert not why, "; ".join(why)
    figures.text = ("exits good 0 (HTTP), 0 (mTLS); unknown model 6, other cluster's model 6, unknown server 6, "
                    "no client certificate 254; " + " ".join(figs))


# ------------------------------------------------------------------ 5 ---

@pytest.mark.scenario(5, "wait")
@pytest.mark.timeout(secs(300))
def test_5_wait(cluster, replica, figures):
    s = cluster
    if not s.tool.rust:
        pytest.skip("the Python tool has no wait")
    st, body = http(f"{API}/servers/{SERVER}/operations", "POST", {"type": "config_switch", "model_name": f"{SERVER}-node1"},
                    timeout=30)
    m = re.search(r'"operation_id":\s*"([^"]+)"', body or "")
    precondition(st == 202 and m, f"a config switch POSTed by hand (got {st} {body[:100]})")
    op = m.group(1)
    cp, wall = s.tool.run(["wait", "--barman-server", SERVER, "--operation-id", op], 120, log=os.path.join(LOGS, "wait.log"))
    assert cp.returncode == 0 and s.barman.status(op) == "DONE", (
        f"operation {op}: wait exited {cp.returncode}; Barman's files say {s.barman.status(op)}")
    figures.text = f"operation {op}: wait exited 0 in {wall:.1f} s; Barman's output file says DONE"


# ------------------------------------------------------------------ 6 ---

class Load:
    """Four clients GET the operation list and one operation as fast as they
    can, each request with a deadline; statuses counted."""

    def __init__(self, op):
        self.op = op
        self.stop = threading.Event()
        self.codes = []
        self.threads = [threading.Thread(target=self.client, daemon=True) for _ in range(4)]

    def client(self):
        while not self.stop.is_set():
            for url in (f"{API}/servers/{SERVER}/operations", f"{API}/servers/{SERVER}/operations/{self.op}"):
                self.codes.append(http(url, timeout=5)[0])

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=secs(10))


@pytest.mark.scenario(6, "load")
@pytest.mark.timeout(secs(900))
def test_6_load(healthy, figures):
    s = healthy
    try:
        s.api.restart("serve")
        op = s.barman.job_ids()[-1]
        before_jobs = set(s.barman.jobs_into(s.node2.data))
        off = s.node2.log_size()
        with Load(op) as load:
            t = now()
            s.node2.recreate()
            try:
                wait_until("node2 replica under load", s.node2.is_replica, 300)
                wait_until("node2 streaming", lambda: s.node2.streams_to(5441), 60)
                error = None
            except StackError as e:
                error = str(e)
            took = now() - t
            log = s.node2.log_since(off)
            new = [j for j in s.barman.jobs_into(s.node2.data) if j not in before_jobs]
            outputs = s.barman.outputs()
            runs = [manual_switch(s) for _ in range(10)] if not error else []
        codes = [c for c, _ in runs]
        made = s.barman.outputs() - outputs
        n404 = sum(1 for c in load.codes if c == 404)
        wall = statistics.median(w for _, w in runs) if runs else 0
        figures.metric("config_switch_wall_load", f"{wall:.2f}")
        precondition(len(load.codes) > 100, f"the load clients made requests ({len(load.codes)} GETs)")
        st = s.barman.status(new[-1]) if new else "none"
        assert not error, f"{error}; Patroni: '{last(log, 'created using|Error creating')}'; {len(load.codes)} GETs ({n404} 404s)"
        assert grep(log, "replica has been created using barman") and not grep(log, "created using basebackup") \
            and st == "DONE" and codes == [0] * 10 and made >= 10, (
            f"{len(load.codes)} GETs ({n404} 404s); Patroni: '{last(log, 'created using|Error creating')}'; "
            f"restore {new[-1] if new else 'none'} {st}; config-switch exits {' '.join(map(str, codes))}; {made} new output files")
        figures.text = (f"pg-backup-api serve, 4 clients: {len(load.codes)} GETs ({n404} answered 404); replica by barman in "
                        f"{took:.1f} s ({new[-1]} DONE); 10 config-switch exits 0, {made} new output files, {wall:.2f} s median wall")
    finally:
        s.api.restart("gunicorn")


# ------------------------------------------------------------------ 7 ---

@pytest.mark.scenario(7, "zombie")
@pytest.mark.timeout(secs(600))
def test_7_zombie(cluster, replica, figures):
    s = cluster
    try:
        s.api.restart("zombie")
        before = set(s.barman.job_ids())
        log = os.path.join(LOGS, "zombie-tool.log")
        rc, wall = manual_switch(s, "zombie-tool.log")
        new = [j for j in s.barman.job_ids() if j not in before]
        precondition(new, "the zombie API wrote a job for the POST (none appeared)")
        stuck = [j for j in new if s.barman.status(j) == "IN_PROGRESS"]
        # the tool's log file and its stderr (a traceback, say)
        text = read_from(log, 0) + read_from(log + ".stderr", 0)
        access = open(s.api.access_log).read()
        named = all(j in text for j in new)
        polled = [j for j in new if f"GET /servers/{SERVER}/operations/{j} " in access]
        assert rc == 3 and stuck and named and not polled, (
            f"config-switch exited {rc} (want 3) in {wall:.1f} s; stuck jobs: {' '.join(stuck) or 'none'}; "
            f"named in its log: {'yes' if named else 'no'}; polled: {' '.join(polled) or 'none'}")
        figures.text = (f"config-switch exited 3 in {wall:.1f} s; stuck jobs (IN_PROGRESS, no worker): {' '.join(stuck)}, "
                        "each named in the tool's log, none polled")
    finally:
        s.api.restart("gunicorn")


# ------------------------------------------------------------------ 8 ---

PROGRESS = re.compile(r"INFO: Restore (\S+): ([\d.]+) (B|KiB|MiB|GiB|TiB)(?: of ([\d.]+) (B|KiB|MiB|GiB|TiB) \((\d+) %\))? in (\S+)")
UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


class Watch:
    """Samples, every 0.1 s, the bytes under a data directory and the
    restores into it: Barman's recover processes (not their pool workers),
    their rsyncs, and the jobs for it with no output file."""

    def __init__(self, barman, datadir):
        self.b = barman
        self.dir = datadir
        self.samples = []       # (time, bytes, recovers, rsyncs, jobs in progress)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def sample(self):
        procs = processes()
        rec = rsy = 0
        for pid, (ppid, _, _, argv) in procs.items():
            line = " ".join(argv)
            if self.dir not in line:
                continue
            is_rec = "recover" in argv and any(a.endswith("/barman") for a in argv[:2])
            parent = " ".join(procs.get(ppid, (0, 0, 0, []))[3])
            if is_rec and not ("recover" in parent.split() and "/barman" in parent):
                rec += 1
            if argv and os.path.basename(argv[0]) == "rsync" and "--server" not in argv:
                rsy += 1
        jobs = sum(1 for j in self.b.jobs_into(self.dir) if self.b.output(j) is None)
        return (now(), tree_bytes(self.dir), rec, rsy, jobs)

    def loop(self):
        while not self.stop.is_set():
            try:
                self.samples.append(self.sample())
            except Exception as e:  # a file gone mid-walk: the next sample
                say(f"watch: {e}")
            time.sleep(0.1)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=secs(10))
        with open(os.path.join(LOGS, "watch.log"), "w") as f:
            for smp in self.samples:
                f.write("%.3f %d %d %d %d\n" % smp)

    def rsyncing(self):
        return self.samples and self.samples[-1][3] > 0

    def bytes_at(self, t):
        near = min(self.samples, key=lambda smp: abs(smp[0] - t)) if self.samples else None
        return (near[1], abs(near[0] - t)) if near else (None, None)


def intervals(b, jobs):
    """(id, start, end or None) of each job, from pg-backup-api's files."""
    out = []
    for j in jobs:
        job, res = b.job(j), b.output(j)
        out.append((j, job_time(job["start_time"]), job_time(res["end_time"]) if res else None))
    return out


def overlaps(ivs):
    ivs = sorted(ivs, key=lambda iv: iv[1])
    bad = []
    for (a, _, ea), (c, sc, _) in zip(ivs, ivs[1:]):
        if ea is None or sc < ea:
            bad.append(f"{c} started before {a} ended")
    return bad


def progress_lines(text, datadir):
    out = []
    for ln in text.splitlines():
        m = PROGRESS.search(ln)
        if m and m.group(7).rstrip(",") == datadir:
            done = float(m.group(2)) * UNITS[m.group(3)]
            total = float(m.group(4)) * UNITS[m.group(5)] if m.group(4) else None
            pct = int(m.group(6)) if m.group(6) else None
            out.append((log_time(ln), done, total, pct, ln))
    return out


@pytest.mark.scenario(8, "cancel")
@pytest.mark.timeout(secs(900))
def test_8_cancel(healthy, figures):
    s = healthy
    b, n2 = s.barman, s.node2
    d = n2.data
    _, backup_size, _ = b.backup_info("latest")
    precondition(backup_size, "the backup's size from `barman show-backup`")
    before = set(b.jobs_into(d))
    tool_off = os.path.getsize(n2.tool_log) if os.path.exists(n2.tool_log) else 0
    b.write_conf("bandwidth_limit = 1500")
    n2.method_extra = {"progress-interval": 2}
    n2.configure()
    try:
        with Watch(b, d) as w:
            t = now()
            off = n2.log_size()
            n2.recreate()
            wait_until("a slow restore into node2 rsyncing", w.rsyncing, 120)
            first = [j for j in b.jobs_into(d) if j not in before]
            precondition(first, f"a recovery job into {d}")
            job1 = first[0]
            if s.tool.rust:
                # the first run logs progress lines with bytes arrived before it
                # is stopped (Barman takes a few seconds before its rsync)
                try:
                    wait_until("two progress lines with bytes", lambda: len([pl for pl in progress_lines(
                        read_from(n2.tool_log, tool_off), d) if pl[1] > 0]) >= 2, 30)
                except StackError:
                    pass
            n2.stop(60)
            b.write_conf()
            stopped = now() - t
            off2 = n2.log_size()
            restart_at = now()
            status_at_restart = b.status(job1)
            n2.start(30)
            precondition(status_at_restart == "IN_PROGRESS",
                         f"the first restore {job1} was still IN_PROGRESS when Patroni started again (it was {status_at_restart})")
            wait_until("Patroni node2 restarted and deciding", lambda: grep(
                n2.log_since(off2), "trying to bootstrap from leader|consider doing reinitialize|bootstrap from leader"), 60)
            if grep(n2.log_since(off2), "consider doing reinitialize"):
                # the first restore's files: do what Patroni asks for
                how = "Patroni found the first restore's files and was told to reinitialize"
                http(f"http://127.0.0.1:{n2.rest}/reinitialize", "POST", {"force": True}, timeout=30)
            else:
                how = "Patroni ran the replica method again by itself"
            error = None
            try:
                wait_until("node2 replica after the restart", n2.is_replica, 300)
                wait_until("node2 streaming", lambda: n2.streams_to(5441), 60)
            except StackError as e:
                error = str(e)
            took = now() - t
            busy = sum(1 for j in b.jobs_into(d) if b.output(j) is None)
            try:
                wait_until("every restore into node2 ended", lambda: all(b.output(j) for j in b.jobs_into(d)), 180)
            except StackError as e:
                error = (error + "; " if error else "") + str(e)
        log = n2.log_since(off)
        new = [j for j in b.jobs_into(d) if j not in before]
        ivs = intervals(b, new)
        states = " ".join(f"{j}:{b.status(j)}" for j in new)
        first_end = ivs[0][2]
        precondition(first_end is None or first_end > restart_at,
                     f"the first restore {job1} ended after Patroni started again (it ended "
                     f"{restart_at - first_end:.1f} s before)")
        max_r = max(smp[2] for smp in w.samples)
        max_j = max(smp[4] for smp in w.samples)
        why = []
        if error:
            why.append(error)
        bad = overlaps(ivs)
        if bad:
            why.append(f"two restores at once into {d}: {'; '.join(bad)} (from the job and output files; "
                       f"sampled: {max_r} recover processes, {max_j} jobs in progress)")
        elif max_r > 1 or max_j > 1:
            why.append(f"two restores at once into {d} (sampled: {max_r} recover processes, {max_j} jobs in progress)")
        if psql(5442, "SELECT v FROM e2e_marker WHERE k = 'source'") != s.run_id:
            why.append("no marker row on node2")
        if grep(log, "created using basebackup"):
            why.append("Patroni fell back to basebackup")
        prog = ""
        if s.tool.rust:
            tool_text = read_from(n2.tool_log, tool_off)
            lines = [pl for pl in progress_lines(tool_text, d) if pl[0] and pl[0] < t + stopped]
            checked = []
            for tl, done, total, pct, ln in lines:
                on_disk, dt = w.bytes_at(tl)
                real = 100.0 * on_disk / backup_size
                checked.append((done, pct, real))
                if pct is None or abs(pct - real) > 15:
                    why.append(f"progress '{ln[24:][:120]}': {pct} %, but {on_disk} of {backup_size} bytes on disk ({real:.0f} %)")
            moving = [c for c in checked if c[0] > 0]
            if len(moving) < 2:
                why.append(f"{len(moving)} progress lines with bytes from the first run in {n2.tool_log} "
                           f"(of {len(lines)}; want 2 or more, --progress-interval=2)")
            elif any(b2[0] < a2[0] for a2, b2 in zip(checked, checked[1:])) or moving[-1][0] <= moving[0][0]:
                why.append(f"progress bytes do not grow: {[int(c[0]) for c in checked]}")
            prog = "; progress lines of the first run: " + ", ".join(f"{c[1]} % (on disk {c[2]:.0f} %)" for c in checked)
        assert not why, "; ".join(why) + f"; {how}; restores: {states}"
        figures.text = (f"Patroni stopped {stopped:.1f} s into a slow restore ({job1}), started again while it was "
                        f"IN_PROGRESS; {how}; restores: {states}, none overlapping (job files); at most {max_r} recover "
                        f"process and {max_j} job in progress at once ({len(w.samples)} samples){prog}; node2 streams with "
                        f"the marker row, {took:.1f} s" + (" (WARNING: PostgreSQL started while a restore ran)" if busy else ""))
    finally:
        b.write_conf()
        n2.method_extra = {}
        n2.configure()


# ------------------------------------------------------------------ 9 ---

@pytest.mark.scenario(9, "elsewhere")
@pytest.mark.timeout(secs(900))
def test_9_elsewhere(healthy, figures):
    """The restore lands on another host: an sshd in a mount namespace of its
    own with a tmpfs over node2's data directory's parent. Barman's restore
    ends DONE there, and nothing arrives in node2's real data directory."""
    s = healthy
    b, n2 = s.barman, s.node2
    d = n2.data
    other = s.track(Sshd("sshd-elsewhere", 2223, tmpfs_over=n2.dir).configure())
    tool_off = os.path.getsize(n2.tool_log) if os.path.exists(n2.tool_log) else 0
    try:
        other.start(15)
        cp = run(["ssh", "pg-node2-elsewhere", f"test ! -e {d} && touch {n2.dir}/elsewhere-probe && echo ok"], 30,
                 user="barman", env=b.user_env())
        precondition(cp.stdout.strip() == "ok" and not os.path.exists(f"{n2.dir}/elsewhere-probe"),
                     f"pg-node2-elsewhere is another filesystem ({cp.stdout.strip()} {cp.stderr.strip()[:100]})")
        before = set(b.jobs_into(d))
        n2.ssh_host = "pg-node2-elsewhere"
        n2.configure()
        off = n2.log_size()
        t = now()
        n2.recreate()
        if s.tool.rust:
            error = None
            try:
                wait_until("node2 replica", n2.is_replica, 300)
                wait_until("node2 streaming", lambda: n2.streams_to(5441), 60)
            except StackError as e:
                error = str(e)
        else:
            # the Python tool exits 0: record what Patroni does next, for a while
            error = "the Python tool"
            try:
                wait_until("a job into node2 ended", lambda: any(b.output(j) for j in b.jobs_into(d) if j not in before), 120)
                time.sleep(secs(30))
            except StackError:
                pass
        took = now() - t
        log = n2.log_since(off)
        new = [j for j in b.jobs_into(d) if j not in before]
        precondition(new, f"a recovery job into {d}")
        st = b.status(new[0])
        tool_text = read_from(n2.tool_log, tool_off)
        if not s.tool.rust:
            seen = "; ".join(dict.fromkeys(ln[24:][:110] for ln in grep(
                log, r",\d{3} (INFO|ERROR|WARNING): .*(created using|Error creating|bootstrapped|unable to|not empty|"
                     r"reinitialize|no valid)")))[:700]
            pytest.fail(f"restore {new[0]} {st} on the other host; the Python tool's recover: "
                        f"'{last(tool_text, 'Recovery operation', 'no line')}'; Patroni then: {seen}", pytrace=False)
        err = grep(tool_text, "ERROR:.*nothing arrived in")
        why = []
        if error:
            why.append(error)
        if st != "DONE":
            why.append(f"Barman's job {new[0]} is {st}, not DONE")
        if not grep(log, r"Error creating replica using method barman.* exited with code=9"):
            why.append(f"Patroni's log shows no barman method that exited 9 ('{last(log, 'Error creating|exited with code', 'none')}')")
        if grep(log, "replica has been created using barman"):
            why.append("Patroni's log says 'replica has been created using barman' (with nothing in the data directory)")
        if len(new) != 1:
            why.append(f"{len(new)} restores into {d} ({' '.join(f'{j}:{b.status(j)}' for j in new)}), want 1")
        if not grep(log, "replica has been created using basebackup"):
            why.append(f"no 'replica has been created using basebackup' in Patroni's log ('{last(log, 'created using')}')")
        if not err or "pg-node2-elsewhere" not in err[-1]:
            why.append(f"no ERROR line with 'nothing arrived in' naming --ssh-command in the tool's log "
                       f"('{last(tool_text, 'ERROR', 'no ERROR line')}')")
        code = re.search(r"exited with code=(\d+)", "\n".join(grep(log, "method barman|exited with code")))
        assert not why, "; ".join(why)
        figures.text = (f"restore {new[0]} DONE on the other host; recover exit {code.group(1) if code else '?'} "
                        f"('{err[-1][24:][:90]}...'); Patroni: created using basebackup; node2 streams, {took:.1f} s")
    finally:
        other.stop(15)
        n2.ssh_host = "pg-node2"
        n2.configure()
        if not (n2.is_replica() and n2.streams_to(5441)):
            n2.recreate()
            wait_until("node2 a streaming replica again", lambda: n2.is_replica() and n2.streams_to(5441), 300)


# ----------------------------------------------------------------- 10 ---

def write_old_jobs(b, count=30000):
    """COUNT old operations, as pg-backup-api 2.2.0 writes them: a job file
    barman_home/SERVER/jobs/ID.json ({operation_type, start_time, and the
    request's fields}) and its output file barman_home/SERVER/output/ID.json
    (the job's content plus success, end_time, output). IDs are
    %Y%m%dT%H%M%S, one second apart, in 2020."""
    import json
    from datetime import datetime, timedelta
    t0 = datetime(2020, 1, 1)
    ids = []
    for i in range(count):
        t = t0 + timedelta(seconds=i)
        op = t.strftime("%Y%m%dT%H%M%S")
        if i % 3 == 0:
            job = {"backup_id": "20191231T230000", "destination_directory": f"/var/lib/pg/old-{i}",
                   "remote_ssh_command": "ssh postgres@old-node", "operation_type": "recovery"}
        else:
            job = {"model_name": f"{SERVER}-node1", "operation_type": "config_switch"}
        job["start_time"] = t.strftime("%Y-%m-%dT%H:%M:%S.%f")
        out = dict(job, success=True, end_time=(t + timedelta(milliseconds=400)).strftime("%Y-%m-%dT%H:%M:%S.%f"),
                   output="")
        for dirname, content in ((b.jobs_dir(), job), (b.output_dir(), out)):
            with open(os.path.join(dirname, f"{op}.json"), "w") as f:
                json.dump(content, f)
        ids.append(op)
    run(["chown", "-R", "barman:barman", b.jobs_dir(), b.output_dir()], 120, check=True)
    return ids


@pytest.mark.longlist
@pytest.mark.scenario(10, "longlist")
@pytest.mark.timeout(secs(900))
def test_10_longlist(healthy, figures):
    s = healthy
    b, n2 = s.barman, s.node2
    ids = write_old_jobs(b)
    try:
        st, body = http(f"{API}/servers/{SERVER}/operations", timeout=60)
        precondition(st == 200 and len(body) > 2**20, f"the operation list is over 1 MiB ({st}, {len(body or '')} bytes)")
        before = set(b.jobs_into(n2.data))
        off = n2.log_size()
        t = now()
        n2.recreate()
        error = None
        try:
            wait_until("node2 replica", n2.is_replica, 300)
            wait_until("node2 streaming", lambda: n2.streams_to(5441), 60)
        except StackError as e:
            error = str(e)
        took = now() - t
        log = n2.log_since(off)
        new = [j for j in b.jobs_into(n2.data) if j not in before]
        rst = b.status(new[-1]) if new else "none"
        rc, wall = manual_switch(s, "tool-longlist.log")
        assert not error and grep(log, "replica has been created using barman") and rst == "DONE" and rc == 0, (
            f"{error or ''}; Patroni: '{last(log, 'created using|Error creating')}'; restore {new[-1] if new else 'none'} "
            f"{rst}; config-switch exited {rc} ({last(read_from(os.path.join(LOGS, 'tool-longlist.log'), 0), 'ERROR', '')}"
            f"{last(read_from(os.path.join(LOGS, 'tool-longlist.log.stderr'), 0), 'ERROR', '')})")
        figures.text = (f"{len(ids)} old jobs, list {len(body) / 2**20:.1f} MiB: replica by barman in {took:.1f} s "
                        f"({new[-1]} DONE); config-switch exit 0 in {wall:.1f} s")
    finally:
        for op in ids:
            for dirname in (b.jobs_dir(), b.output_dir()):
                try:
                    os.unlink(os.path.join(dirname, f"{op}.json"))
                except FileNotFoundError:
                    pass
