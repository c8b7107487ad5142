#!/usr/bin/env python3
"""Stub of pg-backup-api (Barman's REST API) for tests and benchmarks of patroni_barman.

Standard library only. With no scenario it answers like the real server (pg-backup-api 2.2,
Flask 2.3, Werkzeug 3.1): see docs/pg-backup-api.md. Usage:
    python3 scripts/stub_api.py [--scenario JSON_TEXT | --scenario @FILE] [--record FILE]
        [--lifetime SECONDS] [--tls-cert PEM --tls-key PEM [--client-ca PEM]] [--verbose]

It binds 127.0.0.1 on a free port and prints "PORT <n>" on stdout (nothing else goes to stdout).
One thread per connection, one request per connection, always "Connection: close". It exits
by itself after --lifetime seconds (default 60) and at once on SIGTERM/SIGINT.
  --record FILE   append one JSON line per request (flushed at once), written as soon as the
                  answer is known and before it is sent (for hang, drop and outage: before
                  the fault runs; for delay: after the wait, so such a line can follow lines of
                  requests that arrived later):
                  {"t" (arrival time), "method", "path" (raw target),
                   "route" (status|create|poll|list|diagnose|unknown),
                   "server" (percent-decoded or null),
                   "headers" (lowercased names), "body", "client_cert_cn",
                   "code" (HTTP status answered; for raw, the status of its status line; null
                           when no HTTP answer is sent: hang, drop, outage, after_create other
                           than "500", raw text without a status line),
                   "created" (id of the operation this request created and answered 202 for,
                              else null; never set by after_create or collide)}
  --tls-cert/--tls-key  serve HTTPS; --client-ca also requires a client certificate.
  --verbose       access log on stderr (otherwise stderr only gets internal errors).

Routes (under "prefix"), with their labels: status = GET /status, create = POST
/servers/S/operations, list = GET /servers/S/operations, poll = GET /servers/S/operations/ID,
diagnose = GET /diagnose; anything else is "unknown" (HEAD counts as GET). The raw path (query
dropped) is split on "/" first, then each segment is percent-decoded ("%2F" stays inside its
segment). HEAD and OPTIONS work as in Flask.

Scenario: a JSON object, every key optional.
  "prefix": "/pgbackup"       routes exist only under it (default "": none)
  "servers": ["main"]         Barman servers known to the operation routes (default: the
                              servers of /diagnose, see "diagnose"; so ["main"] by default)
  "backups": ["latest", "20261101T000000"]   if given, exactly the backup_id values a POST of
                              a recovery accepts, for every server, taken verbatim. Default:
                              what the server's /diagnose backups resolve, as pg-backup-api
                              2.2.0 does it: "latest"/"last" = greatest id whose status is
                              WAITING_FOR_WALS or DONE, "oldest"/"first" = smallest such id,
                              any substring of "last-failed" (e.g. "last-failed", "failed",
                              "") = greatest FAILED id, anything else = that id if the server
                              has such a backup, whatever its status ("latest-full" and backup
                              names are not resolved: 404). A backup_id that is not a string
                              gets the 500 page (pg-backup-api's TypeError).
  "diagnose": {"servers": {S: SERVER, ...}, "models": {M: MODEL, ...}}   what GET /diagnose
                              shows (200 application/json, built once at start; shape in
                              docs/pg-backup-api.md, "GET /diagnose"):
        {"global": {"config", "system_info"},
         "servers": {S: {"config": {..., "cluster": C, "model": false, "name": S, ...},
                         "active_model": M|null, "status": {...}, "system_info": {...},
                         "wals": {...}, "backups": {ID: {"backup_id": ID, "status": ...,
                         "begin_time": ..., "end_time": ..., "size": ..., ...}}}},
         "models": {M: {"config": {"cluster": C, "model": true, "name": M, ...}}}}
      SERVER keys: "cluster" (default S), "active_model" (default null), "config" (object
        merged over the generated config), "backups": [BACKUP, ...] (default two DONE backups,
        20261101T000000 ended 2026-11-01 00:11:47.318204+00:00 and 20261102T000000 ended
        2026-11-02 00:12:03.902117+00:00; [] for none).
      BACKUP: an id string (a DONE backup), or an object: "id" (string, required), "status"
        (default "DONE"; any text: DONE, WAITING_FOR_WALS, FAILED, STARTED, SYNCING, EMPTY),
        "begin_time" / "end_time" ("2026-11-28 03:00:12.123456+00:00" or ISO 8601; UTC if no
        offset; sent as Barman does, isoformat: "2026-11-28T03:00:12.123456+00:00", without
        the fraction when it is zero; null is sent as null; text that does not parse is sent
        verbatim). begin_time defaults to 1-2 s after the time of the id, end_time (DONE and
        WAITING_FOR_WALS only, else null) to a few minutes after begin_time. Any other key is
        copied verbatim into the backup's object, replacing the generated value (e.g.
        "backup_name", "error", "size": null). Duplicate ids: the last one counts.
      MODEL keys: "cluster" (default M), "config" (object merged over the generated config).
      Defaults when "diagnose" or one of its keys is absent: "servers" = each server of the
      "servers" key (default ["main"]) with the SERVER defaults; "models" = {"main-pg1":
      {"cluster": "main"}, "main-pg2": {"cluster": "main"}, "other-pg1": {"cluster": "other"}}.
  "diagnose_grow": {"servers": N, "backups": K}   (defaults 1 and 2) a large /diagnose for
                              memory tests, built once at start (100 x 50: 12 MB in about
                              0.5 s; 10 x 1000: 23 MB in about 1 s): servers "main",
                              "server-002", ... "server-N" (names padded to 3 digits or more),
                              cluster = own name, no active model, each with K DONE backups 6 h
                              apart from 20230101T000000 (ids unique per server, sizes 2-60
                              GiB, about 2.3 KB of JSON each); models S-pg1 and S-pg2 for
                              every server S, plus other-pg1 (cluster "other"). "diagnose"
                              servers and models, if given, are added or replace those of the
                              same name.
  "status_body": "\\"OK\\""   raw body of GET /status
  "existing_operations": [{"server": S, "id": ID, "type": "recovery", "status": "DONE"}]
  "list_extra": [VALUE, ...]  raw JSON values appended to the "operations" array of every
                              200 answer of GET /servers/S/operations, e.g.
                              [{"id": 5}, "junk", {"id": "x\\u200by", "type": "recovery"}]
  "others_result": "DONE"|"FAILED"   how the operation of the other client of "collide" ends
                              (default, or any other value: IN_PROGRESS forever)
  "operations": [SPEC, ...]   specs of new operations in creation order (all servers together);
                              the last spec repeats. SPEC keys:
        "in_progress_polls": N   first N polls answer IN_PROGRESS, then "result"
        "done_after": SECONDS    IN_PROGRESS until that long after creation, then "result"
        "result": "DONE"|"FAILED" (default DONE);  "stuck": true  IN_PROGRESS forever
        A recovery writes what Barman restores into its destination_directory, as the real
        one does over --ssh-command (made with its parents): "restore_bytes" (default 65536)
        in base/1/, then PG_VERSION and global/pg_control last; with "tablespace_bytes": M
        (default 0) first a tablespace, DEST.tblspc-16385 with M bytes, linked from
        pg_tblspc/16385. With "done_after" the bytes arrive in ten steps over its first 80 %
        (the tablespace at once); otherwise all of it when the result is first answered.
        Nothing is written for a FAILED result, or with "restore_to": "nowhere" (Barman
        reached another host); a destination that cannot be written ends the operation
        FAILED, as Barman's rsync would.
        default [{"in_progress_polls": 0, "result": "DONE"}]
  "faults": [RULE, ...]   RULE = {"route": "status"|"create"|"poll"|"list"|"diagnose"|"any"
        (default any), "skip": K (default 0), "times": N (default 1, -1 = forever),
        "action": ACTION}
        Every rule counts the requests of its route (whether or not another rule applied);
        a rule is live for its matches number K+1 .. K+N; the first live rule applies.
    ACTION is an object with one key:
      {"respond": {"code": 502, "content_type": "text/html", "body": "...",
                   "headers": {"Location": "http://x/"}}}   exactly that answer, no side effect
                            (defaults: code 200, text/html; charset=utf-8, empty body)
      {"hang": true}        never answer, keep the connection open
      {"drop": true}        close the connection without sending a byte
      {"outage": SECONDS}   drop, close the listener (refusing connections), re-bind after SECONDS
      {"delay": SECONDS}    wait, then answer normally
      {"trickle": SECONDS}  normal answer sent one byte at a time, SECONDS between bytes
      {"huge": {"bytes": N, "framing": "length"|"chunked"|"close"}}  200 application/json
                            with an N-byte body of spaces
      {"truncate": true}    normal answer whose Content-Length is 10 bytes too large, then close
      {"raw": "TEXT"}       send TEXT (latin-1) verbatim and close
      {"after_create": "500"}  create only: the worker fails to start. The job is written
                            (listed with its type, status IN_PROGRESS forever whatever the
                            operations spec says, no "operations" entry used, "created" null)
                            and the answer is the 500 page. A request the checks refuse gets
                            their answer instead, and a second POST for the server in the same
                            second gets the 500 page with nothing written.
      {"after_create": "drop"|"hang"|"tls_garbage"}  create only: create for real (next
                            "operations" entry), then close without answer / never answer /
                            (HTTPS) write a TLS record that cannot be decrypted, and close
      {"after_create": "huge_head"|"huge_body"}  create only: create for real, then send the
                            202 with a 20 KB header line / a 2 MiB body (its JSON, then
                            spaces), over the client's limits; "code" is 202
      {"collide": true}     create only: same-second collision with another client. Unless the
                            checks refuse the request (their answer, nothing written), an
                            operation of the request's type is created for the server with the
                            current second's id, as if another client's POST had come first
                            (listed, no "operations" entry used, IN_PROGRESS forever unless
                            "others_result"); this request gets the 500 page. If that id exists
                            already, just the 500 page.
      {"half_written": true}   poll only: 404 {"error":"404 Not Found: Resource not found"}, as
                            while the worker writes its output file; no side effect (the
                            in_progress_polls count is not used)
      {"no_config": true}   list and poll: 404 {"error":"404 Not Found: No barman config
                            found for 'S'."} for the request's server S; create: 404
                            {"error":"404 Not Found: Server 'S' does not exist"}, as the real
                            server under load (docs/pg-backup-api.md); no side effect
      {"after_create": "no_id"}  create only: create for real, then answer 202 with
                            {"status": "accepted"}, a body without "operation_id"
    after_create, collide, half_written and no_config on another route answer normally.
Operation ids are the local time, %Y%m%dT%H%M%S (one-second resolution); the same-second
check and the write of an operation are one step under a lock.
Malformed requests (bad request line or headers) are closed without answer and not recorded.
"""
import argparse
import json
import os
import random
import re
import signal
import socket
import ssl
import sys
import threading
import time
import zlib
from datetime import datetime, timedelta, timezone
from email.utils import formatdate
from http import HTTPStatus
from urllib.parse import unquote

SERVER = "Werkzeug/3.1.3 Python/3.11"
HTML = "text/html; charset=utf-8"
DESCRIPTIONS = {
    400: "The browser (or proxy) sent a request that this server could not understand.",
    405: "The method is not allowed for the requested URL.",
    415: "Did not attempt to load JSON data because the request Content-Type was not "
         "'application/json'.",
    500: "The server encountered an internal error and was unable to complete your request. "
         "Either the server is overloaded or there is an error in the application.",
}
URL_NOT_FOUND = ("The requested URL was not found on the server. If you entered the URL "
                 "manually please check your spelling and try again.")
MISSING_OPTIONS = "Make sure all options/arguments are met and try again"
PHRASES = {status.value: status.phrase for status in HTTPStatus}
ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"})
VERBOSE = False


def log(msg, always=False):
    if VERBOSE or always:
        print("stub_api: " + msg, file=sys.stderr, flush=True)


def html_error(code, message=None, extra=()):
    """A Werkzeug error page; escaped like markupsafe does it (&#39; and &#34; for quotes)."""
    name = PHRASES[code].translate(ESCAPES)
    desc = (message or DESCRIPTIONS[code]).translate(ESCAPES).replace("\n", "<br>")
    body = f"<!doctype html>\n<html lang=en>\n<title>{code} {name}</title>\n<h1>{name}</h1>\n<p>{desc}</p>\n"
    return code, HTML, body.encode(), list(extra)


def json_answer(code, obj):
    """Like Flask's jsonify outside debug mode: compact, sorted keys, ASCII, final newline."""
    body = json.dumps(obj, separators=(",", ":"), sort_keys=True) + "\n"
    return code, "application/json", body.encode(), []


def not_found(message):
    return json_answer(404, {"error": "404 Not Found: " + message})


def head_bytes(code, headers):
    lines = [f"HTTP/1.1 {code} {PHRASES.get(code, 'Unknown')}"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def serialize(answer, head_only=False, length_bonus=0):
    code, ctype, body, extra = answer
    headers = [("Server", SERVER), ("Date", formatdate(usegmt=True)), ("Content-Type", ctype),
               ("Content-Length", str(len(body) + length_bonus)), ("Connection", "close")]
    overridden = {k.lower() for k, _ in extra}
    headers = [h for h in headers if h[0].lower() not in overridden] + list(extra)
    return head_bytes(code, headers) + (b"" if head_only else body)


def read_request(rfile, conn):
    """Parse one request from the buffered reader; EOFError if the peer closes or sends nonsense."""
    def line():
        data = rfile.readline(65537)
        if not data.endswith(b"\n"):
            raise EOFError("connection closed or line too long")
        return data.rstrip(b"\r\n").decode("latin-1")

    def exactly(n):
        data = rfile.read(n)
        if len(data) != n:
            raise EOFError("connection closed inside the body")
        return data

    parts = line().split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise EOFError("bad request line")
    headers = {}
    while text := line():
        name, sep, value = text.partition(":")
        if not sep or len(headers) > 200:
            raise EOFError("bad header line")
        key, value = name.strip().lower(), value.strip()
        headers[key] = headers[key] + ", " + value if key in headers else value
    chunked = "chunked" in headers.get("transfer-encoding", "").lower()
    length = 0 if chunked else int(headers.get("content-length") or 0)
    if (chunked or length) and headers.get("expect", "").lower() == "100-continue":
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    body = exactly(length)
    while chunked and (size := int(line().split(";")[0].strip() or "0", 16)):
        body += exactly(size)
        line()
    while chunked and line():  # trailer lines
        pass
    return {"method": parts[0], "target": parts[1], "headers": headers, "body": body}


# ---- GET /diagnose: `barman diagnose` (Barman 3.19) as pg-backup-api 2.2.0 serves it ----
# Shape from barman/diagnose.py: {"global": {"config", "system_info"}, "servers": {S: {"config",
# "active_model", "system_info", "status", "backups", "wals"}}, "models": {M: {"config"}}};
# backups hold every status, their begin_time/end_time are ISO 8601 in the Barman host's offset.
UTC = timezone.utc
COPY_DONE = ("WAITING_FOR_WALS", "DONE")  # Barman's BackupInfo.STATUS_COPY_DONE
DEFAULT_BACKUPS = [
    {"id": "20261101T000000", "status": "DONE", "end_time": "2026-11-01 00:11:47.318204+00:00"},
    {"id": "20261102T000000", "status": "DONE", "end_time": "2026-11-02 00:12:03.902117+00:00"},
]
DEFAULT_MODELS = {"main-pg1": {"cluster": "main"}, "main-pg2": {"cluster": "main"},
                  "other-pg1": {"cluster": "other"}}
BACKUP_SPEC_KEYS = ("id", "status", "begin_time", "end_time")
BARMAN_HOME = "/var/lib/barman"
PGDATA = "/var/lib/postgresql/15/main"
PG_BIN = "/usr/lib/postgresql/15/bin"
TABLESPACES = [("tbs_archive", 16400, "/srv/pgdata/tbs_archive"),
               ("tbs_index", 16401, "/srv/pgdata/tbs_index"),
               ("tbs_history_2024", 16402, "/srv/pgdata/tbs_history_2024"),
               ("tbs_history_2025", 16403, "/srv/pgdata/tbs_history_2025"),
               ("tbs_reporting", 16404, "/srv/pgdata/tbs_reporting")]
TABLESPACE_SHARES = {"tbs_archive": 0.21, "tbs_index": 0.12, "tbs_history_2024": 0.09,
                     "tbs_history_2025": 0.07, "tbs_reporting": 0.05}
GENERATED_AT = datetime(2026, 11, 28, 9, 0, 0, 412977, tzinfo=UTC)
RELEASE = ("Distributor ID:\tDebian\nDescription:\tDebian GNU/Linux 12 (bookworm)\nRelease:\t12\n"
           "Codename:\tbookworm")
SERVER_UNSET = (  # server options left unset: null in the server's config
    "aws_await_snapshots_timeout", "aws_profile", "aws_region", "aws_snapshot_lock_cool_off_period",
    "aws_snapshot_lock_duration", "aws_snapshot_lock_expiration_date", "aws_snapshot_lock_mode",
    "azure_credential", "azure_resource_group", "azure_subscription_id", "backup_compression",
    "backup_compression_format", "backup_compression_level", "backup_compression_location",
    "backup_compression_workers", "bandwidth_limit", "custom_compression_filter",
    "custom_compression_magic", "custom_decompression_filter", "encryption", "encryption_key_id",
    "encryption_passphrase_command", "gcp_project", "gcp_zone", "last_backup_minimum_size",
    "last_wal_maximum_age", "local_staging_path", "max_incoming_wals_queue",
    "post_archive_retry_script", "post_archive_script", "post_backup_retry_script",
    "post_backup_script", "post_delete_retry_script", "post_delete_script",
    "post_recovery_retry_script", "post_recovery_script", "post_wal_delete_retry_script",
    "post_wal_delete_script", "pre_archive_retry_script", "pre_archive_script",
    "pre_backup_retry_script", "pre_backup_script", "pre_delete_retry_script", "pre_delete_script",
    "pre_recovery_retry_script", "pre_recovery_script", "pre_wal_delete_retry_script",
    "pre_wal_delete_script", "primary_conninfo", "primary_ssh_command", "recovery_staging_path",
    "snapshot_disks", "snapshot_gcp_project", "snapshot_instance", "snapshot_provider",
    "snapshot_zone", "staging_location", "staging_path", "tablespace_bandwidth_limit",
    "wal_conninfo", "wal_streaming_conninfo")
MODEL_UNSET = (  # options a model may override, left unset: null in the model's config
    "archiver", "backup_method", "backup_options", "bandwidth_limit", "compression", "create_slot",
    "immediate_checkpoint", "parallel_jobs", "path_prefix", "primary_conninfo",
    "primary_ssh_command", "retention_policy", "reuse_backup", "slot_name", "streaming_archiver",
    "streaming_archiver_name", "streaming_backup_name", "wal_conninfo", "wal_streaming_conninfo")


def parse_time(value):
    """A scenario's time ("2026-11-28 03:00:12.123456+00:00", ISO 8601 too; UTC if naive) as an
    aware datetime; None stays None; anything unparsable is returned unchanged (sent verbatim)."""
    if not isinstance(value, str):
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def time_text(value):
    """As Barman's BarmanEncoderV2 writes a datetime (isoformat; no fraction when it is zero)."""
    return value.isoformat() if isinstance(value, datetime) else value


def lsn_text(lsn):
    return "%X/%X" % (lsn >> 32, lsn & 0xFFFFFFFF)


def wal_name(timeline, lsn):
    return "%08X%08X%08X" % (timeline, lsn >> 32, (lsn & 0xFFFFFFFF) >> 24)


def system_info(host):
    return {"kernel_ver": f"Linux {host} 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 "
                          "(2024-11-22) x86_64 GNU/Linux",
            "python_ver": "Python 3.11.2", "release": RELEASE,
            "rsync_ver": "rsync  version 3.2.7  protocol version 31",
            "ssh_ver": "OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.15 3 Sep 2024"}


def global_section():
    """`barman diagnose`'s global part: the [barman] section as written (raw strings)."""
    config = {"barman_home": BARMAN_HOME, "barman_lock_directory": BARMAN_HOME,
              "barman_user": "barman", "backup_options": "concurrent_backup",
              "compression": "gzip", "configuration_files_directory": "/etc/barman.d",
              "errors_list": [], "immediate_checkpoint": "true",
              "last_backup_maximum_age": "1 DAY", "log_file": "/var/log/barman/barman.log",
              "log_level": "INFO", "minimum_redundancy": "2", "parallel_jobs": "4",
              "path_prefix": PG_BIN, "retention_policy": "RECOVERY WINDOW OF 14 DAYS",
              "reuse_backup": "link"}
    info = dict(system_info("barman1"), barman_ver="3.19.0", timestamp=time_text(GENERATED_AT))
    return {"config": config, "system_info": info}


def server_config(name, cluster):
    home, host = f"{BARMAN_HOME}/{name}", f"{cluster}-pg1.example.internal"
    config = dict.fromkeys(SERVER_UNSET)
    config.update({
        "active": True, "archiver": False, "archiver_batch_size": 0,
        "autogenerate_manifest": False, "backup_directory": home, "backup_method": "rsync",
        "backup_options": "concurrent_backup", "barman_home": BARMAN_HOME,
        "barman_lock_directory": BARMAN_HOME, "basebackup_retry_sleep": 30,
        "basebackup_retry_times": 3, "basebackups_directory": f"{home}/base", "check_timeout": 30,
        "cluster": cluster, "compression": "gzip",
        "conninfo": f"host={host} port=5432 user=barman dbname=postgres connect_timeout=10",
        "create_slot": "auto", "description": f"PostgreSQL cluster {cluster}, managed by Patroni",
        "disabled": False, "errors_directory": f"{home}/errors", "forward_config_path": False,
        "immediate_checkpoint": True, "incoming_wals_directory": f"{home}/incoming",
        "keepalive_interval": 60, "last_backup_maximum_age": "1 day",
        "lock_directory_cleanup": True, "minimum_redundancy": 2, "model": False, "msg_list": [],
        "name": name, "network_compression": False, "parallel_jobs": 4,
        "parallel_jobs_start_batch_period": 1, "parallel_jobs_start_batch_size": 10,
        "path_prefix": PG_BIN, "primary_checkpoint_timeout": 0, "recovery_options": "",
        "retention_policy": "RECOVERY WINDOW OF 14 DAYS", "retention_policy_mode": "auto",
        "reuse_backup": "link", "slot_name": "barman", "ssh_command": f"ssh postgres@{host}",
        "streaming_archiver": True, "streaming_archiver_batch_size": 0,
        "streaming_archiver_name": "barman_receive_wal",
        "streaming_backup_name": "barman_streaming_backup",
        "streaming_conninfo": f"host={host} port=5432 user=streaming_barman dbname=postgres",
        "streaming_wals_directory": f"{home}/streaming", "wal_retention_policy": "main",
        "wals_directory": f"{home}/wals", "worm_mode": False, "xlogdb_directory": f"{home}/wals"})
    return config


def model_config(name, cluster):
    host = f"{name}.example.internal"
    config = dict.fromkeys(MODEL_UNSET)
    config.update({
        "cluster": cluster, "model": True, "name": name, "msg_list": [],
        "description": f"Back up cluster {cluster} from {host}",
        "conninfo": f"host={host} port=5432 user=barman dbname=postgres connect_timeout=10",
        "ssh_command": f"ssh postgres@{host}",
        "streaming_conninfo": f"host={host} port=5432 user=streaming_barman dbname=postgres"})
    return config


def server_status(cluster, lsn, timeline, current_size):
    systemid = str(7000000000000000000 + zlib.crc32(cluster.encode()) * 1000003)
    return {
        "archive_command": "(disabled)", "archive_mode": "off", "archive_timeout": 0,
        "checkpoint_timeout": 300, "config_file": f"{PGDATA}/postgresql.conf",
        "connection_error": None, "current_lsn": lsn_text(lsn), "current_size": current_size,
        "current_xlog": wal_name(timeline, lsn), "data_checksums": "on",
        "data_directory": PGDATA, "has_backup_privileges": True,
        "hba_file": f"{PGDATA}/pg_hba.conf", "hot_standby": "on",
        "ident_file": f"{PGDATA}/pg_ident.conf", "is_in_recovery": False,
        "is_superuser": False, "max_replication_slots": "10", "max_wal_senders": "10",
        "pg_basebackup_bwlimit": True, "pg_basebackup_compatible": True,
        "pg_basebackup_installed": True, "pg_basebackup_path": f"{PG_BIN}/pg_basebackup",
        "pg_basebackup_tbls_mapping": True, "pg_basebackup_version": "15.10",
        "pg_receivexlog_compatible": True, "pg_receivexlog_installed": True,
        "pg_receivexlog_path": f"{PG_BIN}/pg_receivewal",
        "pg_receivexlog_supports_slots": True, "pg_receivexlog_synchronous": False,
        "pg_receivexlog_version": "15.10", "postgresql_systemid": systemid,
        "replication_slot": ["barman", True, lsn_text(lsn & ~0xFFFFFF)],
        "replication_slot_support": True,
        "server_txt_version": "15.10 (Debian 15.10-1.pgdg120+1)", "streaming": True,
        "streaming_supported": True, "streaming_systemid": systemid,
        "synchronous_standby_names": [""], "timeline": timeline, "version_supported": True,
        "wal_compression": "off", "wal_keep_size": "0", "wal_level": "replica",
        "xlog_segment_size": 16777216}


def backup_object(server, spec, index, lsn):
    """One backup as `barman diagnose` shows it, and the LSN where the next one begins.
    Pseudo-random but reproducible sizes and timings (seeded by server and id)."""
    bid, status = spec["id"], spec.get("status", "DONE")
    rng = random.Random(zlib.crc32(f"{server}/{bid}".encode()))
    try:  # a backup id is the Barman host's local time, %Y%m%dT%H%M%S
        start = datetime(int(bid[0:4]), int(bid[4:6]), int(bid[6:8]), int(bid[9:11]),
                         int(bid[11:13]), int(bid[13:15]), tzinfo=UTC)
    except (TypeError, ValueError):
        start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=6 * index)
    begin = parse_time(spec["begin_time"]) if "begin_time" in spec else (
        start + timedelta(seconds=1 + rng.random()))
    cluster_size = rng.randrange(2 << 30, 60 << 30)
    size = int(cluster_size * rng.uniform(0.97, 1.02))
    items = dict(TABLESPACE_SHARES, pgdata=0.46)
    copy_time = size / rng.uniform(90e6, 160e6)
    analysis = rng.uniform(0.5, 4.0)
    ended = status in COPY_DONE
    end_default = (begin + timedelta(seconds=analysis + copy_time + rng.uniform(2, 9))
                   if ended and isinstance(begin, datetime) else None)
    end = parse_time(spec["end_time"]) if "end_time" in spec else end_default
    timeline = 3
    end_lsn = (lsn & ~0xFFFFFF) + (rng.randrange(1, 40) << 24) + rng.randrange(0x100, 0xFFFFF0) & ~7
    backup = {
        "backup_id": bid,
        "backup_label": (f"START WAL LOCATION: {lsn_text(lsn)} (file {wal_name(timeline, lsn)})\n"
                         f"CHECKPOINT LOCATION: {lsn_text(lsn + 0x60)}\n"
                         "BACKUP METHOD: streamed\nBACKUP FROM: primary\n"
                         f"START TIME: {start:%Y-%m-%d %H:%M:%S} UTC\n"
                         f"LABEL: Barman backup {server} {bid}\nSTART TIMELINE: {timeline}\n"),
        "begin_offset": lsn & 0xFFFFFF, "begin_time": time_text(begin),
        "begin_wal": wal_name(timeline, lsn), "begin_xlog": lsn_text(lsn),
        "children_backup_ids": None, "cluster_size": cluster_size, "compression": None,
        "config_file": f"{PGDATA}/postgresql.conf", "copy_stats": None, "data_checksums": "on",
        "deduplicated_size": None, "encryption": None, "end_offset": None,
        "end_time": time_text(end), "end_wal": None, "end_xlog": None, "error": None,
        "hba_file": f"{PGDATA}/pg_hba.conf", "ident_file": f"{PGDATA}/pg_ident.conf",
        "included_files": [f"{PGDATA}/postgresql.base.conf", f"{PGDATA}/conf.d/patroni.conf"],
        "mode": "rsync-concurrent", "parent_backup_id": None, "pgdata": PGDATA,
        "server_name": server, "size": size, "status": status, "summarize_wal": None,
        "systemid": str(7000000000000000000 + zlib.crc32(server.encode()) * 1000003),
        "tablespaces": [list(t) for t in TABLESPACES], "timeline": timeline, "version": 150010,
        "xlog_segment_size": 16777216}
    if ended:
        per_item = {k: int(copy_time * share * 1e6) / 1e6 for k, share in items.items()}
        per_item.update(pg_control=0.011843, config_file=0.004112)
        backup.update({
            "copy_stats": {
                "analysis_time": int(analysis * 1e6) / 1e6,
                "analysis_time_per_item": {k: int(analysis * share * 1e6) / 1e6
                                           for k, share in items.items()},
                "copy_time": int(copy_time * 1e6) / 1e6, "copy_time_per_item": per_item,
                "number_of_workers": 4,
                "serialized_copy_time": int(copy_time * 3.7e6) / 1e6,
                "serialized_copy_time_per_item": {k: int(v * 3.7e6) / 1e6
                                                  for k, v in per_item.items()},
                "total_time": int((analysis + copy_time + 2.5) * 1e6) / 1e6},
            "deduplicated_size": int(size * rng.uniform(0.03, 0.25)),
            "end_offset": end_lsn & 0xFFFFFF, "end_wal": wal_name(timeline, end_lsn),
            "end_xlog": lsn_text(end_lsn)})
    elif status == "FAILED":
        backup["error"] = ("failure during backup copy (data transfer failure on directory "
                           f"'{BARMAN_HOME}/{server}/base/{bid}/data')")
    elif status == "EMPTY":
        backup.update(dict.fromkeys(("backup_label", "begin_offset", "begin_time", "begin_wal",
                                     "begin_xlog", "cluster_size", "size", "tablespaces",
                                     "included_files", "systemid", "timeline", "version")))
    backup.update({k: v for k, v in spec.items() if k not in BACKUP_SPEC_KEYS})
    return backup, ((end_lsn >> 24) + rng.randrange(1, 200) << 24) + 0x28


def server_section(name, spec):
    cluster = spec["cluster"]
    lsn, backups = 0x14000028 + (zlib.crc32(name.encode()) & 0xFF) * (1 << 32), {}
    for index, b in enumerate(spec["backups"]):
        backups[b["id"]], lsn = backup_object(name, b, index, lsn)
    timeline = 3
    sizes = [b["cluster_size"] for b in backups.values() if isinstance(b.get("cluster_size"), int)]
    return {
        "active_model": spec["active_model"],
        "backups": backups,
        "config": dict(server_config(name, cluster), **spec["config"]),
        "status": server_status(cluster, lsn, timeline, sizes[-1] if sizes else 23731871),
        "system_info": system_info(f"{cluster}-pg1"),
        "wals": {"last_archived_wal_per_timeline": {"%08X" % timeline: {
            "compression": "gzip", "encryption": None, "name": wal_name(timeline, lsn - (1 << 24)),
            "size": 4187213, "time": round(GENERATED_AT.timestamp() - 17.3, 6)}}},
    }


def grown_spec(n_servers, n_backups):
    """diagnose_grow: servers "main", "server-002", ... (cluster = name), each with n_backups DONE
    backups six hours apart from 2023-01-01, and models S-pg1, S-pg2 per server plus other-pg1."""
    width = max(3, len(str(n_servers)))
    names = ["main"] + [f"server-{i:0{width}d}" for i in range(2, n_servers + 1)]
    base = datetime(2023, 1, 1, tzinfo=UTC)
    ids = [(base + timedelta(hours=6 * j)).strftime("%Y%m%dT%H%M%S") for j in range(n_backups)]
    servers = {name: {"backups": [{"id": i} for i in ids]} for name in names[:max(n_servers, 0)]}
    models = {f"{name}-pg{k}": {"cluster": name} for name in servers for k in (1, 2)}
    models["other-pg1"] = {"cluster": "other"}
    return servers, models


def diagnose_spec(scenario):
    """The servers and models /diagnose shows, with every default applied: ({S: {"cluster",
    "active_model", "config", "backups": [spec sorted by id]}}, {M: {"cluster", "config"}})."""
    given = scenario.get("diagnose") or {}
    grow = scenario.get("diagnose_grow")
    if grow:
        servers, models = grown_spec(int(grow.get("servers", 1)), int(grow.get("backups", 2)))
        servers.update(given.get("servers", {}))
        models.update(given.get("models", {}))
    else:
        servers = given.get("servers", {name: {} for name in scenario.get("servers", ["main"])})
        models = given.get("models", DEFAULT_MODELS)
    out_servers = {}
    for name, s in servers.items():
        backups = {}
        for b in s.get("backups", DEFAULT_BACKUPS):
            b = {"id": b} if isinstance(b, str) else dict(b)
            backups[b["id"]] = b
        out_servers[name] = {"cluster": s.get("cluster", name),
                             "active_model": s.get("active_model"), "config": s.get("config", {}),
                             "backups": [backups[k] for k in sorted(backups)]}
    out_models = {name: {"cluster": m.get("cluster", name), "config": m.get("config", {})}
                  for name, m in models.items()}
    return out_servers, out_models


def diagnose_body(servers, models):
    """The whole answer as Flask's jsonify writes it: compact, sorted keys, ASCII, final newline."""
    doc = {"global": global_section(),
           "servers": {name: server_section(name, s) for name, s in servers.items()},
           "models": {name: {"config": dict(model_config(name, m["cluster"]), **m["config"])}
                      for name, m in models.items()}}
    return (json.dumps(doc, separators=(",", ":"), sort_keys=True) + "\n").encode()


def resolve_backup(backups, backup_id):
    """pg-backup-api 2.2.0's parse_backup_id on a server's {id: status}: the id it finds, or None.
    latest/last: greatest id among WAITING_FOR_WALS and DONE; oldest/first: smallest of those;
    last-failed (tested as a substring of "last-failed", as pg-backup-api does): greatest FAILED
    id; anything else: itself, if such a backup exists whatever its status."""
    done = sorted(k for k, st in backups.items() if st in COPY_DONE)
    if backup_id in ("latest", "last"):
        return done[-1] if done else None
    if backup_id in ("oldest", "first"):
        return done[0] if done else None
    if backup_id in "last-failed":
        failed = sorted(k for k, st in backups.items() if st == "FAILED")
        return failed[-1] if failed else None
    return backup_id if backup_id in backups else None


class Restore:
    """What Barman writes into a recovery's destination_directory (see "operations")."""

    def __init__(self, body, spec):
        dest = body.get("destination_directory")
        self.dest = dest if isinstance(dest, str) and dest else None
        if spec.get("restore_to", "destination") != "destination":
            self.dest = None
        self.bytes = int(spec.get("restore_bytes", 65536))
        self.tablespace = int(spec.get("tablespace_bytes", 0))
        self.steps_done, self.ok, self.lock = 0, True, threading.Lock()
        self.done = threading.Event()
        period = float(spec.get("done_after", 0))
        self.spreading = self.dest is not None and period > 0
        if self.dest is None:
            self.done.set()
        elif self.spreading:
            threading.Thread(target=self.spread, args=(period * 0.8,), daemon=True).start()

    STEPS = 10

    def spread(self, seconds):
        start = time.monotonic()
        for step in range(self.STEPS + 1):
            time.sleep(max(0.0, start + seconds * step / self.STEPS - time.monotonic()))
            self.step()

    def step(self):
        """The tablespace, then one tenth of the base files per call, then the control files."""
        with self.lock:
            if self.done.is_set():
                return
            try:
                if self.steps_done == 0:
                    os.makedirs(os.path.join(self.dest, "base", "1"), exist_ok=True)
                    if self.tablespace:
                        target = f"{self.dest}.tblspc-16385"
                        os.makedirs(os.path.join(target, "PG_15_202209061", "1"), exist_ok=True)
                        with open(os.path.join(target, "PG_15_202209061", "1", "16400"), "wb") as f:
                            f.write(b"\0" * self.tablespace)
                        os.makedirs(os.path.join(self.dest, "pg_tblspc"), exist_ok=True)
                        link = os.path.join(self.dest, "pg_tblspc", "16385")
                        if not os.path.islink(link):
                            os.symlink(target, link)
                if self.steps_done < self.STEPS:
                    share = self.bytes // self.STEPS + (self.bytes % self.STEPS if self.steps_done == 0 else 0)
                    with open(os.path.join(self.dest, "base", "1", str(16384 + self.steps_done)), "wb") as f:
                        f.write(b"\0" * share)
                else:
                    with open(os.path.join(self.dest, "PG_VERSION"), "w") as f:
                        f.write("15\n")
                    os.makedirs(os.path.join(self.dest, "global"), exist_ok=True)
                    with open(os.path.join(self.dest, "global", "pg_control"), "wb") as f:
                        f.write(b"\0" * 8192)
                    self.done.set()
                self.steps_done += 1
            except OSError as e:
                log(f"restore into {self.dest} failed: {e}", always=True)
                self.ok = False
                self.done.set()

    def finish(self):
        """Writes what is left (the spreading thread's last steps are due already); whether
        it worked."""
        if self.spreading:
            self.done.wait(10)
        while not self.done.is_set():
            self.step()
        return self.ok


class Stub:
    def __init__(self, scenario, record, ctx):
        self.prefix = scenario.get("prefix", "").rstrip("/")
        diag_servers, diag_models = diagnose_spec(scenario)
        self.servers = scenario.get("servers", list(diag_servers))
        self.backups = scenario.get("backups")  # None: the backups /diagnose shows, per server
        self.diag_backups = {name: {b["id"]: b.get("status", "DONE") for b in s["backups"]}
                             for name, s in diag_servers.items()}
        self.diagnose_body = diagnose_body(diag_servers, diag_models)  # built once, served as is
        self.status_body = scenario.get("status_body", '"OK"').encode()
        self.specs = scenario.get("operations") or [{"in_progress_polls": 0, "result": "DONE"}]
        self.faults = [dict(rule, seen=0) for rule in scenario.get("faults", [])]
        self.list_extra = scenario.get("list_extra", [])
        result = scenario.get("others_result")
        self.others_spec = {"result": result} if result in ("DONE", "FAILED") else {"stuck": True}
        self.ops, self.created = {}, 0
        for e in scenario.get("existing_operations", []):
            self.ops.setdefault(e.get("server", self.servers[0]), {})[e["id"]] = {
                "type": e.get("type", "recovery"), "created": time.monotonic(), "polls": 0,
                "spec": {"result": e.get("status", "DONE")}}
        self.lock = threading.Lock()
        self.record_file = open(record, "a", encoding="utf-8") if record else None
        self.ctx = ctx
        self.up = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = self.listener.getsockname()[1]
        self.up.set()

    # ---- listening socket and outages (create_server sets SO_REUSEADDR) ----
    def start_outage(self, seconds):
        with self.lock:
            if not self.up.is_set():
                return
            self.up.clear()
            try:
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
            except OSError:
                pass
            self.listener.close()
        threading.Thread(target=self.reopen, args=(seconds,), daemon=True).start()

    def reopen(self, seconds):
        time.sleep(seconds)
        while True:
            try:
                self.listener = socket.create_server(("127.0.0.1", self.port), backlog=128)
                break
            except OSError as e:
                log(f"re-bind of port {self.port} failed: {e}", always=True)
                time.sleep(0.05)
        self.up.set()

    def accept_loop(self):
        while True:
            self.up.wait()
            try:
                conn, _ = self.listener.accept()
            except OSError:
                if self.up.is_set():
                    time.sleep(0.01)
                continue
            threading.Thread(target=self.handle_conn, args=(conn,), daemon=True).start()

    # ---- one connection ----
    def handle_conn(self, conn):
        rfile = None
        try:
            cn = None
            if self.ctx:
                conn.settimeout(10)
                conn = self.ctx.wrap_socket(conn, server_side=True)
                conn.settimeout(None)
                for rdn in (conn.getpeercert() or {}).get("subject", ()):
                    cn = next((v for k, v in rdn if k == "commonName"), cn)
            rfile = conn.makefile("rb")
            self.serve(conn, read_request(rfile, conn), cn)
        except (EOFError, ValueError, OSError) as e:
            log(f"connection closed: {e!r}")
        except Exception as e:  # never let one connection kill the stub
            log(f"internal error: {e!r}", always=True)
        finally:
            try:
                if rfile:
                    rfile.close()  # the socket really closes only once its file is closed
                conn.close()
            except OSError:
                pass

    def classify(self, req):
        """(route label, decoded server or None, path kind, segments) without side effects."""
        path = req["target"].split("?", 1)[0]
        if self.prefix and not path.startswith(self.prefix + "/"):
            return "unknown", None, None, []
        segs = [unquote(s, errors="replace") for s in path[len(self.prefix):].split("/")[1:]]
        kind, server = (segs[0] if segs in (["status"], ["diagnose"]) else None), None
        if len(segs) in (3, 4) and segs[0] == "servers" and segs[2] == "operations" and all(segs):
            kind, server = ("operations" if len(segs) == 3 else "operation"), segs[1]
        if req["method"] in ("GET", "HEAD"):
            route = {"status": "status", "diagnose": "diagnose", "operations": "list",
                     "operation": "poll"}.get(kind, "unknown")
        else:
            route = "create" if kind == "operations" and req["method"] == "POST" else "unknown"
        return route, server, kind, segs

    def answer(self, req, kind, segs):
        """The real server's answer (with its side effects) as ((code, ctype, body, extra),
        id of the operation this request created and answered 202 for, or None)."""
        if kind == "operations" and req["method"] == "POST":
            return self.create(req, segs[1])
        return self.read(req, kind, segs), None

    def read(self, req, kind, segs):
        """The real server's answer to anything but a POST of an operation."""
        if kind is None:
            return not_found(URL_NOT_FOUND)
        allowed = ["GET", "HEAD", "OPTIONS"] + (["POST"] if kind == "operations" else [])
        method = req["method"]
        if method == "OPTIONS":
            return 200, HTML, b"", [("Allow", ", ".join(sorted(allowed)))]
        if method not in allowed:
            return html_error(405, extra=[("Allow", ", ".join(sorted(allowed)))])
        if kind == "status":
            return 200, HTML, self.status_body, []
        if kind == "diagnose":
            return 200, "application/json", self.diagnose_body, []
        if segs[1] not in self.servers:
            return not_found(f"No barman config found for '{segs[1]}'.")
        if kind == "operations":
            with self.lock:
                ops = [{"id": op_id, "type": op["type"]} for op_id, op in self.ops.get(segs[1], {}).items()]
            return json_answer(200, {"operations": ops + self.list_extra})
        with self.lock:
            op = self.ops.get(segs[1], {}).get(segs[3])
            if op is None:
                return not_found("Resource not found")
            return json_answer(200, {"operation_id": segs[3], "status": self.status_of(op)})

    @staticmethod
    def status_of(op):
        spec = op["spec"]
        if spec.get("stuck") or time.monotonic() - op["created"] < spec.get("done_after", 0):
            return "IN_PROGRESS"
        if op["polls"] < spec.get("in_progress_polls", 0):
            op["polls"] += 1
            return "IN_PROGRESS"
        result = spec.get("result", "DONE")
        restore = op.get("restore")
        if result == "DONE" and restore is not None and not restore.finish():
            spec["result"] = result = "FAILED"
        return result

    def check_create(self, req, server):
        """Step 1 of a POST: (error answer, None) if refused, else (None, operation type)."""
        # Same order of checks as pg-backup-api: request.get_json(), empty body, server, type.
        mimetype = req["headers"].get("content-type", "").split(";")[0].strip().lower()
        if mimetype != "application/json" and not (
                mimetype.startswith("application/") and mimetype.endswith("+json")):
            return html_error(415), None
        try:
            body = json.loads(req["body"])
        except ValueError:
            return html_error(400), None
        if not body:
            return html_error(400, f"Minimum barman options not met for server '{server}'"), None
        if server not in self.servers:
            return not_found(f"Server '{server}' does not exist"), None
        if not isinstance(body, dict):
            return html_error(500), None
        op_type = body.get("type", "recovery")  # the real default type is recovery
        if op_type == "recovery":
            if "backup_id" not in body:
                return html_error(400, "Request body is missing ``backup_id``"), None
            backup_id = body["backup_id"]
            if not isinstance(backup_id, str):  # `backup_id in "last-failed"` raises TypeError
                return html_error(500), None
            if (backup_id not in self.backups if self.backups is not None
                    else resolve_backup(self.diag_backups.get(server, {}), backup_id) is None):
                return not_found(f"Backup '{backup_id}' does not exist"), None
            complete = "destination_directory" in body and "remote_ssh_command" in body
        elif op_type == "config_switch":
            has_model, has_reset = "model_name" in body, "reset" in body
            complete = (has_model != has_reset and (not has_model or isinstance(body["model_name"], str))
                        and (not has_reset or body["reset"] is True))
        else:
            return html_error(500), None
        if not complete:
            return html_error(400, MISSING_OPTIONS), None
        return None, op_type

    def create(self, req, server, worker_starts=True):
        """A POST of an operation, as (answer, id created and answered 202 for, or None).
        worker_starts=False: the job is written but its worker fails to start (500, stuck)."""
        refused, op_type = self.check_create(req, server)
        if refused:
            return refused, None
        with self.lock:  # the same-second check and the write are one step
            op_id = datetime.now().strftime("%Y%m%dT%H%M%S")
            ops = self.ops.setdefault(server, {})
            if op_id in ops:
                return html_error(500), None
            if worker_starts:
                spec = self.specs[min(self.created, len(self.specs) - 1)]
                self.created += 1
            else:
                spec = {"stuck": True}
            ops[op_id] = {"type": op_type, "created": time.monotonic(), "spec": spec, "polls": 0}
            if worker_starts and op_type == "recovery" and spec.get("result", "DONE") == "DONE" \
                    and not spec.get("stuck"):
                ops[op_id]["restore"] = Restore(json.loads(req["body"]), spec)
        if not worker_starts:
            return html_error(500), None
        return json_answer(202, {"operation_id": op_id}), op_id

    def collide(self, req, server):
        """Another client's POST of the same type won this second; this one gets the 500."""
        refused, op_type = self.check_create(req, server)
        if refused:
            return refused
        with self.lock:
            op_id = datetime.now().strftime("%Y%m%dT%H%M%S")
            ops = self.ops.setdefault(server, {})
            if op_id not in ops:
                ops[op_id] = {"type": op_type, "created": time.monotonic(),
                              "spec": self.others_spec, "polls": 0}
        return html_error(500)

    def pick_fault(self, route):
        with self.lock:
            chosen = None
            for rule in self.faults:
                if rule.get("route", "any") in ("any", route):
                    rule["seen"] += 1
                    seen, skip, times = rule["seen"], rule.get("skip", 0), rule.get("times", 1)
                    if chosen is None and seen > skip and (times < 0 or seen <= skip + times):
                        chosen = rule.get("action") or {}
            return chosen or {}

    def record(self, arrived, req, route, server, cn, code, created):
        line = json.dumps({
            "t": arrived, "method": req["method"], "path": req["target"], "route": route,
            "server": server, "headers": req["headers"],
            "body": req["body"].decode("utf-8", errors="replace"), "client_cert_cn": cn,
            "code": code, "created": created})
        with self.lock:
            self.record_file.write(line + "\n")
            self.record_file.flush()

    def serve(self, conn, req, cn):
        arrived = time.time()
        route, server, kind, segs = self.classify(req)
        action = self.pick_fault(route)
        head_only = req["method"] == "HEAD"
        log(f"{req['method']} {req['target']} route={route} fault={json.dumps(action)}")
        noted = []

        def note(code, created=None):
            """Writes the request's one record line, once its answer is known."""
            if not noted:
                noted.append(code)
                if self.record_file:
                    self.record(arrived, req, route, server, cn, code, created)

        try:
            self.fault_or_answer(conn, req, route, server, kind, segs, action, head_only, note)
        finally:
            note(None)  # nothing was answered (an error came first)

    def fault_or_answer(self, conn, req, route, server, kind, segs, action, head_only, note):
        if "respond" in action:
            r = action["respond"]
            ans = (r.get("code", 200), r.get("content_type", HTML), r.get("body", "").encode(),
                   list(r.get("headers", {}).items()))
            note(ans[0])
            conn.sendall(serialize(ans))
        elif "hang" in action:
            note(None)
            self.hang(conn)
        elif "outage" in action:
            note(None)
            self.start_outage(float(action["outage"]))
        elif "raw" in action:
            text = action["raw"]
            status = re.match(r"HTTP/\d(?:\.\d)? (\d{3})", text)
            note(int(status.group(1)) if status else None)
            conn.sendall(text.encode("latin-1"))
        elif "huge" in action:
            note(200)
            self.send_huge(conn, action["huge"])
        elif "collide" in action and route == "create":
            ans = self.collide(req, server)
            note(ans[0])
            conn.sendall(serialize(ans))
        elif "after_create" in action and route == "create":
            what = str(action["after_create"])
            if what == "500":
                ans, _ = self.create(req, server, worker_starts=False)
                note(ans[0])
                conn.sendall(serialize(ans))
                return
            ans, _ = self.answer(req, kind, segs)  # created for real; the answer is lost
            if what == "no_id":
                # A 202 whose body carries no operation id.
                note(ans[0])
                conn.sendall(serialize((ans[0], ans[1], b'{"status": "accepted"}', [])))
                return
            if what in ("huge_head", "huge_body"):
                # The 202 is sent, in a shape no client takes whole.
                code, body = ans[0], ans[2]
                filler = "a" * 20_000
                head = f"HTTP/1.1 {code} ACCEPTED\r\nContent-Type: application/json\r\n"
                if what == "huge_head":
                    text = f"{head}X-Filler: {filler}\r\nConnection: close\r\n\r\n"
                    conn.sendall(text.encode() + body)
                else:
                    size = 2 << 20
                    conn.sendall(f"{head}Content-Length: {size}\r\n\r\n".encode()
                                 + body.ljust(size))
                note(code)
                return
            note(None)
            if what == "tls_garbage":
                # A TLS record that cannot be decrypted, beside the TLS layer.
                os.write(conn.fileno(), b"\x17\x03\x03\x00\x05hello")
            elif what == "hang":
                self.hang(conn)
            # "drop" (or anything else): just close
        elif "half_written" in action and route == "poll":
            ans = not_found("Resource not found")
            note(ans[0])
            conn.sendall(serialize(ans, head_only))
        elif "no_config" in action and route in ("list", "poll", "create"):
            ans = not_found(f"Server '{server}' does not exist" if route == "create"
                            else f"No barman config found for '{server}'.")
            note(ans[0])
            conn.sendall(serialize(ans, head_only))
        elif "drop" in action:
            note(None)
        else:
            if "delay" in action:
                time.sleep(float(action["delay"]))
            ans, created = self.answer(req, kind, segs)
            note(ans[0], created)
            if "trickle" in action:
                for byte in serialize(ans, head_only):
                    conn.sendall(bytes([byte]))
                    time.sleep(float(action["trickle"]))
            elif "truncate" in action:
                conn.sendall(serialize(ans, head_only, length_bonus=10))
            else:
                conn.sendall(serialize(ans, head_only))

    @staticmethod
    def hang(conn):
        """Never answer; return when the client closes its side."""
        while conn.recv(65536):
            pass

    @staticmethod
    def send_huge(conn, spec):
        total, framing = int(spec.get("bytes", 10 << 20)), spec.get("framing", "length")
        headers = [("Server", SERVER), ("Date", formatdate(usegmt=True)), ("Content-Type", "application/json")]
        headers += {"length": [("Content-Length", str(total))],
                    "chunked": [("Transfer-Encoding", "chunked")]}.get(framing, [])
        conn.sendall(head_bytes(200, headers + [("Connection", "close")]))
        block = b" " * 65536
        while total > 0:
            piece = block[:min(total, len(block))]
            total -= len(piece)
            if framing == "chunked":
                piece = b"%x\r\n%s\r\n" % (len(piece), piece)
            conn.sendall(piece)
        if framing == "chunked":
            conn.sendall(b"0\r\n\r\n")


def main():
    global VERBOSE
    parser = argparse.ArgumentParser(description="Stub of pg-backup-api; see the module docstring.")
    parser.add_argument("--scenario", default="", help="JSON text, or @FILE")
    parser.add_argument("--record", help="append one JSON line per request to this file")
    parser.add_argument("--lifetime", type=float, default=60.0, help="exit after SECONDS (default 60)")
    for name in ("--tls-cert", "--tls-key", "--client-ca"):
        parser.add_argument(name)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    VERBOSE = args.verbose
    text = args.scenario
    if text.startswith("@"):
        with open(text[1:], encoding="utf-8") as f:
            text = f.read()
    scenario = json.loads(text) if text.strip() else {}
    ctx = None
    if bool(args.tls_cert) != bool(args.tls_key) or (args.client_ca and not args.tls_cert):
        parser.error("--tls-cert and --tls-key go together; --client-ca needs both")
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        if args.client_ca:
            ctx.load_verify_locations(args.client_ca)
            ctx.verify_mode = ssl.CERT_REQUIRED
    stub = Stub(scenario, args.record, ctx)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: os._exit(0))
    threading.Thread(target=lambda: (time.sleep(args.lifetime), os._exit(0)), daemon=True).start()
    print(f"PORT {stub.port}", flush=True)
    stub.accept_loop()


if __name__ == "__main__":
    main()
