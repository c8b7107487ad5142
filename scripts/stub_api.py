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
                   "route" (status|create|poll|list|unknown), "server" (percent-decoded or null),
                   "headers" (lowercased names), "body", "client_cert_cn",
                   "code" (HTTP status answered; for raw, the status of its status line; null
                           when no HTTP answer is sent: hang, drop, outage, after_create other
                           than "500", raw text without a status line),
                   "created" (id of the operation this request created and answered 202 for,
                              else null; never set by after_create or collide)}
  --tls-cert/--tls-key  serve HTTPS; --client-ca also requires a client certificate.
  --verbose       access log on stderr (otherwise stderr only gets internal errors).

Routes (under "prefix"), with their labels: status = GET /status, create = POST
/servers/S/operations, list = GET /servers/S/operations, poll = GET /servers/S/operations/ID;
anything else is "unknown". The raw path (query dropped) is split on "/" first, then each
segment is percent-decoded ("%2F" stays inside its segment). HEAD and OPTIONS work as in Flask.

Scenario: a JSON object, every key optional.
  "prefix": "/pgbackup"       routes exist only under it (default "": none)
  "servers": ["main"]         known Barman servers
  "backups": ["latest", "oldest", "20261101T000000"]   backup ids that exist
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
        default [{"in_progress_polls": 0, "result": "DONE"}]
  "faults": [RULE, ...]   RULE = {"route": "status"|"create"|"poll"|"list"|"any" (default any),
        "skip": K (default 0), "times": N (default 1, -1 = forever), "action": ACTION}
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
      {"no_config": true}   list and poll only: 404 {"error":"404 Not Found: No barman config
                            found for 'S'."} for the request's server S; no side effect
    after_create, collide, half_written and no_config on another route answer normally.
Operation ids are the local time, %Y%m%dT%H%M%S (one-second resolution); the same-second
check and the write of an operation are one step under a lock.
Malformed requests (bad request line or headers) are closed without answer and not recorded.
"""
import argparse
import json
import os
import re
import signal
import socket
import ssl
import sys
import threading
import time
from datetime import datetime
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


class Stub:
    def __init__(self, scenario, record, ctx):
        self.prefix = scenario.get("prefix", "").rstrip("/")
        self.servers = scenario.get("servers", ["main"])
        self.backups = scenario.get("backups", ["latest", "oldest", "20261101T000000"])
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
        kind, server = ("status" if segs == ["status"] else None), None
        if len(segs) in (3, 4) and segs[0] == "servers" and segs[2] == "operations" and all(segs):
            kind, server = ("operations" if len(segs) == 3 else "operation"), segs[1]
        if req["method"] in ("GET", "HEAD"):
            route = {"status": "status", "operations": "list", "operation": "poll"}.get(kind, "unknown")
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
        return spec.get("result", "DONE")

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
            if body["backup_id"] not in self.backups:
                return not_found(f"Backup '{body['backup_id']}' does not exist"), None
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
            self.answer(req, kind, segs)  # created for real; the answer is lost
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
        elif "no_config" in action and route in ("list", "poll"):
            ans = not_found(f"No barman config found for '{server}'.")
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
