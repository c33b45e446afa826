"""Shared pieces of the integration tests: a real hpand in a temporary folder, real
keys from hpan-keygen, real users for the maker-checker rule, a control-socket client.

Binaries come from the environment (set by CTest): HPAND, HPANCTL, HPAN_KEYGEN, HPAN_VERIFY.
Every wait is bounded; every process started is stopped in cleanup.
"""
import grp
import json
import os
import pwd
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time

BIN = {k: os.environ[k] for k in ("HPAND", "HPANCTL", "HPAN_KEYGEN", "HPAN_VERIFY") if k in os.environ}

ADMIN_GROUP = "hpantestadm"
USERS = {"alice": None, "bob": None, "olivia": None, "victor": None, "mallory": None}


def run(cmd, check=True, **kw):
    """Runs a command, returning CompletedProcess with text output."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def wait_for(predicate, timeout=30, what="condition"):
    """Polls `predicate` every 50 ms until it returns something true (returned), or fails."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def ensure_users():
    """Creates the test users (as root) once; returns {name: uid}. They have no login shell."""
    if os.geteuid() != 0:
        raise SystemExit("integration tests need root (they create test users)")
    try:
        grp.getgrnam(ADMIN_GROUP)
    except KeyError:
        run(["groupadd", "--system", ADMIN_GROUP])
    uids = {}
    for name in USERS:
        user = "hpant" + name
        try:
            pw = pwd.getpwnam(user)
        except KeyError:
            run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                 "--groups", ADMIN_GROUP, user])
            pw = pwd.getpwnam(user)
        uids[name] = pw.pw_uid
    return uids


class Daemon:
    """One hpand with its own state folder, keys, config and control socket."""

    # Deliveries go only to loopback; by default to closed ports (refused at once).
    LOOPBACK_DELIVERY = ("delivery:\n  allow_plain_http_to_loopback: true\n"
                         "  smtp: {url: \"smtp://127.0.0.1:1\", starttls: none}\n")

    def __init__(self, roles=None, extra_config="", env=None, delivery=None, control=None):
        self.tmp = tempfile.mkdtemp(prefix="hpan-it-", dir="/tmp")
        os.chmod(self.tmp, 0o755)
        self.state = os.path.join(self.tmp, "state")
        self.sock = os.path.join(self.tmp, "control.sock")
        self.key = os.path.join(self.tmp, "signing.key")
        run([BIN["HPAN_KEYGEN"], "signing", "--out", self.key])
        self.roles = roles or {}
        self.control = control or {}  # more control.* settings, e.g. {"max_request_size": "4MiB"}
        self.extra_config = extra_config + (delivery if delivery is not None else self.LOOPBACK_DELIVERY)
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.log_path = os.path.join(self.tmp, "hpand.log")
        self.write_config()

    def write_config(self):
        lines = [
            f"state_dir: {self.state}",
            "control:",
            f"  socket: {self.sock}",
            "  socket_mode: \"0660\"",
            f"  socket_group: {ADMIN_GROUP}",
            *(f"  {k}: {v}" for k, v in self.control.items()),
            "  roles:",
        ]
        for who, role in self.roles.items():
            lines.append(f"    \"{who}\": {role}")
        if not self.roles:
            lines[-1] = "  roles: {}"
        lines += ["keys:", f"  signing: {self.key}", "log:", "  level: debug", "metrics:", "  listen: \"\""]
        self.config = os.path.join(self.tmp, "hpand.yaml")
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n" + self.extra_config)

    def start(self, timeout=15):
        """Starts hpand and waits until the control socket answers."""
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([BIN["HPAND"], "--config", self.config], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"hpand exited {self.proc.returncode}:\n{self.read_log()}")
            try:
                with Client(self.sock) as c:
                    c.call("status")
                return
            except (OSError, AssertionError):
                time.sleep(0.05)
        raise AssertionError("hpand did not answer in time:\n" + self.read_log())

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("hpand did not stop within %ss" % timeout)
        self.log.close()
        code, self.proc = self.proc.returncode, None
        return code

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()
        self.proc = None

    def read_log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def db(self):
        return sqlite3.connect(os.path.join(self.state, "hpand.sqlite"), timeout=10)

    def ctl(self, *args, user=None, check=False):
        """Runs hpanctl (as `user`, one of USERS, or root) against this daemon."""
        cmd = [BIN["HPANCTL"], "--socket", self.sock, *args]
        if user is not None:
            cmd = ["setpriv", "--reuid", "hpant" + user, "--regid", ADMIN_GROUP, "--init-groups", "--"] + cmd
        return run(cmd, check=check)

    def cleanup(self):
        try:
            self.stop(signal.SIGKILL)
        except Exception:
            pass
        shutil.rmtree(self.tmp, ignore_errors=True)


class Client:
    """A control-socket client speaking JSON lines."""

    def __init__(self, path, timeout=10):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        try:
            self.s.connect(path)
        except OSError:
            self.s.close()
            raise
        self.buf = b""
        self.next_id = 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.s.close()

    def send_raw(self, data: bytes):
        self.s.sendall(data)

    def read_line(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise AssertionError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def request(self, method, params=None):
        """Sends a request and returns the whole answer object."""
        rid = self.next_id
        self.next_id += 1
        self.send_raw((json.dumps({"id": rid, "method": method, "params": params or {}}) + "\n").encode())
        answer = self.read_line()
        assert answer.get("id") == rid, answer
        return answer

    def call(self, method, params=None):
        answer = self.request(method, params)
        if "error" in answer:
            raise AssertionError(f"{method}: {answer['error']}")
        return answer["result"]


def recipient_key(tmp, name):
    """A recipient key pair from the real hpan-keygen; returns (secret path, public path)."""
    path = os.path.join(tmp, name + ".key")
    run([BIN["HPAN_KEYGEN"], "recipient", "--out", path])
    # hpan-keygen writes public keys 0640; the body hands its public key to the
    # operators who register it (the tests run hpanctl as other users).
    os.chmod(path + ".pub", 0o644)
    return path, path + ".pub"


def sample_content(requesting_body="RQ1", recipients=(), number="0000001", name="Dr Test Example"):
    return {
        "practitioner": {"full_name": name, "profession": "doctor", "regulator": "GMC",
                         "registration_number": number, "date_of_birth": "1970-01-31"},
        "concern": {"categories": ["clinical"], "description": "A fictional concern for testing."},
        "requesting_body": {"id": requesting_body},
        "requester": {"name": "A Director", "role": "executive_board_member"},
        "contact": {"name": "Case Contact", "email": "contact@rq1.example.nhs.uk"},
        "criteria": {"significant_risk": True, "may_work_elsewhere": True, "pressing_need": True},
        "public_interest": {"outweighs_adverse_effect": True, "reason": "A fictional reason."},
        "recipients": list(recipients),
    }
