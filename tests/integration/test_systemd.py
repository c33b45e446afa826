"""hpand as a systemd service, tested without systemd as PID 1: the unit's hardening
score from systemd-analyze, sd_notify datagrams read from a real notify socket, socket
activation through systemd-socket-activate, SIGHUP reload, Prometheus metrics, the
journal log format, and hpand running as an unprivileged user with no new privileges
writing nowhere but its state and runtime folders."""
import grp
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import receivers  # noqa: E402

SOURCE = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
UNIT = os.path.join(SOURCE, "systemd", "hpand.service")


wait_for = harness.wait_for


class NotifySocket:
    """A datagram socket playing systemd's NOTIFY_SOCKET; records (time, message)."""

    def __init__(self, folder):
        self.path = os.path.join(folder, "notify.sock")
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(self.path)
        self.s.settimeout(0.05)
        self.messages = []

    def drain(self):
        while True:
            try:
                data = self.s.recv(4096)
            except (socket.timeout, BlockingIOError):
                return self.messages
            self.messages.append((time.monotonic(), data.decode()))

    def wait(self, needle, timeout=20):
        def found():
            self.drain()
            return [m for m in self.messages if needle in m[1]]
        return wait_for(found, timeout, what=f"notification {needle!r}")

    def close(self):
        self.s.close()


def harness_read(path):
    with open(path) as f:
        return f.read()


class Systemd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.uids = harness.ensure_users()

    def daemon(self, **kw):
        d = harness.Daemon(**kw)
        self.addCleanup(d.cleanup)
        return d

    def test_unit_hardening_exposure_is_at_most_2(self):
        p = harness.run(["systemd-analyze", "security", "--offline=yes", UNIT], check=False)
        m = re.search(r"Overall exposure level for hpand\.service: ([0-9.]+)", p.stdout + p.stderr)
        self.assertIsNotNone(m, p.stdout + p.stderr)
        print(f"systemd-analyze security: exposure {m.group(1)}", file=sys.stderr)
        self.assertLessEqual(float(m.group(1)), 2.0, p.stdout)
        with open(UNIT) as f:
            unit = f.read()
        for directive in ("Type=notify", "WatchdogSec=", "StateDirectory=hpand", "RuntimeDirectory=hpand",
                          "ConfigurationDirectory=hpand", "LoadCredential=signing.key:", "User=hpand",
                          "NoNewPrivileges=yes", "ProtectSystem=strict"):
            self.assertIn(directive, unit)
        with open(os.path.join(SOURCE, "systemd", "hpand.socket")) as f:
            sock = f.read()
        for directive in ("ListenStream=/run/hpand/control.sock", "SocketGroup=hpan-admin", "SocketMode=0660"):
            self.assertIn(directive, sock)

    def test_notify_ready_status_watchdog_reload_stopping(self):
        d = self.daemon(roles={"uid:0": "administrator"})
        n = NotifySocket(d.tmp)
        self.addCleanup(n.close)
        d.env.update({"NOTIFY_SOCKET": n.path, "WATCHDOG_USEC": "400000"})
        log = open(d.log_path, "a")
        d.log = log
        d.proc = subprocess.Popen([harness.BIN["HPAND"], "--config", d.config], stdout=log, stderr=subprocess.STDOUT,
                                  env=d.env)
        ready = n.wait("READY=1")[0]
        # READY=1 only once the control socket answers: connect straight away.
        with harness.Client(d.sock) as c:
            self.assertIn("audit_size", c.call("status"))
        self.assertRegex(ready[1], r"STATUS=pending \d+, in flight \d+")
        # WATCHDOG=1 about every 200 ms from the event loop.
        time.sleep(1.2)
        pings = [t for t, m in n.drain() if "WATCHDOG=1" in m]
        self.assertGreaterEqual(len(pings), 4, n.messages)
        # A stopped loop stops the pings; they come back when it runs again.
        os.kill(d.proc.pid, signal.SIGSTOP)
        n.drain()
        before = len([1 for _, m in n.messages if "WATCHDOG=1" in m])
        time.sleep(1.0)
        n.drain()
        self.assertEqual(len([1 for _, m in n.messages if "WATCHDOG=1" in m]), before, "pings while stopped")
        os.kill(d.proc.pid, signal.SIGCONT)
        wait_for(lambda: len([1 for _, m in n.drain() if "WATCHDOG=1" in m]) > before + 1, what="pings again")
        # SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1 again.
        count_ready = len(n.wait("READY=1"))
        os.kill(d.proc.pid, signal.SIGHUP)
        reloading = n.wait("RELOADING=1")[0][1]
        self.assertRegex(reloading, r"MONOTONIC_USEC=\d+")
        wait_for(lambda: len([m for m in n.drain() if "READY=1" in m[1]]) > count_ready, what="READY after reload")
        # SIGTERM: STOPPING=1, exit 0.
        self.assertEqual(d.stop(), 0)
        n.wait("STOPPING=1")

    def test_socket_activation_through_systemd_socket_activate(self):
        d = self.daemon(roles={"uid:0": "administrator", f"uid:{self.uids['victor']}": "viewer"})
        d.log = open(d.log_path, "a")
        d.proc = subprocess.Popen(["systemd-socket-activate", "-l", d.sock, harness.BIN["HPAND"], "--config", d.config],
                                  stdout=d.log, stderr=subprocess.STDOUT, env=d.env)
        # The socket exists before hpand runs; the first connection starts it.
        wait_for(lambda: os.path.exists(d.sock), what="the activation socket")
        # What hpand.socket's SocketGroup= and SocketMode=0660 do.
        os.chown(d.sock, -1, grp.getgrnam(harness.ADMIN_GROUP).gr_gid)
        os.chmod(d.sock, 0o660)
        def status():
            try:
                with harness.Client(d.sock) as c:
                    return c.call("status")
            except (OSError, AssertionError):
                return None
        self.assertIn("audit_size", wait_for(status, what="status through the activated socket"))
        wait_for(lambda: "(from systemd)" in d.read_log(), what="the log line")
        # Peer credentials still decide: victor is a viewer, mallory nobody.
        self.assertEqual(d.ctl("status", user="victor").returncode, 0)
        self.assertEqual(d.ctl("status", user="mallory").returncode, 6)
        self.assertEqual(d.stop(), 0)

    def test_sighup_reloads_roles_retry_and_log_level_and_refuses_a_bad_config(self):
        web = receivers.WebhookReceiver()
        self.addCleanup(web.stop)
        web.answer("/slow", ["busy", "ok"])
        base = ("delivery:\n  allow_plain_http_to_loopback: true\n  smtp: {url: \"smtp://127.0.0.1:1\", starttls: none}\n"
                "  retry: {first: %s, max_interval: 1h, give_up_after: 1h}\n")
        d = self.daemon(roles={"uid:0": "administrator"}, delivery=base % "1h")
        d.start()
        self.assertEqual(d.ctl("status", user="victor").returncode, 6)
        with harness.Client(d.sock) as c:
            key, pub = harness.recipient_key(d.tmp, "NAT")
            with open(pub) as f:
                c.call("body.add", {"id": "NAT", "name": "National", "kind": "trust", "receives": "all",
                                    "public_key": f.read(), "webhook_url": web.url("/slow")})
            c.call("body.add", {"id": "RQ1", "name": "Requesting", "kind": "trust", "receives": "selected",
                                "public_key": harness_read(pub), "webhook_url": web.url("/rq1")})
        # A first attempt fails (503) and waits an hour under the running policy.
        with harness.Client(d.sock) as c:
            nid = c.call("notice.create", {"content": harness.sample_content()})["id"]
        alice = self.uids["alice"]
        # Reload 1: alice becomes an administrator, victor a viewer, debug logging, retry in 1 s.
        d.roles = {"uid:0": "administrator", f"uid:{alice}": "administrator",
                   f"uid:{self.uids['victor']}": "viewer"}
        d.extra_config = base % "1s"
        d.write_config()
        with open(d.config, "a") as f:
            f.write("log: {level: warn}\n")
        with open(d.config) as f:
            text = f.read().replace("log:\n  level: debug\n", "")
        with open(d.config, "w") as f:
            f.write(text)
        os.kill(d.proc.pid, signal.SIGHUP)
        wait_for(lambda: "configuration reloaded" in d.read_log() or d.ctl("status", user="victor").returncode == 0,
                 what="the reload")
        wait_for(lambda: d.ctl("status", user="victor").returncode == 0, what="victor's new role")
        self.assertEqual(d.ctl("notice", "approve", nid, user="alice").returncode, 0)
        log_before = d.read_log()
        with harness.Client(d.sock) as c:
            c.call("notice.issue", {"id": nid, "urgent": True, "reason": "risk"})
        # The 503 is retried after about a second (the new policy), then delivered.
        wait_for(lambda: len(web.received("/slow")) == 2, timeout=20, what="the retry under the new policy")
        # warn level: the request log lines (info) are gone.
        self.assertNotIn("method=notice.issue", d.read_log()[len(log_before):])
        # Reload 2: a broken file is refused, the running configuration stays.
        with open(d.config, "a") as f:
            f.write("delivery_typo: {concurrency: 3}\n")
        os.kill(d.proc.pid, signal.SIGHUP)
        wait_for(lambda: "configuration not reloaded" in d.read_log(), what="the refusal")
        refusal = [l for l in d.read_log().splitlines() if "configuration not reloaded" in l][0]
        self.assertIn("delivery_typo", refusal)
        self.assertRegex(refusal, r"line \d+|:\d+:\d+")
        self.assertEqual(d.ctl("status", user="victor").returncode, 0)
        self.assertEqual(d.ctl("status", user="alice").returncode, 0)
        with harness.Client(d.sock) as c:
            self.assertTrue(c.call("audit.verify")["ok"])
            states = {x["delivery_id"]: x["state"] for x in c.call("deliveries.list", {"notice_id": nid})["deliveries"]}
        self.assertEqual(set(states.values()), {"delivered"}, states)
        self.assertEqual(d.stop(), 0)

    def test_metrics_and_journal_format_without_personal_data(self):
        port = receivers.free_port()
        d = self.daemon(roles={"uid:0": "administrator", f"uid:{self.uids['alice']}": "administrator"},
                        extra_config="", env={"JOURNAL_STREAM": "8:1234"})
        with open(d.config) as f:
            text = f.read().replace("metrics:\n  listen: \"\"", f"metrics:\n  listen: \"127.0.0.1:{port}\"")
        with open(d.config, "w") as f:
            f.write(text)
        d.start()
        name, number = "Dr Quentin Zyxwv", "7777123"
        with harness.Client(d.sock) as c:
            key, pub = harness.recipient_key(d.tmp, "RQ1")
            c.call("body.add", {"id": "RQ1", "name": "Requesting", "kind": "trust", "receives": "all",
                                "public_key": harness_read(pub), "webhook_url": "http://127.0.0.1:1/x"})
            nid = c.call("notice.create", {"content": harness.sample_content(name=name, number=number)})["id"]
        self.assertEqual(d.ctl("notice", "approve", nid, user="alice").returncode, 0)
        with harness.Client(d.sock) as c:
            c.call("notice.issue", {"id": nid, "urgent": True, "reason": "risk"})
            c.call("case.open", {"kind": "exclusion", "owner": "mhd@trust.example.nhs.uk", "notes": name})
            try:
                c.call("no.such.method")
            except AssertionError:
                pass
        wait_for(lambda: d.db().execute("SELECT count(*) FROM outbox WHERE state IN ('failed','dead')").fetchone()[0] > 0,
                 what="a failed attempt")
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        metrics = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                k, v = line.rsplit(" ", 1)
                metrics[k] = float(v)
        schema = d.db().execute("PRAGMA user_version").fetchone()[0]  # the store it opened
        self.assertEqual(metrics[f'hpand_build_info{{version="0.1.0",schema="{schema}"}}'], 1)
        self.assertGreaterEqual(metrics['hpand_control_requests_total{method="notice.issue",outcome="ok"}'], 1)
        self.assertEqual(metrics['hpand_control_requests_total{method="unknown",outcome="unknown_method"}'], 1)
        self.assertEqual(metrics['hpand_notices{state="active"}'], 1)
        self.assertEqual(metrics['hpand_cases_open{kind="hpan-review"}'], 1)
        self.assertEqual(metrics['hpand_cases_open{kind="exclusion"}'], 1)
        self.assertGreaterEqual(metrics['hpand_deliveries{channel="webhook",type="issued",state="failed"}'], 1)
        self.assertGreaterEqual(metrics["hpand_delivery_queue_depth"], 1)
        self.assertGreaterEqual(metrics["hpand_delivery_oldest_pending_age_seconds"], 0)
        for k in ("hpand_reminders_due", "hpand_reminders_overdue", "hpand_audit_records", "hpand_uptime_seconds"):
            self.assertIn(k, metrics)
        self.assertNotIn("Zyxwv", body)
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/other", timeout=5)
        self.assertEqual(e.exception.code, 404)
        self.assertEqual(d.stop(), 0)
        # Journal format: every line starts with a syslog priority; no names or numbers.
        log = d.read_log()
        lines = [l for l in log.splitlines() if l]
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r"^<[2-7]>[a-z]+: ", line)
        self.assertTrue(any(l.startswith("<6>hpand: started") for l in lines), lines[:5])
        self.assertTrue(any(l.startswith("<4>") for l in lines), "warnings at priority 4")
        for secret in ("Zyxwv", "Quentin", number):
            self.assertNotIn(secret, log)

    def test_metrics_refuse_a_non_loopback_address(self):
        d = self.daemon(roles={"uid:0": "administrator"})
        with open(d.config) as f:
            text = f.read().replace("metrics:\n  listen: \"\"", "metrics:\n  listen: \"0.0.0.0:9465\"")
        with open(d.config, "w") as f:
            f.write(text)
        p = subprocess.run([harness.BIN["HPAND"], "--config", d.config], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertIn("metrics.listen", p.stdout + p.stderr)

    def test_runs_as_an_unprivileged_user_with_no_new_privileges_writing_only_its_folders(self):
        # The sysusers.d entry makes the hpand user and the hpan-admin group.
        harness.run(["systemd-sysusers", os.path.join(SOURCE, "systemd", "sysusers.d", "hpand.conf")])
        hp = pwd.getpwnam("hpand")
        top = tempfile.mkdtemp(prefix="hpan-svc-", dir="/tmp")
        self.addCleanup(shutil.rmtree, top, True)
        os.chmod(top, 0o755)
        state, runtime, conf = (os.path.join(top, x) for x in ("state", "run", "etc"))
        for folder in (state, runtime):
            os.mkdir(folder, 0o700)
            os.chown(folder, hp.pw_uid, hp.pw_gid)
        os.mkdir(conf, 0o755)
        key = os.path.join(conf, "signing.key")
        harness.run([harness.BIN["HPAN_KEYGEN"], "signing", "--out", key])
        os.chown(key, hp.pw_uid, hp.pw_gid)
        config = os.path.join(conf, "hpand.yaml")
        with open(config, "w") as f:
            f.write(f"state_dir: {state}\ncontrol:\n  socket: {runtime}/control.sock\n"
                    f"  roles: {{\"uid:0\": administrator}}\nkeys: {{signing: {key}}}\n"
                    "metrics: {listen: \"\"}\ndelivery: {smtp: {url: \"smtp://127.0.0.1:1\", starttls: none}}\n")
        marker = os.path.join(top, "marker")
        open(marker, "w").close()
        time.sleep(0.05)
        log = open(os.path.join(top, "hpand.log"), "w")
        proc = subprocess.Popen(["setpriv", "--reuid", "hpand", "--regid", "hpand", "--clear-groups",
                                 "--no-new-privs", "--inh-caps=-all", "--", harness.BIN["HPAND"], "--config", config],
                                stdout=log, stderr=subprocess.STDOUT, env={"PATH": "/usr/bin:/bin"})
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        sock = os.path.join(runtime, "control.sock")
        def status():
            try:
                with harness.Client(sock) as c:
                    return c.call("status")
            except (OSError, AssertionError):
                return None
        wait_for(status, what="hpand as the hpand user")
        with open(f"/proc/{proc.pid}/status") as f:
            st = f.read()
        self.assertRegex(st, r"NoNewPrivs:\s+1")
        self.assertRegex(st, r"CapEff:\s+0+\n")
        self.assertRegex(st, r"Uid:\s+%d" % hp.pw_uid)
        with harness.Client(sock) as c:
            _, pub = harness.recipient_key(top, "RQ1")
            c.call("body.add", {"id": "RQ1", "name": "Requesting", "kind": "trust", "receives": "all",
                                "public_key": harness_read(pub), "emails": ["hpan@rq1.example.nhs.uk"]})
            c.call("case.open", {"kind": "exclusion", "owner": "mhd@trust.example.nhs.uk"})
            c.call("keys.rotate")
            self.assertTrue(c.call("audit.verify")["ok"])
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=15), 0)
        log.close()
        # Everything the hpand user wrote since the marker is under state/ or run/.
        found = subprocess.run(["find", "/", "-xdev", "(", "-path", "/proc", "-o", "-path", "/sys", ")", "-prune",
                                "-o", "-user", "hpand", "-newer", marker, "-print"],
                               capture_output=True, text=True, timeout=120).stdout.split()
        outside = [p for p in found if not (p.startswith(state) or p.startswith(runtime) or p == key)]
        self.assertEqual(outside, [])
        self.assertTrue(any(p.startswith(state) for p in found))
        modes = {p: os.stat(p).st_mode & 0o777 for p in found if os.path.isfile(p)}
        self.assertTrue(all(m & 0o027 == 0 for m in modes.values()), modes)

    def test_sigterm_returns_deliveries_in_flight_to_pending_and_audits_the_stop(self):
        web = receivers.WebhookReceiver()
        self.addCleanup(web.stop)
        web.answer("/hang", ["hang", "ok"])
        d = self.daemon(roles={"uid:0": "administrator", f"uid:{self.uids['alice']}": "administrator"},
                        delivery="delivery:\n  allow_plain_http_to_loopback: true\n  timeout: 60s\n"
                                 "  smtp: {url: \"smtp://127.0.0.1:1\", starttls: none}\n")
        d.start()
        with harness.Client(d.sock) as c:
            _, pub = harness.recipient_key(d.tmp, "NAT")
            c.call("body.add", {"id": "NAT", "name": "National", "kind": "trust", "receives": "all",
                                "public_key": harness_read(pub), "webhook_url": web.url("/hang")})
            nid = c.call("notice.create", {"content": harness.sample_content(requesting_body="NAT")})["id"]
        self.assertEqual(d.ctl("notice", "approve", nid, user="alice").returncode, 0)
        with harness.Client(d.sock) as c:
            c.call("notice.issue", {"id": nid, "urgent": True, "reason": "risk"})
        wait_for(lambda: web.received("/hang"), what="the request to hang")
        started = time.monotonic()
        self.assertEqual(d.stop(), 0)
        took = time.monotonic() - started
        self.assertLess(took, 5.0, "stop waited for a hanging receiver")
        with d.db() as db:
            state, attempts = db.execute("SELECT state, attempts FROM outbox WHERE notice_id = ?", (nid,)).fetchone()
            last = json.loads(db.execute("SELECT record FROM audit ORDER BY seq DESC LIMIT 1").fetchone()[0])
        self.assertEqual(state, "pending")
        self.assertEqual(last["method"], "daemon.stop")
        # After a restart it goes out again with the same id and arrives.
        d.start()
        with harness.Client(d.sock) as c:
            wait_for(lambda: c.call("deliveries.list", {"notice_id": nid, "state": "delivered"})["deliveries"],
                     what="delivery after restart")
            self.assertTrue(c.call("audit.verify")["ok"])
        ids = {r["headers"].get("webhook-id") for r in web.received("/hang")}
        self.assertEqual(ids, {f"{nid}-v1-NAT-webhook"})
        self.assertEqual(d.stop(), 0)

    def test_cmake_install_lays_out_binaries_units_man_pages_and_docs(self):
        build = os.environ["HPAN_BUILD_DIR"]
        dest = tempfile.mkdtemp(prefix="hpan-install-", dir="/tmp")
        self.addCleanup(shutil.rmtree, dest, True)
        harness.run(["cmake", "--install", build], env=dict(os.environ, DESTDIR=dest))
        prefix = dest + "/usr/local"
        for path in ("sbin/hpand", "bin/hpanctl", "bin/hpan-verify", "bin/hpan-keygen",
                     "lib/systemd/system/hpand.service", "lib/systemd/system/hpand.socket",
                     "lib/sysusers.d/hpand.conf", "lib/tmpfiles.d/hpand.conf",
                     "share/man/man8/hpand.8", "share/man/man1/hpanctl.1", "share/man/man1/hpan-verify.1",
                     "share/man/man1/hpan-keygen.1", "share/man/man5/hpand.yaml.5",
                     "share/doc/hpand/examples/hpand.yaml", "share/doc/hpand/operations.md"):
            self.assertTrue(os.path.exists(os.path.join(prefix, path)), path)
        with open(os.path.join(prefix, "lib/systemd/system/hpand.service")) as f:
            self.assertIn("ExecStart=/usr/local/sbin/hpand --config /etc/hpand/hpand.yaml", f.read())
        # The installed example configuration is valid as it stands.
        p = harness.run([os.path.join(prefix, "sbin/hpand"), "--check-config",
                         os.path.join(prefix, "share/doc/hpand/examples/hpand.yaml")], check=False)
        self.assertEqual((p.returncode, p.stdout.strip()), (0, "ok"), p.stderr)
        # Each man page renders without a warning.
        for page in ("man8/hpand.8", "man1/hpanctl.1", "man1/hpan-verify.1", "man1/hpan-keygen.1", "man5/hpand.yaml.5"):
            r = harness.run(["groff", "-man", "-Tutf8", "-ww", "-z", os.path.join(prefix, "share/man", page)],
                            check=False)
            self.assertEqual((r.returncode, r.stderr), (0, ""), page)


if __name__ == "__main__":
    unittest.main(verbosity=2)
