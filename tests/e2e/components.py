"""The controllers of the stack's components, and Barman's files read as
ground truth. See stack.py for what a controller guarantees."""

import json
import os
import pwd
import shutil
import ssl
import time

from stack import (API, LOGS, NGINX, PGBIN, ROOT, RUN, SCOPE, SERVER, Proc, StackError, http,
                   listening, psql, run, say, secs, user_env, wait_until, write_atomic)


class Versions:
    """The combination under test, and where its venvs are."""

    def __init__(self, patroni, barman, tool, binary):
        self.patroni = patroni
        self.barman = barman
        self.tool = tool            # "rust" or "python"
        self.vb = os.path.join(ROOT, f"venv-barman-{barman}")
        self.vp = os.path.join(ROOT, f"venv-patroni-{patroni}")
        self.binary = binary

    @property
    def label(self):
        return f"Patroni {self.patroni}, Barman {self.barman}"

    @property
    def patroni_major(self):
        return int(self.patroni.split(".")[0])


# ------------------------------------------------------------------ TLS ---

class Pki:
    """A private CA, nginx's certificate (SANs localhost, 127.0.0.1) and the
    client certificate (clientAuth) that the nodes present."""

    def __init__(self):
        self.dir = os.path.join(RUN, "tls")

    def make(self):
        os.makedirs(self.dir)
        d = self.dir

        def ossl(*args):
            run(["openssl", *args], 30, check=True, cwd=d)

        for k in ("ca", "server", "client"):
            ossl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f"{k}.key")
        ossl("req", "-x509", "-key", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=e2e-ca",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        for k, ext in (("server", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
                       ("client", "extendedKeyUsage=clientAuth\n")):
            with open(os.path.join(d, f"{k}.ext"), "w") as f:
                f.write(ext + "basicConstraints=CA:FALSE\n")
            ossl("req", "-new", "-key", f"{k}.key", "-subj", f"/CN={'localhost' if k == 'server' else 'patroni'}",
                 "-out", f"{k}.csr")
            ossl("x509", "-req", "-in", f"{k}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-days", "2", "-extfile", f"{k}.ext", "-out", f"{k}.pem")
        shutil.chown(os.path.join(d, "client.key"), "postgres", "postgres")
        for k in ("ca.key", "server.key", "client.key"):
            os.chmod(os.path.join(d, k), 0o600)
        os.chmod(d, 0o755)
        return self

    def path(self, name):
        return os.path.join(self.dir, name)

    def client_context(self, cert=True):
        ctx = ssl.create_default_context(cafile=self.path("ca.pem"))
        if cert:
            ctx.load_cert_chain(self.path("client.pem"), self.path("client.key"))
        return ctx


# ---------------------------------------------------------------- sshd ---

class Sshd(Proc):
    """sshd on 127.0.0.1:PORT, only for postgres, with barman's key. With
    TMPFS_OVER, it runs in a mount namespace of its own with a tmpfs over
    that directory: "another host" on one machine (scenario 9)."""

    def __init__(self, name="sshd", port=2222, tmpfs_over=None):
        super().__init__(name)
        self.port = port
        self.tmpfs_over = tmpfs_over
        self.dir = os.path.join(RUN, "ssh")
        self.conf = os.path.join(self.dir, f"{name}_config")

    def configure(self):
        os.makedirs(self.dir, exist_ok=True)
        with open(self.conf, "w") as f:
            f.write(f"""Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.dir}/host_key
PidFile {self.dir}/{self.name}.pid
AuthorizedKeysFile {self.dir}/authorized_keys
AllowUsers postgres
# UsePAM: postgres has a locked password (Debian); PAM lets its key in
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM yes
PermitRootLogin no
StrictModes yes
MaxStartups 50:30:100
MaxSessions 50
""")
        run(["/usr/sbin/sshd", "-t", "-f", self.conf], 30, check=True)
        return self

    def argv(self):
        sshd = ["/usr/sbin/sshd", "-D", "-e", "-f", self.conf]
        if not self.tmpfs_over:
            return sshd
        pw = pwd.getpwnam("postgres")
        mount = (f"mount -t tmpfs -o size=512m,mode=0700,uid={pw.pw_uid},gid={pw.pw_gid} e2e-elsewhere "
                 f"{self.tmpfs_over} && exec {' '.join(sshd)}")
        return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", mount]

    def ready(self):
        return bool(listening(self.port))


def setup_ssh(bh):
    """Host key, barman's key (authorised for postgres), and ~barman/.ssh/config:
    pg-node1 and pg-node2 reach 127.0.0.1:2222; pg-node2-elsewhere reaches the
    sshd of "another host" on 2223."""
    d = os.path.join(RUN, "ssh")
    os.makedirs(d, exist_ok=True)
    os.makedirs(os.path.join(bh, ".ssh"), exist_ok=True)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{d}/host_key"], 30, check=True)
    key = os.path.join(bh, ".ssh", "id_ed25519")
    for p in (key, key + ".pub"):
        if os.path.exists(p):
            os.unlink(p)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "barman-e2e", "-f", key], 30, check=True)
    shutil.copy(key + ".pub", f"{d}/authorized_keys")
    os.chmod(f"{d}/authorized_keys", 0o644)
    common = f"""    HostName 127.0.0.1
    User postgres
    IdentityFile {key}
    IdentitiesOnly yes
    BatchMode yes
    ConnectTimeout 10
    ServerAliveInterval 5
    ServerAliveCountMax 3
    StrictHostKeyChecking no
    UserKnownHostsFile /dev/null
    LogLevel ERROR
"""
    with open(os.path.join(bh, ".ssh", "config"), "w") as f:
        f.write(f"Host pg-node1 pg-node2\n    Port 2222\n{common}\nHost pg-node2-elsewhere\n    Port 2223\n{common}")


# ---------------------------------------------------------------- etcd ---

class Etcd(Proc):
    def __init__(self):
        super().__init__("etcd")

    def argv(self):
        return ["etcd", "--name", "e2e", "--data-dir", os.path.join(RUN, "etcd"),
                "--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379",
                "--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
                "--initial-cluster", "e2e=http://127.0.0.1:2380", "--initial-cluster-state", "new"]

    def ready(self):
        return http("http://127.0.0.1:2379/health", timeout=2)[0] == 200


# ---------------------------------------------------------- PostgreSQL ---

def pg_stop(datadir, mode="fast", timeout=60):
    pid_file = os.path.join(datadir, "postmaster.pid")
    if os.path.exists(pid_file):
        run([f"{PGBIN}/pg_ctl", "-D", datadir, "-m", mode, "-w", "-t", str(int(secs(timeout))), "stop"],
            timeout + 15, user="postgres")


class SourcePg:
    """The cluster that Barman backs up first: 200,000 small rows and a
    marker row (a backup of about 36 MB)."""

    port = 5440

    def __init__(self, run_id):
        self.dir = os.path.join(RUN, "src")
        self.data = os.path.join(self.dir, "data")
        self.run_id = run_id
        self.sysid = None

    def start(self):
        os.makedirs(self.dir)
        shutil.chown(self.dir, "postgres", "postgres")
        os.chmod(self.dir, 0o700)
        run([f"{PGBIN}/initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8"], 120,
            user="postgres", check=True)
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.dir}'\n"
                    "wal_level = replica\nmax_wal_senders = 10\nmax_replication_slots = 10\nfsync = off\n")
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write("local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n")
        run([f"{PGBIN}/pg_ctl", "-D", self.data, "-l", os.path.join(LOGS, "pg-src.log"), "-w", "-t",
             str(int(secs(60))), "start"], 90, user="postgres", check=True)
        if psql(self.port, f"""CREATE ROLE barman SUPERUSER LOGIN; CREATE ROLE streaming_barman REPLICATION LOGIN;
            CREATE TABLE e2e_rows (id int PRIMARY KEY, v text);
            INSERT INTO e2e_rows SELECT i, 'row ' || i FROM generate_series(1, 200000) i;
            CREATE TABLE e2e_marker (k text PRIMARY KEY, v text);
            INSERT INTO e2e_marker VALUES ('source', '{self.run_id}');""", 120) is None:
            raise StackError("cannot fill the source cluster")
        self.sysid = psql(self.port, "SELECT system_identifier FROM pg_control_system()")

    def stop(self, mode="fast"):
        pg_stop(self.data, mode)


# -------------------------------------------------------------- Barman ---

class Barman:
    """Barman as user barman: its configuration (server pg1, one model per
    node, a model of another cluster), commands with time limits, and its
    files read as ground truth (jobs, outputs, the active model)."""

    def __init__(self, versions):
        self.v = versions
        self.home = os.path.join(RUN, "barman")   # barman's home and barman_home
        self.bin = os.path.join(versions.vb, "bin", "barman")
        self.setup_log = os.path.join(LOGS, "barman-setup.log")
        self.source_port = 5440

    def user_env(self):
        return user_env("barman", {"PATH": f"{self.v.vb}/bin:/usr/bin:/bin:/usr/sbin:/sbin"})

    def write_conf(self, extra="", source_port=None):
        if source_port:
            self.source_port = source_port

        def conninfo(port, user):
            return f"host=127.0.0.1 port={port} user={user} dbname=postgres connect_timeout=10"

        models = "".join(f"""
[{name}]
cluster = {cluster}
model = true
conninfo = {conninfo(port, 'barman')}
streaming_conninfo = {conninfo(port, 'streaming_barman')}
""" for name, cluster, port in ((f"{SERVER}-node1", SERVER, 5441), (f"{SERVER}-node2", SERVER, 5442),
                                ("other-node1", "other", 5441)))
        write_atomic(os.path.join(self.home, ".barman.conf"), f"""[barman]
barman_user = barman
barman_home = {self.home}
log_file = {LOGS}/barman.log
log_level = INFO
configuration_files_directory = {self.home}/conf.d
path_prefix = {PGBIN}
minimum_redundancy = 0

[{SERVER}]
description = make e2e
cluster = {SERVER}
conninfo = {conninfo(self.source_port, 'barman')}
streaming_conninfo = {conninfo(self.source_port, 'streaming_barman')}
backup_method = postgres
streaming_archiver = on
slot_name = barman
create_slot = auto
{extra}
{models}""", owner="barman")

    def cmd(self, *args, timeout=120, check=False):
        cp = run([self.bin, *args], timeout, user="barman", env=self.user_env())
        with open(self.setup_log, "a") as f:
            f.write(f"=== barman {' '.join(args)} -> {cp.returncode}\n{cp.stdout}{cp.stderr}")
        if check and cp.returncode != 0:
            raise StackError(f"barman {' '.join(args)} exited {cp.returncode}: {cp.stderr.strip()[-300:] or cp.stdout.strip()[-300:]} (log: {self.setup_log})")
        return cp

    def streaming_from(self, port):
        return psql(port, "SELECT count(*) FROM pg_stat_replication WHERE application_name = "
                          "'barman_receive_wal' AND state = 'streaming'", 10) == "1"

    def backup(self):
        self.cmd("switch-wal", "--force", "--archive", "--archive-timeout", "60", SERVER, timeout=120, check=True)
        self.cmd("backup", "--wait", "--wait-timeout", "120", SERVER, timeout=240, check=True)

    def backup_info(self, backup_id="latest"):
        """(id, size in bytes) of a backup, from `barman show-backup --format json`."""
        cp = self.cmd("--format", "json", "show-backup", SERVER, backup_id, timeout=60, check=True)
        data = json.loads(cp.stdout)
        info = data.get(SERVER, data)
        bid = info.get("backup_id") or info.get("base_backup_information", {}).get("backup_id")
        base = info.get("base_backup_information", {})
        # Barman 3.19 gives backup_size_bytes; older ones size_bytes or size
        size = next((int(v) for v in (base.get("backup_size_bytes"), info.get("size_bytes"), info.get("size"))
                     if isinstance(v, (int, float))), None)
        return bid, size, info

    # ground truth: pg-backup-api's files under barman_home/SERVER/
    def jobs_dir(self):
        return os.path.join(self.home, SERVER, "jobs")

    def output_dir(self):
        return os.path.join(self.home, SERVER, "output")

    def job_ids(self):
        try:
            return sorted(f[:-5] for f in os.listdir(self.jobs_dir()) if f.endswith(".json"))
        except FileNotFoundError:
            return []

    def job(self, op_id):
        try:
            with open(os.path.join(self.jobs_dir(), f"{op_id}.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def output(self, op_id):
        try:
            with open(os.path.join(self.output_dir(), f"{op_id}.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def status(self, op_id):
        if not op_id:
            return "none"
        out = self.output(op_id)
        if out is not None:
            return "DONE" if out.get("success") else "FAILED"
        return "IN_PROGRESS" if os.path.exists(os.path.join(self.jobs_dir(), f"{op_id}.json")) else "none"

    def jobs_into(self, datadir):
        """The recovery jobs whose destination is DATADIR, oldest first."""
        out = []
        for i in self.job_ids():
            j = self.job(i)
            if j and j.get("operation_type") == "recovery" and j.get("destination_directory") == datadir:
                out.append(i)
        return out

    def outputs(self):
        try:
            return len([f for f in os.listdir(self.output_dir()) if f.endswith(".json")])
        except FileNotFoundError:
            return 0

    def active_model(self):
        try:
            with open(os.path.join(self.home, SERVER, ".active-model.auto")) as f:
                return f.read().strip()
        except OSError:
            return None

    def active_model_mtime(self):
        try:
            return os.stat(os.path.join(self.home, SERVER, ".active-model.auto")).st_mtime
        except OSError:
            return None


class BarmanCron(Proc):
    """`barman cron` in a loop, each run with a time limit of its own."""

    def __init__(self, barman):
        super().__init__("barman-cron", "barman")
        self.b = barman

    def env(self):
        return self.b.user_env()

    def argv(self):
        return ["/bin/sh", "-c", f"while :; do timeout {int(secs(120))} {self.b.bin} -q cron; sleep 1; done"]


class Api(Proc):
    """pg-backup-api as barman: `gunicorn pg_backup_api.app` (2 workers), or
    `pg-backup-api serve` (Flask's server), or gunicorn without pg-backup-api
    on its PATH ("zombie": each POST leaves a job that never runs)."""

    def __init__(self, barman, mode="gunicorn"):
        super().__init__("api", "barman")
        self.b = barman
        self.mode = mode
        self.access_log = os.path.join(LOGS, "api-access.log")

    def env(self):
        env = self.b.user_env()
        env["PG_BACKUP_API_BARMAN_CONF"] = os.path.join(self.b.home, ".barman.conf")
        if self.mode == "zombie":
            env["PATH"] = "/usr/bin:/bin"
        return env

    def argv(self):
        vb = self.b.v.vb
        if self.mode == "serve":
            return [f"{vb}/bin/pg-backup-api", "serve", "--port", "7480"]
        return [f"{vb}/bin/gunicorn", "--bind", "127.0.0.1:7480", "--workers", "2", "--timeout", "60",
                "--access-logfile", self.access_log, "pg_backup_api.app"]

    def ready(self):
        return http(f"{API}/status", timeout=2) == (200, '"OK"')

    def restart(self, mode):
        self.stop(20)
        self.mode = mode
        if not os.path.exists(self.access_log):
            open(self.access_log, "a").close()
            shutil.chown(self.access_log, "barman", "barman")
        with open(self.access_log, "a") as f:
            f.write(f"=== api started as {mode}\n")
        return self.start(30)


class Nginx(Proc):
    """HTTPS with required client certificates, /pgbackup/ -> the API."""

    def __init__(self, pki):
        super().__init__("nginx")
        self.pki = pki
        self.dir = os.path.join(RUN, "nginx")
        self.conf = os.path.join(self.dir, "nginx.conf")

    def configure(self):
        tmp = os.path.join(self.dir, "tmp")
        os.makedirs(tmp)
        os.chmod(tmp, 0o1777)
        with open(self.conf, "w") as f:
            f.write(f"""worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {LOGS}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
    access_log {LOGS}/nginx-access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    proxy_read_timeout 60s;
    server {{
        listen 127.0.0.1:8443 ssl;
        ssl_certificate {self.pki.path('server.pem')};
        ssl_certificate_key {self.pki.path('server.key')};
        ssl_client_certificate {self.pki.path('ca.pem')};
        ssl_verify_client on;
        location /pgbackup/ {{ proxy_pass http://127.0.0.1:7480/; }}
    }}
}}
""")
        run(["nginx", "-t", "-e", f"{LOGS}/nginx-error.log", "-c", self.conf], 30, check=True)
        return self

    def argv(self):
        return ["nginx", "-e", f"{LOGS}/nginx-error.log", "-c", self.conf, "-g", "daemon off;"]

    def ready(self):
        return http(f"{NGINX}/status", timeout=2, ctx=self.pki.client_context())[0] == 200


# ------------------------------------------------------------- Patroni ---

class Tool:
    """The patroni_barman under test: its command line prefix (global
    options) for plain HTTP or nginx mTLS, as that tool takes them."""

    def __init__(self, versions, pki):
        self.v = versions
        self.pki = pki
        if versions.tool == "rust":
            self.path = os.path.join(ROOT, "bin", "patroni_barman")
        else:
            self.path = os.path.join(versions.vp, "bin", "patroni_barman")

    @property
    def rust(self):
        return self.v.tool == "rust"

    def prefix(self, kind, log):
        p = self.pki
        if self.rust:
            if kind == "http":
                return [self.path, "--api-url", API, f"--log-file={log}"]
            return [self.path, "--api-url", NGINX, "--ca-file", p.path("ca.pem"), "--cert-file", p.path("client.pem"),
                    "--key-file", p.path("client.key"), f"--log-file={log}"]
        # no CA option (SSL_CERT_FILE, in Patroni's environment); the URL needs its slash
        if kind == "http":
            return [self.path, "--api-url", API, "--log-file", log]
        return [self.path, "--api-url", NGINX + "/", "--cert-file", p.path("client.pem"), "--key-file",
                p.path("client.key"), "--log-file", log]

    def env(self):
        return user_env("postgres", {"SSL_CERT_FILE": self.pki.path("ca.pem")} if not self.rust else None)

    def run(self, args, timeout, log, kind="http"):
        """Runs the tool as postgres, its log appended to LOG (a file of its
        own: postgres cannot append to one that root made in a sticky
        directory); (CompletedProcess, wall seconds)."""
        t = time.time()
        cp = run(self.prefix(kind, log) + args, timeout, user="postgres", env=self.env())
        with open(log + ".stderr", "a") as f:
            f.write(cp.stderr)
        return cp, time.time() - t


class Patroni(Proc):
    """One Patroni node of scope e2e, as postgres. Its configuration is JSON
    (YAML's subset): no quoting to get wrong. node1 restores over plain HTTP
    and its callback goes over nginx mTLS; node2 the other way round."""

    stop_group = False   # SIGTERM Patroni itself: it stops its PostgreSQL

    def __init__(self, n, versions, tool, pki):
        super().__init__(f"patroni-node{n}", "postgres")
        self.n = n
        self.v = versions
        self.tool = tool
        self.pki = pki
        self.port = 5440 + n
        self.rest = 8007 + n
        self.dir = os.path.join(RUN, f"node{n}")
        self.data = os.path.join(self.dir, "data")
        self.conf = os.path.join(RUN, f"patroni-node{n}.yml")
        self.tool_log = os.path.join(LOGS, f"tool-node{n}.log")
        self.recover_kind = "http" if n == 1 else "mtls"
        self.callback_kind = "mtls" if n == 1 else "http"
        self.ssh_host = f"pg-node{n}"
        self.method_extra = {}

    def env(self):
        return self.tool.env()

    def configure(self):
        os.makedirs(self.dir, exist_ok=True)
        shutil.chown(self.dir, "postgres", "postgres")
        os.chmod(self.dir, 0o700)
        recover = " ".join(self.tool.prefix(self.recover_kind, self.tool_log) + ["recover"])
        callback = " ".join(self.tool.prefix(self.callback_kind, self.tool_log) + [
            "config-switch", "--barman-server", SERVER, "--barman-model", f"{SERVER}-node{self.n}",
            "--switch-when", "promoted"])
        method = {"command": recover, "barman-server": SERVER, "ssh-command": f"ssh {self.ssh_host}"}
        method.update(self.method_extra)
        conf = {
            "scope": SCOPE, "name": f"node{self.n}", "log": {"level": "INFO"},
            "restapi": {"listen": f"127.0.0.1:{self.rest}", "connect_address": f"127.0.0.1:{self.rest}"},
            "etcd3": {"hosts": "127.0.0.1:2379"},
            "bootstrap": {
                "dcs": {"ttl": 20, "loop_wait": 2, "retry_timeout": 5, "maximum_lag_on_failover": 16777216,
                        "postgresql": {"use_pg_rewind": False, "parameters": {
                            "wal_level": "replica", "max_wal_senders": 10, "max_replication_slots": 10,
                            "wal_keep_size": "256MB", "hot_standby": "on", "fsync": "off"}},
                        "slots": {"barman": {"type": "physical"}}},
                "method": "barman",
                "barman": dict({"keep_existing_recovery_conf": True, "command": recover, "barman-server": SERVER,
                                "backup-id": "latest", "ssh-command": f"ssh {self.ssh_host}"}),
            },
            "postgresql": {
                "listen": f"127.0.0.1:{self.port}", "connect_address": f"127.0.0.1:{self.port}",
                "data_dir": self.data, "bin_dir": PGBIN, "pgpass": os.path.join(self.dir, "pgpass"),
                "authentication": {"superuser": {"username": "postgres"}, "replication": {"username": "postgres"}},
                "parameters": {"unix_socket_directories": self.dir},
                "pg_hba": ["local all all trust", "host all all 127.0.0.1/32 trust",
                           "host replication all 127.0.0.1/32 trust"],
                "create_replica_methods": ["barman", "basebackup"],
                "barman": method,
                "basebackup": {"checkpoint": "fast"},
                "callbacks": {"on_role_change": callback},
            },
        }
        write_atomic(self.conf, json.dumps(conf, indent=1) + "\n", owner="postgres")
        return self

    def argv(self):
        return [os.path.join(self.v.vp, "bin", "patroni"), self.conf]

    def is_primary(self):
        return http(f"http://127.0.0.1:{self.rest}/primary", timeout=3)[0] == 200

    def is_replica(self):
        return http(f"http://127.0.0.1:{self.rest}/replica", timeout=3)[0] == 200

    def streams_to(self, primary_port):
        return psql(primary_port, "SELECT count(*) FROM pg_stat_replication WHERE application_name = "
                                  f"'node{self.n}' AND state = 'streaming'", 10) == "1"

    def stop(self, timeout=60):
        super().stop(timeout)
        # a PostgreSQL that outlived its Patroni
        try:
            pg_stop(self.data, "immediate", 30)
        except StackError as e:
            say(f"pg_ctl stop of {self.data}: {e}")

    def recreate(self):
        """Stopped, its data directory removed, started again."""
        self.stop(60)
        shutil.rmtree(self.data, ignore_errors=True)
        self.start(30)

    def ready(self):
        # up once its REST API answers (any role)
        return http(f"http://127.0.0.1:{self.rest}/health", timeout=2)[0] is not None
