"""Real receivers on loopback for delivery tests: an HTTP(S) webhook receiver that can
answer 2xx, 4xx, 5xx, 429 with Retry-After, hang, or close the connection; an SMTP
server (aiosmtpd, Debian) with or without STARTTLS; and a throwaway test CA (openssl)."""
import http.server
import os
import socket
import ssl
import subprocess
import threading
import time


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
    """Records every request. `behaviour[path]` decides the answer: "ok", "gone" (410),
    "bad" (400), "busy" (503), "slow429" (429 + Retry-After: 2), "hang", "close", or a
    list of those consumed one per request (the last one then sticks)."""

    def __init__(self, tls=None):
        self.requests = []
        self.behaviour = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                with receiver.lock:
                    b = receiver.behaviour.get(self.path, "ok")
                    if isinstance(b, list):
                        b = b.pop(0) if len(b) > 1 else b[0]
                    receiver.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                              "body": body.decode(), "answer": b, "at": time.time()})
                if b == "hang":
                    time.sleep(8)
                    return
                if b == "close":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                code = {"ok": 204, "gone": 410, "bad": 400, "busy": 503, "slow429": 429}[b]
                self.send_response(code)
                if b == "slow429":
                    self.send_header("Retry-After", "2")
                self.send_header("Content-Length", "0")
                self.end_headers()

        class QuietServer(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # resets from "close" answers and killed clients are expected

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls[0], tls[1])
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.scheme = "https" if tls else "http"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def received(self, path=None):
        with self.lock:
            return [r for r in self.requests if path is None or r["path"] == path]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class SmtpReceiver:
    """aiosmtpd on loopback, recording each accepted message. `refuse` holds recipient
    addresses answered 550."""

    def __init__(self, tls=None, require_starttls=False):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP
        self.messages = []
        self.refuse = set()
        receiver = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
                if address in receiver.refuse:
                    return "550 5.1.1 no such mailbox"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):  # noqa: N802
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
