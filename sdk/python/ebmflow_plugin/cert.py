"""A self-signed TLS certificate for go-plugin's AutoMTLS, in pure Python.

The host trusts exactly the certificate the plugin announces in its
handshake line, so the plugin makes a fresh one at every start: an ECDSA
P-256 key and a self-signed X.509 v3 certificate for "localhost" (a CA, for
server and client authentication, valid for 30 days), DER-encoded here so
that the SDK needs nothing beyond grpcio and protobuf.
"""

import base64
import datetime
import hashlib
import secrets

# NIST P-256.
_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
_A = _P - 3
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_G = (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
      0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)


def _add(p, q):
    if p is None:
        return q
    if q is None:
        return p
    if p[0] == q[0] and (p[1] + q[1]) % _P == 0:
        return None
    if p == q:
        lam = (3 * p[0] * p[0] + _A) * pow(2 * p[1], -1, _P) % _P
    else:
        lam = (q[1] - p[1]) * pow(q[0] - p[0], -1, _P) % _P
    x = (lam * lam - p[0] - q[0]) % _P
    return x, (lam * (p[0] - x) - p[1]) % _P


def _mul(k, p):
    r = None
    while k:
        if k & 1:
            r = _add(r, p)
        p = _add(p, p)
        k >>= 1
    return r


def _sign(d, msg):
    h = int.from_bytes(hashlib.sha256(msg).digest(), "big")
    while True:
        k = 1 + secrets.randbelow(_N - 1)
        r = _mul(k, _G)[0] % _N
        s = pow(k, -1, _N) * (h + r * d) % _N
        if r and s:
            return r, s


# DER.
def _tlv(tag, body):
    n = len(body)
    if n < 128:
        ln = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        ln = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + ln + body


def _seq(*items):
    return _tlv(0x30, b"".join(items))


def _int(v):
    b = v.to_bytes(v.bit_length() // 8 + 1, "big")
    return _tlv(0x02, b)


def _oid(s):
    parts = [int(x) for x in s.split(".")]
    out = bytearray([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        enc = [p & 0x7F]
        p >>= 7
        while p:
            enc.append(0x80 | (p & 0x7F))
            p >>= 7
        out += bytes(reversed(enc))
    return _tlv(0x06, bytes(out))


def _time(t):
    return _tlv(0x17, t.strftime("%y%m%d%H%M%SZ").encode())


def _name(cn):
    return _seq(_tlv(0x31, _seq(_oid("2.5.4.10"), _tlv(0x0C, b"ebmflow plugin"))),
                _tlv(0x31, _seq(_oid("2.5.4.3"), _tlv(0x0C, cn.encode()))))


def _ext(oid, critical, value):
    return _seq(_oid(oid), *((_tlv(0x01, b"\xff"),) if critical else ()), _tlv(0x04, value))


def make_cert():
    """Returns (certificate DER, certificate PEM, private key PEM)."""
    d = 1 + secrets.randbelow(_N - 1)
    qx, qy = _mul(d, _G)
    point = b"\x04" + qx.to_bytes(32, "big") + qy.to_bytes(32, "big")
    alg = _seq(_oid("1.2.840.10045.4.3.2"))
    spki = _seq(_seq(_oid("1.2.840.10045.2.1"), _oid("1.2.840.10045.3.1.7")), _tlv(0x03, b"\x00" + point))
    now = datetime.datetime.now(datetime.timezone.utc)
    exts = _seq(
        _ext("2.5.29.19", True, _seq(_tlv(0x01, b"\xff"))),                 # CA
        _ext("2.5.29.15", True, _tlv(0x03, b"\x02\xa4")),                   # digitalSignature, keyEncipherment, keyCertSign
        _ext("2.5.29.37", False, _seq(_oid("1.3.6.1.5.5.7.3.1"), _oid("1.3.6.1.5.5.7.3.2"))),
        _ext("2.5.29.17", False, _seq(_tlv(0x82, b"localhost"), _tlv(0x87, bytes([127, 0, 0, 1])))),
    )
    tbs = _seq(_tlv(0xA0, _int(2)), _int(secrets.randbits(120) | 1), alg, _name("localhost"),
               _seq(_time(now - datetime.timedelta(seconds=30)), _time(now + datetime.timedelta(days=30))),
               _name("localhost"), spki, _tlv(0xA3, exts))
    r, s = _sign(d, tbs)
    der = _seq(tbs, alg, _tlv(0x03, b"\x00" + _seq(_int(r), _int(s))))
    key = _seq(_int(1), _tlv(0x04, d.to_bytes(32, "big")), _tlv(0xA0, _oid("1.2.840.10045.3.1.7")),
               _tlv(0xA1, _tlv(0x03, b"\x00" + point)))
    return der, _pem("CERTIFICATE", der), _pem("EC PRIVATE KEY", key)


def _pem(label, der):
    b = base64.b64encode(der).decode()
    lines = [b[i:i + 64] for i in range(0, len(b), 64)]
    return ("-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, "\n".join(lines), label)).encode()
