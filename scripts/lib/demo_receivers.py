"""Local recipients for scripts/demo: a webhook receiver (HTTP on 127.0.0.1) and an SMTP
server (aiosmtpd on 127.0.0.1). Each received notice is written into INBOX as a file.
usage: demo_receivers.py INBOX HTTP_PORT SMTP_PORT"""
import http.server
import os
import sys
import threading
import time

from aiosmtpd.controller import Controller

inbox, http_port, smtp_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
count = {"n": 0}
lock = threading.Lock()


def save(kind, data):
    with lock:
        count["n"] += 1
        path = os.path.join(inbox, f"{count['n']:02d}-{kind}")
    with open(path + ".tmp", "w") as f:
        f.write(data)
    os.rename(path + ".tmp", path)


class Hook(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
        save("webhook.json", body)
        self.send_response(204)
        self.end_headers()


class Mail:
    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        save("email.eml", envelope.content.decode("ascii", "replace"))
        return "250 Message accepted"


controller = Controller(Mail(), hostname="127.0.0.1", port=smtp_port)
controller.start()
server = http.server.ThreadingHTTPServer(("127.0.0.1", http_port), Hook)
threading.Thread(target=server.serve_forever, daemon=True).start()
print("ready", flush=True)
try:
    while True:
        time.sleep(3600)
except KeyboardInterrupt:
    pass
finally:
    server.shutdown()
    controller.stop()
