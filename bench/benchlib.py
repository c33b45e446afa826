"""What bench/fanout and bench/startup share: a control-socket connection, the second
administrator who approves (maker-checker), a sample notice, the bodies, and readings
of a process's memory and CPU time."""
import base64
import json
import os
import socket
import subprocess
import time

import nacl.public

CHECKER = "hpan-bench-checker"


class Conn:
    """One control-socket connection speaking JSON lines."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.f = self.s.makefile("rb")
        self.n = 0

    def send(self, method, params):
        self.n += 1
        self.s.sendall(json.dumps({"id": self.n, "method": method, "params": params}).encode() + b"\n")

    def read(self):
        reply = json.loads(self.f.readline())
        if "error" in reply:
            raise SystemExit(f"hpand refused: {reply['error']}")
        return reply["result"]

    def call(self, method, params=None):
        self.send(method, params or {})
        return self.read()

    def pipeline(self, requests, depth=500):
        """Sends (method, params) pairs `depth` at a time; returns how many were answered."""
        done, batch = 0, []
        for r in requests:
            batch.append(r)
            if len(batch) == depth:
                done += self._flush(batch)
                batch = []
        return done + self._flush(batch)

    def _flush(self, batch):
        for method, params in batch:
            self.send(method, params)
        for _ in batch:
            self.read()
        return len(batch)


def ensure_checker():
    """The checker's system user (made once); returns its (uid, gid)."""
    if subprocess.run(["id", CHECKER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", CHECKER], check=True)
    uid = int(subprocess.run(["id", "-u", CHECKER], capture_output=True, text=True).stdout)
    gid = int(subprocess.run(["id", "-g", CHECKER], capture_output=True, text=True).stdout)
    return uid, gid


def approve_as_checker(hpanctl, sock, notice_id, checker_gid):
    subprocess.run(["setpriv", "--reuid", CHECKER, "--regid", str(checker_gid), "--clear-groups", "--",
                    hpanctl, "--socket", sock, "notice", "approve", notice_id], check=True, capture_output=True)


def notice_content(i=0):
    """A fictional notice (about 1 KiB), requested by body B00000; `i` varies the person."""
    return {"practitioner": {"full_name": f"Dr Bench Example {i}", "profession": "doctor", "regulator": "GMC",
                             "registration_number": f"{i:07d}", "date_of_birth": "1970-01-31"},
            "concern": {"categories": ["clinical"], "description": f"A fictional concern for the benchmark, {i}."},
            "requesting_body": {"id": "B00000"},
            "requester": {"name": "A Director", "role": "executive_board_member"},
            "contact": {"name": "Case Contact", "email": "contact@bench.example.nhs.uk"},
            "criteria": {"significant_risk": True, "may_work_elsewhere": True, "pressing_need": True},
            "public_interest": {"outweighs_adverse_effect": True, "reason": "A fictional reason."}}


def body_add_requests(n, webhook_base=None, email=False):
    """body.add requests for B00000..: each its own X25519 key, receiving every notice, by
    webhook at webhook_base + id, or by email."""
    for i in range(n):
        body = {"id": f"B{i:05d}", "name": f"Bench body {i}", "kind": "trust", "receives": "all",
                "public_key": base64.b64encode(bytes(nacl.public.PrivateKey.generate().public_key)).decode()}
        if email:
            body["emails"] = [f"hpan@b{i:05d}.bench.example.nhs.uk"]
        else:
            body["webhook_url"] = webhook_base + f"B{i:05d}"
        yield "body.add", body


class LogCounter:
    """Counts the lines of a receiver's log that start with, or contain, given bytes,
    reading only what was added since the last call: re-reading the whole log (about
    2 KiB a webhook request) at each poll would take a core of a 2-core machine from
    hpand."""

    def __init__(self, path):
        self.path, self.offset, self.counts = path, 0, {}

    def update(self, **patterns):
        """patterns: name=(bytes, "prefix" or "contains"); returns the counts so far."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except FileNotFoundError:
            return self.counts
        complete = chunk[:chunk.rfind(b"\n") + 1]
        self.offset += len(complete)
        lines = complete.split(b"\n")
        for name, (pattern, how) in patterns.items():
            hit = (lambda line: line.startswith(pattern)) if how == "prefix" else (lambda line: pattern in line)
            self.counts[name] = self.counts.get(name, 0) + sum(1 for line in lines if hit(line))
        return self.counts


def rss_mib(pid, field="VmRSS"):
    """Resident memory of a process now (VmRSS) or at its peak (VmHWM), in MiB."""
    with open(f"/proc/{pid}/status") as f:
        status = dict(line.split(":", 1) for line in f if ":" in line)
    return int(status[field].split()[0]) / 1024


def cpu_seconds(pid):
    """User and system CPU time of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait(predicate, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(interval)
    raise SystemExit(f"timed out waiting for {what}")
