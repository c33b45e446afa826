"""Interoperability with an independent libsodium implementation (PyNaCl):
(a) PyNaCl verifies and opens what hpand's code makes (committed vectors and a fresh
    notice sealed by the C++ code with keys from the real hpan-keygen);
(b) hpan-verify opens and verifies a notice PyNaCl made, and refuses altered ones with
    the documented exit codes.
Binaries come from the environment: HPAN_KEYGEN, HPAN_VERIFY, HPAN_INTEROP_SEAL."""
import base64
import json
import os
import subprocess
import sys
import tempfile
import unittest

import nacl.bindings  # noqa: F401  (the test fails, not skips, without PyNaCl)
import nacl.encoding
import nacl.exceptions
import nacl.hash
import nacl.public
import nacl.signing

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "vectors", "notice-v1.json")
PREFIX = b"hpan-notice/1\n"


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def kid(pk):
    return nacl.hash.blake2b(pk, digest_size=32, encoder=nacl.encoding.RawEncoder)[:8].hex()


def read_key_file(path, expected_type):
    with open(path) as f:
        kind, data = f.read().split("\n")[:2]
    assert kind == expected_type, kind
    return base64.b64decode(data, validate=True)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, **kw)


def open_with_pynacl(sealed_b64, recipient_secret, keyset):
    """Opens and verifies like any libsodium recipient would; returns the payload dict."""
    box = nacl.public.SealedBox(nacl.public.PrivateKey(recipient_secret))
    envelope = json.loads(box.decrypt(base64.b64decode(sealed_b64)))
    key = next(k for k in keyset["keys"] if k["kid"] == envelope["kid"])
    verify = nacl.signing.VerifyKey(base64.b64decode(key["public_key"]))
    payload = base64.b64decode(envelope["payload"])
    verify.verify(PREFIX + payload, base64.b64decode(envelope["sig"]))
    return json.loads(payload)


class PyNaClOpensWhatHpandMakes(unittest.TestCase):
    def test_committed_vectors_verify(self):
        with open(VECTORS) as f:
            v = json.load(f)
        sk = nacl.signing.SigningKey(base64.b64decode(v["signing_seed"]))
        self.assertEqual(base64.b64encode(bytes(sk.verify_key)).decode(), v["signing_public_key"])
        self.assertEqual(kid(bytes(sk.verify_key)), v["kid"])
        payload = v["payload"].encode()
        sk.verify_key.verify(PREFIX + payload, base64.b64decode(v["signature"]))
        self.assertEqual(canonical(json.loads(payload)).encode(), payload)
        opened = open_with_pynacl(v["sealed"], base64.b64decode(v["recipient_secret_key"]), json.loads(v["keyset"]))
        self.assertEqual(opened["body_id"], "RJ1")

    def test_a_notice_sealed_by_the_cpp_code_opens_and_verifies(self):
        with tempfile.TemporaryDirectory() as d:
            skey, rkey = os.path.join(d, "issuer.key"), os.path.join(d, "body.key")
            self.assertEqual(run([os.environ["HPAN_KEYGEN"], "signing", "--out", skey]).returncode, 0)
            self.assertEqual(run([os.environ["HPAN_KEYGEN"], "recipient", "--out", rkey]).returncode, 0)
            payload = canonical({"schema": "hpan.notice/1", "body_id": "RX1", "notice_id": "HPAN-2026-000042",
                                 "version": 1, "type": "issued", "practitioner": {"full_name": "Dr Ünïcödé Test"}})
            pfile = os.path.join(d, "payload.json")
            with open(pfile, "w") as f:
                f.write(payload)
            p = run([os.environ["HPAN_INTEROP_SEAL"], skey, rkey + ".pub", pfile])
            self.assertEqual(p.returncode, 0, p.stderr)
            pk = read_key_file(skey + ".pub", "hpan-signing-public-key/1")
            keyset = {"keys": [{"alg": "ed25519", "kid": kid(pk), "public_key": base64.b64encode(pk).decode()}]}
            opened = open_with_pynacl(p.stdout.strip(), read_key_file(rkey, "hpan-recipient-secret-key/1"), keyset)
            self.assertEqual(canonical(opened), payload)
            # Tampering is caught by PyNaCl too.
            box = nacl.public.SealedBox(nacl.public.PrivateKey(read_key_file(rkey, "hpan-recipient-secret-key/1")))
            raw = bytearray(base64.b64decode(p.stdout.strip()))
            raw[60] ^= 1
            with self.assertRaises(nacl.exceptions.CryptoError):
                box.decrypt(bytes(raw))


class HpanVerifyOpensWhatPyNaClMakes(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        d = self.tmp.name
        self.issuer = nacl.signing.SigningKey.generate()
        self.body = nacl.public.PrivateKey.generate()
        pk = bytes(self.issuer.verify_key)
        self.keyset = os.path.join(d, "issuer.keyset")
        with open(self.keyset, "w") as f:
            f.write(canonical({"schema": "hpan.keyset/1", "current": kid(pk),
                               "keys": [{"alg": "ed25519", "kid": kid(pk), "public_key": base64.b64encode(pk).decode()}]}))
        self.body_key = os.path.join(d, "body.key")
        fd = os.open(self.body_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("hpan-recipient-secret-key/1\n" + base64.b64encode(bytes(self.body)).decode() + "\n")
        self.payload = {"schema": "hpan.notice/1", "type": "issued", "notice_id": "HPAN-2026-000007",
                        "version": 1, "body_id": "RJ1", "practitioner": {"full_name": "Dr Py Nacl"}}

    def seal(self, payload_bytes, signer=None, recipient=None, kid_override=None, sig_override=None):
        signer = signer or self.issuer
        sig = sig_override or signer.sign(PREFIX + payload_bytes).signature
        env = canonical({"kid": kid_override or kid(bytes(signer.verify_key)),
                         "payload": base64.b64encode(payload_bytes).decode(), "sig": base64.b64encode(sig).decode()})
        box = nacl.public.SealedBox((recipient or self.body).public_key)
        return base64.b64encode(box.encrypt(env.encode())).decode()

    def verify(self, sealed, *extra):
        path = os.path.join(self.tmp.name, "notice.hpan")
        with open(path, "w") as f:
            f.write(sealed + "\n")
        return run([os.environ["HPAN_VERIFY"], "--json", "--key", self.body_key, "--keyset", self.keyset, *extra, path])

    def test_a_pynacl_notice_opens_and_verifies(self):
        p = self.verify(self.seal(canonical(self.payload).encode()))
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertTrue(out["valid"])
        self.assertEqual(out["payload"], self.payload)
        # The readable form names the practitioner only after verification.
        path = os.path.join(self.tmp.name, "notice.hpan")
        human = run([os.environ["HPAN_VERIFY"], "--key", self.body_key, "--keyset", self.keyset, path])
        self.assertEqual(human.returncode, 0)
        self.assertIn("VERIFIED", human.stdout)
        self.assertIn("Dr Py Nacl", human.stdout)

    def test_a_webhook_body_is_accepted_and_its_body_id_checked(self):
        sealed = self.seal(canonical(self.payload).encode())
        hook = json.dumps({"type": "hpan.notice.issued", "notice_id": "HPAN-2026-000007", "version": 1,
                           "body_id": "RJ1", "sealed": sealed})
        self.assertEqual(self.verify(hook).returncode, 0)
        self.assertEqual(self.verify(hook, "--body-id", "RX9").returncode, 7)

    def test_a_bad_signature_exits_5_and_prints_nothing_of_the_payload(self):
        forged = dict(self.payload, practitioner={"full_name": "Somebody Else"})
        good_sig = self.issuer.sign(PREFIX + canonical(self.payload).encode()).signature
        p = self.verify(self.seal(canonical(forged).encode(), sig_override=good_sig))
        self.assertEqual(p.returncode, 5, p.stderr)
        self.assertNotIn("Somebody Else", p.stdout + p.stderr)

    def test_the_wrong_recipient_key_exits_4(self):
        other = nacl.public.PrivateKey.generate()
        self.assertEqual(self.verify(self.seal(canonical(self.payload).encode(), recipient=other)).returncode, 4)

    def test_an_unknown_key_id_exits_6(self):
        stranger = nacl.signing.SigningKey.generate()
        self.assertEqual(self.verify(self.seal(canonical(self.payload).encode(), signer=stranger)).returncode, 6)

    def test_a_malformed_payload_exits_7(self):
        bad = dict(self.payload)
        del bad["schema"]
        self.assertEqual(self.verify(self.seal(canonical(bad).encode())).returncode, 7)

    def test_unreadable_input_exits_3_and_a_bad_key_file_exits_8(self):
        self.assertEqual(self.verify("this is not base64").returncode, 3)
        os.chmod(self.body_key, 0o644)
        p = self.verify(self.seal(canonical(self.payload).encode()))
        self.assertEqual(p.returncode, 8)
        self.assertIn("chmod 600", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
