"""The real stack of `make e2e`, one controller per component.

Every component is a `Proc`: started in a session of its own (its pid is its
process group), its pid and start time recorded under run/pids/, ready when a
condition holds before a deadline, stopped by pid with a deadline and then
SIGKILLed with everything that was below it. Every subprocess call goes
through `run`, which has a time limit; every wait goes through `wait_until`,
which has one too. All limits are multiplied by E2E_TIMEOUT_MULTIPLIER.
"""

import grp
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone

ROOT = os.environ.get("E2E_ROOT", "/var/lib/patroni_barman-e2e")
RUN = os.path.join(ROOT, "run")
PIDS = os.path.join(RUN, "pids")
LOGS = os.path.join(RUN, "logs")
PGBIN = "/usr/lib/postgresql/15/bin"
MULT = float(os.environ.get("E2E_TIMEOUT_MULTIPLIER", "1") or "1")
# Every port the stack uses: source PG, the nodes' PGs, Patroni's REST APIs,
# etcd, pg-backup-api, nginx, sshd and the "other host"'s sshd.
PORTS = (5440, 5441, 5442, 8008, 8009, 2379, 2380, 7480, 8443, 2222, 2223)
SERVER = "pg1"
SCOPE = "e2e"
API = "http://127.0.0.1:7480"
NGINX = "https://localhost:8443/pgbackup"
BASE_ENV = {"TZ": "UTC", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


class StackError(Exception):
    """A piece of the stack did not do what a scenario needs from it."""


def secs(s):
    """A time limit, scaled for slow machines."""
    return s * MULT


def now():
    return time.time()


def stamp():
    return datetime.now(timezone.utc).strftime("%H:%M:%S")


def say(msg):
    print(f"{stamp()} e2e: {msg}", flush=True)


# ------------------------------------------------------------ processes ---

def user_env(user, extra=None):
    pw = pwd.getpwnam(user)
    env = dict(BASE_ENV, HOME=pw.pw_dir, USER=user, LOGNAME=user,
               PATH="/usr/bin:/bin:/usr/sbin:/sbin")
    env.update(extra or {})
    return env


def as_user(user):
    """Popen keywords that run a command as USER with its groups."""
    if user in (None, "root"):
        return {}
    pw = pwd.getpwnam(user)
    groups = [g.gr_gid for g in grp.getgrall() if user in g.gr_mem]
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": groups}


def _kill_group(pid, sig):
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run(argv, timeout, user=None, env=None, check=False, input=None, cwd=None):
    """Runs ARGV (as USER) to its end, within TIMEOUT seconds (scaled).

    Output is captured as text. On the deadline, the command's whole session
    is killed and StackError names the command: nothing waits for ever."""
    if user not in (None, "root") and env is None:
        env = user_env(user)
    elif env is None:
        env = dict(os.environ, **BASE_ENV)
    limit = secs(timeout)
    p = subprocess.Popen(argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                         start_new_session=True, cwd=cwd or "/", **as_user(user))
    try:
        out, err = p.communicate(input, timeout=limit)
    except subprocess.TimeoutExpired:
        _kill_group(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        raise StackError(f"{shlex.join(argv)[:200]}: still running after {limit:.0f} s (killed)")
    cp = subprocess.CompletedProcess(argv, p.returncode, out, err)
    if check and cp.returncode != 0:
        raise StackError(f"{shlex.join(argv)[:200]} exited {cp.returncode}: {last_line(err or out)}")
    return cp


def last_line(text):
    lines = [ln for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def wait_until(desc, cond, timeout, interval=0.1):
    """Polls COND (each call bounded by its own limits) until it is true;
    StackError naming DESC when TIMEOUT seconds (scaled) pass first."""
    limit = secs(timeout)
    deadline = now() + limit
    while True:
        try:
            value = cond()
        except StackError:
            value = None
        if value:
            return value
        if now() >= deadline:
            raise StackError(f"{desc}: not reached within {limit:.0f} s")
        time.sleep(min(interval, max(0.0, deadline - now())))


def starttime(pid):
    """The process's start time in clock ticks since boot (tells a reused pid)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is not alive
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def processes():
    """{pid: (ppid, uid, session, argv)} of every process now."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
            uid = os.stat(f"/proc/{d}").st_uid
        except OSError:
            continue
        out[int(d)] = (int(fields[1]), uid, int(fields[3]), argv)
    return out


def descendants(pid, procs=None):
    procs = procs or processes()
    kids, todo = [], [pid]
    while todo:
        p = todo.pop()
        for q, (ppid, _, _, _) in procs.items():
            if ppid == p:
                kids.append(q)
                todo.append(q)
    return kids


class Proc:
    """One long-running process of the stack (a controller).

    start(): runs it in a session of its own, output appended to
    run/logs/NAME.log, pid and start time in run/pids/NAME, then waits for
    READY (or for the process to die) before a deadline. stop(): SIGTERM to
    the pid (or its group), a deadline, then SIGKILL to it, its group and
    everything that was below it."""

    stop_group = True   # SIGTERM the whole process group (else the pid only)

    def __init__(self, name, user="root"):
        self.name = name
        self.user = user
        self.pid = None
        self.log = os.path.join(LOGS, f"{name}.log")
        self.started_at = None

    def argv(self):
        raise NotImplementedError

    def env(self):
        return user_env(self.user) if self.user != "root" else dict(os.environ, **BASE_ENV)

    def ready(self):
        return True

    def start(self, max_wait=30):
        if self.running():
            raise StackError(f"{self.name} is already running (pid {self.pid})")
        argv = self.argv()
        with open(self.log, "ab") as log:
            log.write(f"=== {stamp()} starting: {shlex.join(argv)}\n".encode())
            log.flush()
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                 env=self.env(), start_new_session=True, cwd="/", **as_user(self.user))
        self._popen = p
        self.pid = p.pid
        self.started_at = now()
        with open(os.path.join(PIDS, self.name), "w") as f:
            f.write(f"{p.pid}\n{starttime(p.pid)}\n")
        limit = secs(max_wait)
        deadline = now() + limit
        while True:
            try:
                ok = self.ready()
            except StackError:
                ok = False
            if ok:
                return self
            if p.poll() is not None:
                raise StackError(f"{self.name} exited {p.returncode} while starting ({self.tail(1) or 'no output'}; log: {self.log})")
            if now() >= deadline:
                raise StackError(f"{self.name} not ready within {limit:.0f} s ({self.tail(1) or 'no output'}; log: {self.log})")
            time.sleep(0.1)

    def running(self):
        if self.pid is None:
            return False
        if getattr(self, "_popen", None) is not None and self._popen.poll() is not None:
            return False
        return alive(self.pid)

    def stop(self, timeout=15):
        pid = self.pid
        if pid is None:
            return
        procs = processes()
        kids = descendants(pid, procs)
        if self.running():
            if self.stop_group:
                _kill_group(pid, signal.SIGTERM)
            else:
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            limit = secs(timeout)
            deadline = now() + limit
            while self.running() and now() < deadline:
                time.sleep(0.1)
            if self.running():
                say(f"{self.name} (pid {pid}) did not stop within {limit:.0f} s: SIGKILL")
        _kill_group(pid, signal.SIGKILL)
        for k in kids:
            if alive(k):
                try:
                    os.kill(k, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if getattr(self, "_popen", None) is not None:
            try:
                self._popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.pid = None
        try:
            os.unlink(os.path.join(PIDS, self.name))
        except FileNotFoundError:
            pass

    def log_size(self):
        try:
            return os.path.getsize(self.log)
        except OSError:
            return 0

    def log_since(self, offset=0):
        try:
            with open(self.log, "rb") as f:
                f.seek(offset)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def tail(self, n=20):
        lines = self.log_since(max(0, self.log_size() - 65536)).splitlines()
        return "\n".join(lines[-n:])


def stop_recorded():
    """Stops what an earlier run left: each pid file's process, when it is
    still the same process (same start time)."""
    if not os.path.isdir(PIDS):
        return
    for name in sorted(os.listdir(PIDS)):
        try:
            with open(os.path.join(PIDS, name)) as f:
                pid, st = f.read().split()[:2]
            pid = int(pid)
        except (OSError, ValueError):
            continue
        if alive(pid) and starttime(pid) == st:
            say(f"stopping pid {pid} ({name}) left by an earlier run")
            p = Proc(name)
            p.pid = pid
            p.stop(20)


def leftovers():
    """Processes of the users barman and postgres whose command line names
    E2E_ROOT: Barman's receive-wal and pg_receivewal (barman cron starts them
    detached), a restore's rsync or ssh, a PostgreSQL of a run. Another
    user's process that only mentions the directory (a `tail -f` on a log) is
    not ours, and is left alone."""
    ours = {pwd.getpwnam(u).pw_uid for u in ("barman", "postgres") if _user_exists(u)}
    me = os.getpid()
    return {pid: argv for pid, (_, uid, _, argv) in processes().items()
            if pid != me and uid in ours and any(ROOT in a for a in argv)}


def _user_exists(u):
    try:
        pwd.getpwnam(u)
        return True
    except KeyError:
        return False


def sweep(timeout=10):
    """SIGTERM, a deadline, then SIGKILL to every leftover, by pid."""
    left = leftovers()
    for pid in left:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = now() + secs(timeout)
    while any(alive(p) for p in left) and now() < deadline:
        time.sleep(0.1)
    for pid in left:
        if alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return left


def listening(port):
    cp = run(["ss", "-Hltnp", f"sport = :{port}"], 10)
    return cp.stdout.strip()


def port_owner(port):
    m = re.search(r'users:\(\("([^"]*)",pid=(\d+)', listening(port))
    return f"{m.group(1)} pid {m.group(2)}" if m else "unknown"


# ---------------------------------------------------------------- probes ---

def http(url, method="GET", body=None, timeout=5, ctx=None):
    """(status, text) of one request, or (None, why) when there is no answer."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=secs(timeout), context=ctx) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except (OSError, ValueError) as e:
        return None, str(e)


def psql(port, sql, timeout=30):
    """The value (or rows) of SQL on 127.0.0.1:PORT as postgres; None on error."""
    cp = run([f"{PGBIN}/psql", f"host=127.0.0.1 port={port} user=postgres dbname=postgres connect_timeout=5",
              "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql], timeout, user="postgres")
    return cp.stdout.strip() if cp.returncode == 0 else None


def mtime(path):
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def tree_bytes(path):
    """Apparent bytes of every regular file under PATH (0 when missing)."""
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            try:
                st = os.lstat(os.path.join(d, f))
            except OSError:
                continue
            if not os.path.islink(os.path.join(d, f)):
                total += st.st_size
    return total


def log_time(line):
    """The epoch of a log line's leading `YYYY-MM-DD HH:MM:SS,mmm` (UTC)."""
    m = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)[,.](\d{3})", line)
    if not m:
        return None
    t = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    return t.timestamp() + int(m.group(2)) / 1000


def job_time(text):
    """pg-backup-api's `%Y-%m-%dT%H:%M:%S.%f` (the API runs with TZ=UTC)."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp()


def write_atomic(path, text, owner=None, mode=0o644):
    """Written aside and renamed: no reader (a gunicorn worker booting, barman
    cron) ever sees half a file."""
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    if owner:
        shutil.chown(tmp, owner, owner)
    os.replace(tmp, path)
