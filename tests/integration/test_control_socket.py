"""The control socket against a real hpand: protocol errors are answered and the
connection survives; many clients at once are all served; a request over 1 MiB is
refused without losing the connection; nothing in the store changes."""
import json
import os
import socket
import stat
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402


class ControlSocket(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.ensure_users()
        cls.d = harness.Daemon(roles={"uid:0": "administrator"})
        cls.d.start()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def audit_size(self):
        with harness.Client(self.d.sock) as c:
            return c.call("status")["audit_size"]

    def test_the_socket_has_the_configured_mode_and_group(self):
        st = os.stat(self.d.sock)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(st.st_mode & 0o777, 0o660)
        import grp
        self.assertEqual(grp.getgrgid(st.st_gid).gr_name, harness.ADMIN_GROUP)

    def test_protocol_errors_are_answered_and_the_connection_survives(self):
        before = self.audit_size()
        with harness.Client(self.d.sock) as c:
            cases = [
                (b"{not json\n", "parse_error"),
                (b"[1,2,3]\n", "invalid_request"),
                (b'{"id":1,"method":7}\n', "invalid_request"),
                (b'{"id":2,"method":"status","params":"x"}\n', "invalid_request"),
                (b'{"id":3,"method":"no.such.method"}\n', "unknown_method"),
                (b'{"id":4,"method":"st\xff\xfeatus"}\n', "parse_error"),
                (b"[" * 100000 + b"]" * 100000 + b"\n", "parse_error"),
                (b'{"id":5,"method":"notice.create","params":{"content":{"practitioner":7}}}\n', "invalid_field"),
                (b'{"id":6,"method":"body.add","params":{"id":["x"]}}\n', "invalid_field"),
            ]
            for raw, code in cases:
                c.send_raw(raw)
                answer = c.read_line()
                self.assertIn("error", answer, raw[:60])
                self.assertEqual(answer["error"]["code"], code, raw[:60])
            # A line over 1 MiB: refused, and the next request on the same connection works.
            c.send_raw(b'{"id":9,"method":"status","params":{"pad":"' + b"x" * (1 << 20) + b'"}}\n')
            self.assertEqual(c.read_line()["error"]["code"], "request_too_large")
            self.assertEqual(c.call("status")["version"], "0.1.0")
        with self.d.db() as db:
            self.assertEqual(db.execute("SELECT count(*) FROM notices").fetchone()[0], 0)
            self.assertEqual(db.execute("SELECT count(*) FROM bodies").fetchone()[0], 0)
        # Only the two refused field errors were audited (as refusals), nothing else changed.
        self.assertEqual(self.audit_size(), before + 2)

    def test_many_clients_at_once_are_all_served_in_order(self):
        results, errors = [], []

        def client(n):
            try:
                with harness.Client(self.d.sock) as c:
                    for i in range(20):
                        answer = c.request("notice.list", {"limit": 1 + (n + i) % 5})
                        assert "result" in answer, answer
                    results.append(n)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 50)

    def test_queries_answered_off_the_loop_keep_request_order_and_see_each_change(self):
        # body.show and body.list are answered on the query thread (their own database
        # connection), body.add on the loop. Pipelined on one connection, the answers come
        # back in request order and each query sees the change acknowledged just before it.
        key = harness.recipient_key(self.d.tmp, "PIPE")[1]
        with open(key) as f:
            public_key = f.read()
        lines = []
        for i in range(60):
            body_id = f"PQ{i:03d}"
            lines.append({"id": f"add-{i}", "method": "body.add",
                          "params": {"id": body_id, "name": f"Body {body_id}", "kind": "trust", "receives": "all",
                                     "public_key": public_key, "webhook_url": f"https://{body_id.lower()}.example/h"}})
            lines.append({"id": f"show-{i}", "method": "body.show", "params": {"id": body_id}})
            lines.append({"id": f"count-{i}", "method": "body.list", "params": {}})
        with harness.Client(self.d.sock) as c:
            c.send_raw(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
            answers = [c.read_line() for _ in lines]
        self.assertEqual([a["id"] for a in answers], [line["id"] for line in lines])
        for i in range(60):
            add, show, listing = answers[3 * i:3 * i + 3]
            self.assertIn("result", add, add)
            self.assertEqual(show["result"]["id"], f"PQ{i:03d}", show)
            ids = {b["id"] for b in listing["result"]["bodies"]}
            self.assertIn(f"PQ{i:03d}", ids)
            self.assertNotIn(f"PQ{i + 1:03d}", ids)

    def test_a_client_that_disconnects_mid_line_does_not_disturb_others(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.d.sock)
        s.sendall(b'{"id":1,"method":"sta')
        s.close()
        with harness.Client(self.d.sock) as c:
            self.assertIn("uptime_seconds", c.call("status"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
