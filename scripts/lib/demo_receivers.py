"""Local recipients for scripts/demo: an SMTP server (aiosmtpd on 127.0.0.1), and a
watcher of the webhook receiver's log (hpan-receiver, started by the demo). Each notice
received either way is written into INBOX as a file.
usage: demo_receivers.py INBOX SMTP_PORT WEBHOOK_LOG"""
import json
import os
import sys
import threading
import time

from aiosmtpd.controller import Controller

inbox, smtp_port, webhook_log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
count = {"n": 0}
lock = threading.Lock()


def save(kind, data):
    with lock:
        count["n"] += 1
        path = os.path.join(inbox, f"{count['n']:02d}-{kind}")
    with open(path + ".tmp", "w") as f:
        f.write(data)
    os.rename(path + ".tmp", path)


class Mail:
    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        save("email.eml", envelope.content.decode("ascii", "replace"))
        return "250 Message accepted"


def watch_webhooks():
    seen = 0
    while True:
        try:
            with open(webhook_log) as f:
                lines = [line for line in f if line.endswith("\n")]
        except FileNotFoundError:
            lines = []
        for line in lines[seen:]:
            save("webhook.json", json.loads(line)["body"])
        seen = len(lines)
        time.sleep(0.1)


controller = Controller(Mail(), hostname="127.0.0.1", port=smtp_port)
controller.start()
threading.Thread(target=watch_webhooks, daemon=True).start()
print("ready", flush=True)
try:
    while True:
        time.sleep(3600)
except KeyboardInterrupt:
    pass
finally:
    controller.stop()
