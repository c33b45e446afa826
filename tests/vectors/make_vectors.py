#!/usr/bin/python3
"""Regenerates notice-v1.json with PyNaCl (an implementation independent of hpand).
The keys are PUBLIC TEST KEYS made from fixed seeds; never use them for anything real.
Signatures are deterministic (Ed25519); the sealed example is not (a fresh ephemeral
key each time), so regenerating changes only `sealed`."""
import base64
import json
import os

import nacl.bindings
import nacl.encoding
import nacl.hash
import nacl.public
import nacl.signing

def b64(b):
    return base64.b64encode(b).decode()

def kid(pk):
    return nacl.hash.blake2b(pk, digest_size=32, encoder=nacl.encoding.RawEncoder)[:8].hex()

def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

signing_seed = bytes(range(0x01, 0x21))
recipient_secret = bytes(range(0x21, 0x41))
sk = nacl.signing.SigningKey(signing_seed)
pk = bytes(sk.verify_key)
rsk = nacl.public.PrivateKey(recipient_secret)
rpk = bytes(rsk.public_key)

payload_obj = {
    "schema": "hpan.notice/1", "type": "issued", "notice_id": "HPAN-2026-000001", "version": 1,
    "supersedes": [], "body_id": "RJ1", "signed_at": "2026-11-24T12:00:00Z",
    "urgent": False, "urgent_reason": "",
    "practitioner": {"full_name": "Dr Test Example", "other_names": [], "profession": "doctor",
                     "regulator": "GMC", "registration_number": "0000000", "date_of_birth": "1970-01-31",
                     "addresses": ["1 Test Street, Testtown"]},
    "concern": {"categories": ["clinical"], "description": "A fictional concern: test vector only. Ünïcödé kept as UTF-8."},
    "requesting_body": {"id": "RQ1", "name": "Test Requesting Trust"},
    "requester": {"name": "A Director", "role": "executive_board_member"},
    "contact": {"name": "Case Contact", "email": "contact@rq1.example.nhs.uk", "phone": ""},
    "dates": {"approved": "2026-11-20T10:00:00Z", "practitioner_informed": "2026-11-06T09:00:00Z",
              "issued": "2026-11-24T12:00:00Z", "next_review_due": "2027-05-24", "revoked": ""},
    "revocation_reason": "",
}
payload = canonical(payload_obj).encode()
message = b"hpan-notice/1\n" + payload
sig = sk.sign(message).signature
envelope = canonical({"kid": kid(pk), "payload": b64(payload), "sig": b64(sig)}).encode()
sealed = nacl.public.SealedBox(rsk.public_key).encrypt(envelope)

out = {
    "comment": "PUBLIC TEST KEYS from fixed seeds; see docs/notice-format.md. Made by make_vectors.py (PyNaCl).",
    "signing_seed": b64(signing_seed),
    "signing_public_key": b64(pk),
    "kid": kid(pk),
    "recipient_secret_key": b64(recipient_secret),
    "recipient_public_key": b64(rpk),
    "recipient_fingerprint": kid(rpk),
    "payload": payload.decode(),
    "signed_message_prefix": "hpan-notice/1\\n",
    "signature": b64(sig),
    "envelope": envelope.decode(),
    "sealed": b64(sealed),
    "keyset": canonical({"current": kid(pk), "keys": [{"alg": "ed25519", "kid": kid(pk), "public_key": b64(pk)}],
                         "schema": "hpan.keyset/1"}),
}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "notice-v1.json"), "w") as f:
    json.dump(out, f, indent=2, ensure_ascii=False)
    f.write("\n")
