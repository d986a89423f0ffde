#!/usr/bin/env python3
"""Hand-builds DER certificates with ML-DSA (FIPS 204) and SLH-DSA (FIPS 205) keys, which OpenSSL 3.0
cannot generate. Structure only: the key and signature bytes are a deterministic filler of the right
length, so the signatures do not verify (nothing here checks them) and re-running gives identical files.
Usage: make-pq-certs.py OUTPUT_DIRECTORY (called by make-edge-certs.sh)."""
import hashlib
import sys


def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    else:
        octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(octets)]) + octets
    return bytes([tag]) + length + body


def oid(dotted):
    parts = [int(p) for p in dotted.split(".")]
    body = bytes([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.insert(0, 0x80 | (part & 0x7F))
            part >>= 7
        body += bytes(chunk)
    return tlv(0x06, body)


def filler(label, length):
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(f"{label}/{counter}".encode()).digest()
        counter += 1
    return out[:length]


def name(common_name):
    attribute = tlv(0x30, oid("2.5.4.3") + tlv(0x0C, common_name.encode()))
    return tlv(0x30, tlv(0x31, attribute))


def certificate(label, algorithm, key_length, signature_length):
    algorithm_id = tlv(0x30, oid(algorithm))  # parameters absent (FIPS 204/205 X.509 profiles)
    subject = name(f"{label}.example.test")
    tbs = tlv(
        0x30,
        tlv(0xA0, tlv(0x02, b"\x02"))  # v3
        + tlv(0x02, b"\x01\x23")
        + algorithm_id
        + subject
        + tlv(0x30, tlv(0x17, b"260101000000Z") + tlv(0x17, b"270101000000Z"))
        + subject
        + tlv(0x30, algorithm_id + tlv(0x03, b"\x00" + filler(label + "/key", key_length))),
    )
    return tlv(0x30, tbs + algorithm_id + tlv(0x03, b"\x00" + filler(label + "/signature", signature_length)))


out = sys.argv[1]
for label, algorithm, key_length, signature_length in [
    ("ml-dsa-44", "2.16.840.1.101.3.4.3.17", 1312, 2420),
    ("slh-dsa-sha2-128s", "2.16.840.1.101.3.4.3.20", 32, 7856),
]:
    with open(f"{out}/{label}.der", "wb") as file:
        file.write(certificate(label, algorithm, key_length, signature_length))
