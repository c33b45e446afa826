"""Real receivers on loopback for delivery tests: the project's Beast webhook receiver
(hpan-receiver), which can answer 2xx, 4xx, 5xx, 429 with Retry-After, hang, or close the
connection on command; an SMTP server (aiosmtpd, Debian) with or without STARTTLS; and a
throwaway test CA (openssl)."""
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_test_ca(folder):
    """A CA and a server certificate for 127.0.0.1/localhost; returns (ca.pem, cert, key)."""
    ca_key, ca_pem = os.path.join(folder, "ca.key"), os.path.join(folder, "ca.pem")
    key, csr, cert = (os.path.join(folder, n) for n in ("server.key", "server.csr", "server.pem"))
    ext = os.path.join(folder, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")
    run = lambda *a: subprocess.run(a, check=True, capture_output=True, timeout=60)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", ca_key, "-out", ca_pem, "-days", "2", "-subj", "/CN=hpand test CA")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "2", "-extfile", ext)
    return ca_pem, cert, key


class WebhookReceiver:
    """The project's own Beast receiver (hpan-receiver, path in $HPAN_RECEIVER) on loopback,
    over HTTP or HTTPS. It records every request; `answer(path, [...])` tells it how to
    answer that path: "ok" (204), "gone" (410), "bad" (400), "busy" (503), "slow429" (429 +
    Retry-After: 2), "hang", "close"; the last answer sticks."""

    def __init__(self, tls=None, ca=None, address="127.0.0.1", port=0, hang_seconds=None):
        self.dir = tempfile.mkdtemp(prefix="hpan-rcv-")
        self.log = os.path.join(self.dir, "requests.jsonl")
        port_file = os.path.join(self.dir, "port")
        cmd = [os.environ["HPAN_RECEIVER"], "--log", self.log, "--port-file", port_file,
               "--address", address, "--port", str(port)]
        if hang_seconds is not None:
            cmd += ["--hang", str(hang_seconds)]
        self.address = address
        if tls:
            cmd += ["--tls-cert", tls[0], "--tls-key", tls[1]]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(port_file):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError("hpan-receiver did not start")
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read())
        self.scheme = "https" if tls else "http"
        self.ssl = ssl.create_default_context(cafile=ca) if tls else None

    def answer(self, path, answers):
        req = urllib.request.Request(self.url("/_control"), method="POST",
                                     data=json.dumps({"path": path, "answers": answers}).encode())
        with urllib.request.urlopen(req, timeout=10, context=self.ssl) as r:
            assert r.status == 204, r.status

    def url(self, path):
        return f"{self.scheme}://{self.address}:{self.port}{path}"

    def received(self, path=None):
        try:
            with open(self.log) as f:
                rows = [json.loads(line) for line in f if line.endswith("\n")]
        except FileNotFoundError:
            return []
        return [r for r in rows if path is None or r["path"] == path]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class SmtpReceiver:
    """aiosmtpd on loopback, recording each accepted message. `refuse` holds recipient
    addresses answered 550; `drop_once` recipients whose first message loses its
    connection before the server answers it."""

    def __init__(self, tls=None, require_starttls=False):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP
        self.messages = []
        self.refuse = set()
        self.drop_once = set()  # recipients whose first message is cut off before the reply
        self.dropped = 0
        receiver = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
                if address in receiver.refuse:
                    return "550 5.1.1 no such mailbox"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                dropped = [a for a in envelope.rcpt_tos if a in receiver.drop_once]
                if dropped:
                    # The message arrived, but the connection drops before the server answers.
                    for a in dropped:
                        receiver.drop_once.discard(a)
                    receiver.dropped += 1
                    server.transport.close()
                    return "421 4.3.0 closing"
                receiver.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                          "data": envelope.content.decode("ascii", "replace"),
                                          "tls": session.ssl is not None})
                return "250 Message accepted"

        ctx = None
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls[0], tls[1])
        self.port = free_port()

        class TlsController(Controller):
            def factory(self):
                return SMTP(self.handler, tls_context=ctx, require_starttls=require_starttls,
                            hostname="localhost")

        self.controller = TlsController(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        self.controller.stop()
