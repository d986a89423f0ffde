#!/usr/bin/env python3
"""Generate tlsscope's IANA registry tables (Swift) from CSV files.

Inputs
  * the IANA "TLS Cipher Suites" registry CSV (tls-parameters-4.csv) from the
    shared folder (default: ../shared relative to the repository root; --shared DIR);
  * the small per-registry CSVs in scripts/registry-data/ (Value,Description,Recommended),
    described in scripts/registry-data/README.md.

Outputs (deterministic: same inputs, same bytes)
  * Sources/TLSWire/Registry/GeneratedRegistries.swift  (names of every small registry)
  * Sources/TLSWire/Registry/GeneratedCipherSuites.swift (cipher suite names, parts, Recommended)

Cipher suite names are taken apart here, not at run time, so the Swift side is a plain table.
A registered suite whose bulk cipher or key exchange this script does not know makes it fail
loudly: teach `ENCRYPTION_BITS` / `key_exchange_parts` about it rather than guessing.

Usage: python3 scripts/gen-registries.py [--shared DIR] [--out DIR] [--check]
Standard library only.
"""

import argparse
import csv
import io
import os
import re
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_DIR = os.path.join(REPO_ROOT, "scripts", "registry-data")
DEFAULT_OUT = os.path.join(REPO_ROOT, "Sources", "TLSWire", "Registry")
CIPHER_CSV = os.path.join("registries", "tls-parameters-4.csv")

# Registry name, source URL and retrieval date, printed at the top of the generated files.
# Keep in step with scripts/registry-data/README.md.
SOURCES = [
    ("TLS Cipher Suites", "https://www.iana.org/assignments/tls-parameters/tls-parameters.xhtml#tls-parameters-4",
     "shared/registries/tls-parameters-4.csv", "2026-11-29"),
    ("TLS Supported Groups", "https://www.iana.org/assignments/tls-parameters/tls-parameters.xhtml#tls-parameters-8",
     "scripts/registry-data/tls-supported-groups.csv", "2026-11-29"),
    ("TLS Supported Groups (unregistered draft code points, kind only)", "scripts/registry-data/README.md",
     "scripts/registry-data/tls-supported-groups-drafts.csv", "2026-12-02"),
    ("TLS SignatureScheme", "https://www.iana.org/assignments/tls-parameters/tls-parameters.xhtml#tls-signaturescheme",
     "scripts/registry-data/tls-signature-schemes.csv", "2026-11-29"),
    ("TLS ExtensionType Values",
     "https://www.iana.org/assignments/tls-extensiontype-values/tls-extensiontype-values.xhtml#tls-extensiontype-values-1",
     "scripts/registry-data/tls-extension-types.csv", "2026-11-29"),
    ("TLS Alerts", "https://www.iana.org/assignments/tls-parameters/tls-parameters.xhtml#tls-parameters-6",
     "scripts/registry-data/tls-alerts.csv", "2026-11-29"),
    ("TLS HandshakeType", "https://www.iana.org/assignments/tls-parameters/tls-parameters.xhtml#tls-parameters-7",
     "scripts/registry-data/tls-handshake-types.csv", "2026-11-29"),
    ("TLS ContentType", "https://www.iana.org/assignments/tls-parameters/tls-parameters.xhtml#tls-parameters-5",
     "scripts/registry-data/tls-content-types.csv", "2026-11-29"),
    ("TLS EC Point Formats", "https://www.iana.org/assignments/tls-parameters/tls-parameters.xhtml#tls-parameters-9",
     "scripts/registry-data/tls-ec-point-formats.csv", "2026-11-29"),
    ("TLS Compression Method Identifiers",
     "https://www.iana.org/assignments/comp-meth-ids/comp-meth-ids.xhtml#comp-meth-ids-2",
     "scripts/registry-data/tls-compression-methods.csv", "2026-11-29"),
    ("TLS PskKeyExchangeMode", "https://www.iana.org/assignments/tls-parameters/tls-parameters.xhtml#tls-pskkeyexchangemode",
     "scripts/registry-data/tls-psk-key-exchange-modes.csv", "2026-11-29"),
]


class RegistryError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# CSV reading


def is_placeholder(description):
    """Rows that name no code point: Unassigned, Reserved..., Reserved for Private Use."""
    d = " ".join(description.split())
    return d == "" or d.startswith("Unassigned") or d.startswith("Reserved")


def normalize_description(description):
    """One line, single spaces; IANA's trailing " (OBSOLETE)" marker is dropped so the name is
    the identifier itself (X25519Kyber768Draft00). Other annotations are kept verbatim."""
    d = " ".join(description.split())
    if d.endswith(" (OBSOLETE)"):
        d = d[: -len(" (OBSOLETE)")]
    return d


def parse_value(text, width):
    """A single code point: "0x13,0x01" (two quoted bytes), "0x0403" or decimal "29".
    Returns None for ranges ("0x00,0x1C-1D", "0xCD-CF,*", "42-255")."""
    t = text.strip()
    if "-" in t or "*" in t:
        return None
    if "," in t:
        parts = [p.strip() for p in t.split(",")]
        if len(parts) != 2:
            raise RegistryError("bad two-byte value %r" % text)
        hi, lo = (int(p, 16) for p in parts)
        if hi > 0xFF or lo > 0xFF:
            raise RegistryError("byte out of range in %r" % text)
        value = hi << 8 | lo
    else:
        value = int(t, 0)
    if value >= 1 << width:
        raise RegistryError("value %r does not fit in %d bits" % (text, width))
    return value


def read_registry(path, width):
    """[(value, name, recommended)] sorted by value, placeholders and ranges skipped.
    Accepts IANA's own CSV layout too (extra columns are ignored)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out = {}
    for row in rows:
        raw_value = row.get("Value") or ""
        description = row.get("Description") or ""
        if is_placeholder(description):
            continue
        value = parse_value(raw_value, width)
        if value is None:
            continue
        rec = (row.get("Recommended") or "").strip() or None
        if rec is not None and rec not in ("Y", "N", "D"):
            raise RegistryError("%s: value %s has Recommended %r" % (path, raw_value, rec))
        if value in out:
            raise RegistryError("%s: duplicate value %s" % (path, raw_value))
        out[value] = (value, normalize_description(description), rec)
    return [out[k] for k in sorted(out)]


# Supported-group classes (the Kind column of tls-supported-groups.csv and tls-supported-groups-drafts.csv)
# -> (Swift NamedGroupKind case, whether the group combines a classical and a post-quantum exchange).
GROUP_KINDS = {
    "ecdhe": ("ecdhe", False),
    "ffdhe": ("ffdhe", False),
    "pq": ("purePQ", False),
    "pq-hybrid": ("pqHybrid", True),
    "draft-pq": ("obsoleteDraft", False),
    "draft-pq-hybrid": ("obsoleteDraft", True),
}


def read_group_kinds(paths):
    """[(value, kind)] sorted by value, from the Kind column of each file; every named row needs one."""
    out = {}
    for path in paths:
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if is_placeholder(row.get("Description") or ""):
                    continue
                value = parse_value(row.get("Value") or "", 16)
                if value is None:
                    continue
                kind = (row.get("Kind") or "").strip()
                if kind not in GROUP_KINDS:
                    raise RegistryError("%s: value %s has Kind %r (one of %s)" % (path, row.get("Value"), kind,
                                                                                 ", ".join(sorted(GROUP_KINDS))))
                if value in out:
                    raise RegistryError("%s: duplicate group value %s" % (path, row.get("Value")))
                out[value] = kind
    return [(k, out[k]) for k in sorted(out)]


# --------------------------------------------------------------------------------------------
# Cipher suite decomposition

# Effective key bits of each bulk cipher as it appears in suite names.
ENCRYPTION_BITS = {
    "NULL": 0,
    "RC4_40": 40,
    "RC4_128": 128,
    "RC2_CBC_40": 40,
    "DES40_CBC": 40,
    "DES_CBC_40": 40,
    "DES_CBC": 56,
    "3DES_EDE_CBC": 112,  # three 56-bit keys, 112 bits of strength (meet in the middle)
    "IDEA_CBC": 128,
    "SEED_CBC": 128,
    "CHACHA20_POLY1305": 256,
    "SM4_GCM": 128,
    "SM4_CCM": 128,
    "ASCONAEAD128": 128,
    "AEGIS_128L": 128,
    "AEGIS_256": 256,
    # GOST R 34.12-2015 block ciphers and GOST 28147-89 all take 256-bit keys.
    "KUZNYECHIK_CTR": 256,
    "MAGMA_CTR": 256,
    "28147_CNT": 256,
    "KUZNYECHIK_MGM_L": 256,
    "MAGMA_MGM_L": 256,
    "KUZNYECHIK_MGM_S": 256,
    "MAGMA_MGM_S": 256,
}
# AES / CAMELLIA / ARIA carry their key size in the name.
SIZED_CIPHER = re.compile(r"^(AES|CAMELLIA|ARIA)_(128|256)_(CBC|GCM|CCM|CCM_8)$")
AEAD_MODES = ("_GCM", "_CCM", "_CCM_8", "CHACHA20_POLY1305", "_MGM_L", "_MGM_S", "ASCONAEAD128", "AEGIS_")
MAC_NAMES = ("SHA", "SHA256", "SHA384", "SHA512", "MD5", "NULL", "SM3", "ASCONHASH256", "OMAC", "IMIT")


def encryption_bits(enc, name):
    m = SIZED_CIPHER.match(enc)
    if m:
        return int(m.group(2))
    if enc in ENCRYPTION_BITS:
        return ENCRYPTION_BITS[enc]
    raise RegistryError("%s: unknown bulk cipher %r (add it to ENCRYPTION_BITS)" % (name, enc))


def is_aead(enc):
    return any(marker in enc for marker in AEAD_MODES) or enc.endswith("_CCM")


def key_exchange_parts(kx, name):
    """Key-exchange half of a TLS 1.2-style name -> (key exchange, authentication)."""
    fixed = {
        "NULL": ("NULL", "NULL"),
        "RSA": ("RSA", "RSA"),
        "RSA_EXPORT": ("RSA_EXPORT", "RSA"),
        "KRB5": ("KRB5", "KRB5"),
        "KRB5_EXPORT": ("KRB5_EXPORT", "KRB5"),
        # Pre-shared keys (RFC 4279, 5489): the PSK authenticates, except that RSA_PSK servers
        # also present an RSA certificate.
        "PSK": ("PSK", "PSK"),
        "DHE_PSK": ("DHE_PSK", "PSK"),
        "PSK_DHE": ("DHE_PSK", "PSK"),  # RFC 6655 spells TLS_PSK_DHE_WITH_AES_*_CCM_8 backwards
        "ECDHE_PSK": ("ECDHE_PSK", "PSK"),
        "RSA_PSK": ("RSA_PSK", "RSA"),
        # SRP (RFC 5054): the password authenticates, optionally backed by a certificate.
        "SRP_SHA": ("SRP_SHA", "SRP"),
        "SRP_SHA_RSA": ("SRP_SHA", "RSA"),
        "SRP_SHA_DSS": ("SRP_SHA", "DSS"),
        # Password-authenticated ECC key exchange (RFC 8492).
        "ECCPWD": ("ECCPWD", "ECCPWD"),
        # GOST R 34.11-2012 suites (RFC 9189): VKO key agreement, GOST R 34.10-2012 signatures.
        "GOSTR341112_256": ("GOSTR341112_256", "GOSTR341012"),
    }
    if kx in fixed:
        return fixed[kx]
    m = re.match(r"^(DH|DHE|ECDH|ECDHE)_(RSA|DSS|ECDSA|anon)(_EXPORT)?$", kx)
    if m:
        return (m.group(1) + (m.group(3) or ""), m.group(2))
    raise RegistryError("%s: unknown key exchange %r (teach key_exchange_parts)" % (name, kx))


# (key exchange, authentication) names -> the Swift `KeyExchangeAlgorithm` case. The anonymous DH and
# ECDH suites are ephemeral (their ServerKeyExchange carries the parameters, unsigned), so they get
# their own cases although their names ("DH", "ECDH") are those of the static forms.
KEY_EXCHANGE_CASES = {
    "NULL": "null", "RSA": "rsa", "RSA_EXPORT": "rsaExport", "DH": "dh", "DH_EXPORT": "dhExport",
    "DHE": "dhe", "DHE_EXPORT": "dheExport", "ECDH": "ecdh", "ECDHE": "ecdhe", "KRB5": "krb5",
    "KRB5_EXPORT": "krb5Export", "PSK": "psk", "DHE_PSK": "dhePSK", "ECDHE_PSK": "ecdhePSK",
    "RSA_PSK": "rsaPSK", "SRP_SHA": "srp", "ECCPWD": "eccpwd", "GOSTR341112_256": "gost", "TLS13": "tls13",
}
ANONYMOUS_KEY_EXCHANGE_CASES = {"DH": "dhAnon", "DH_EXPORT": "dhAnonExport", "ECDH": "ecdhAnon"}
AUTHENTICATION_CASES = {
    "NULL": "null", "RSA": "rsa", "DSS": "dss", "ECDSA": "ecdsa", "anon": "anon", "PSK": "psk", "KRB5": "krb5",
    "SRP": "srp", "ECCPWD": "eccpwd", "GOSTR341012": "gostR341012",
}


def key_exchange_case(kex, auth, name):
    """The Swift enum cases for a suite's (key exchange, authentication) names."""
    if auth == "anon" and kex in ANONYMOUS_KEY_EXCHANGE_CASES:
        kex_case = ANONYMOUS_KEY_EXCHANGE_CASES[kex]
    elif kex in KEY_EXCHANGE_CASES:
        kex_case = KEY_EXCHANGE_CASES[kex]
    else:
        raise RegistryError("%s: key exchange %r has no KeyExchangeAlgorithm case" % (name, kex))
    if auth is None:
        return kex_case, None
    if auth not in AUTHENTICATION_CASES:
        raise RegistryError("%s: authentication %r has no AuthenticationAlgorithm case" % (name, auth))
    return kex_case, AUTHENTICATION_CASES[auth]


def split_encryption_mac(rest, name):
    """"AES_128_GCM_SHA256" -> ("AES_128_GCM", "AEAD"); "3DES_EDE_CBC_SHA" -> (.., "SHA");
    "AES_128_CCM" -> ("AES_128_CCM", "AEAD")."""
    tokens = rest.split("_")
    if tokens[-1] in MAC_NAMES and len(tokens) > 1:
        enc, mac = "_".join(tokens[:-1]), tokens[-1]
    else:
        enc, mac = rest, None
    if enc == "NULL":
        return enc, mac or "NULL"
    if is_aead(enc):
        # The trailing hash of an AEAD suite names the PRF/HKDF hash, not a record MAC.
        return enc, "AEAD"
    if mac is None:
        raise RegistryError("%s: no MAC in %r" % (name, rest))
    return enc, mac


def cipher_suite_parts(name):
    """(keyExchange, authentication or None, encryption, bits, mac), or None for signalling values."""
    if not name.startswith("TLS_"):
        raise RegistryError("cipher suite %r does not start with TLS_" % name)
    body = name[len("TLS_"):]
    if body.endswith("_SCSV"):
        return None  # signalling cipher suite values negotiate nothing
    if "_WITH_" in body:
        kx, rest = body.split("_WITH_", 1)
        enc, mac = split_encryption_mac(rest, name)
        if "_MGM_" in enc:
            # RFC 9367: TLS_GOSTR341112_256_WITH_*_MGM_* are TLS 1.3 suites despite the _WITH_.
            return ("TLS13", None, enc, encryption_bits(enc, name), "AEAD")
        kex, auth = key_exchange_parts(kx, name)
        return (kex, auth, enc, encryption_bits(enc, name), mac)
    # TLS 1.3 style (RFC 8446 B.4 and later): TLS_<AEAD>_<HASH>; the handshake decides the
    # key exchange and authentication.
    tokens = body.split("_")
    if len(tokens) < 2 or tokens[-1] not in MAC_NAMES:
        raise RegistryError("%s: cannot take apart a TLS 1.3-style name" % name)
    enc = "_".join(tokens[:-1])
    if enc in ("SHA256", "SHA384"):
        # RFC 9150 integrity-only suites: HMAC, no encryption.
        return ("TLS13", None, "NULL", 0, enc)
    if not is_aead(enc):
        raise RegistryError("%s: TLS 1.3-style suite without an AEAD: %r" % (name, enc))
    return ("TLS13", None, enc, encryption_bits(enc, name), "AEAD")


def read_cipher_suites(path):
    suites = read_registry(path, 16)
    if not suites:
        raise RegistryError("%s: no cipher suites" % path)
    for _, name, _ in suites:
        if not re.match(r"^TLS_[A-Za-z0-9_]+$", name):
            raise RegistryError("%s: unexpected cipher suite name %r" % (path, name))
    return suites


# --------------------------------------------------------------------------------------------
# Swift output


def swift_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def hex_literal(value, width):
    return "0x%0*x" % (width // 4, value)


def header(sources):
    lines = [
        "// generated by scripts/gen-registries.py — do not edit.",
        "// Regenerate: python3 scripts/gen-registries.py [--shared DIR]",
        "//",
        "// Sources (IANA registries, retrieval date):",
    ]
    for title, url, local, date in sources:
        lines.append("//   %s: %s" % (title, url))
        lines.append("//     from %s, retrieved %s" % (local, date))
    lines.append("")
    return "\n".join(lines) + "\n"


RECOMMENDATION = {"Y": ".yes", "N": ".no", "D": ".discouraged"}


def name_function(fn, width, entries, doc):
    swift_type = "UInt16" if width == 16 else "UInt8"
    out = ["    /// %s" % doc,
           "    static func %s(_ value: %s) -> String? {" % (fn, swift_type),
           "        switch value {"]
    for value, name, _ in entries:
        out.append("        case %s: %s" % (hex_literal(value, width), swift_string(name)))
    out += ["        default: nil", "        }", "    }"]
    return out


def case_lines(values):
    """A `case` label listing 16-bit values, eight a line (long lists stay readable)."""
    chunks = [values[i:i + 8] for i in range(0, len(values), 8)]
    lines = []
    for i, chunk in enumerate(chunks):
        text = ", ".join(hex_literal(v, 16) for v in chunk)
        prefix = "        case " if i == 0 else "             "
        suffix = ":" if i == len(chunks) - 1 else ","
        lines.append(prefix + text + suffix)
    return lines


def recommendation_function(fn, entries, doc):
    out = ["    /// %s" % doc,
           "    static func %s(_ value: UInt16) -> IANARecommendation? {" % fn,
           "        switch value {"]
    groups = {}
    for value, _, rec in entries:
        if rec is not None:
            groups.setdefault(rec, []).append(value)
    # One case per recommendation level keeps the table short; values listed in order.
    for rec in ("Y", "D", "N"):
        values = groups.get(rec)
        if not values:
            continue
        out += case_lines(values)
        out.append("            %s" % RECOMMENDATION[rec])
    out += ["        default: nil", "        }", "    }"]
    return out


def group_kind_functions(kinds):
    out = ["    /// The class of a supported-groups code point (IANA's and the known unregistered drafts').",
           "    static func groupKind(_ value: UInt16) -> NamedGroupKind {",
           "        switch value {"]
    by_case = {}
    for value, kind in kinds:
        by_case.setdefault(GROUP_KINDS[kind][0], []).append(value)
    for case in ("ecdhe", "ffdhe", "pqHybrid", "purePQ", "obsoleteDraft"):
        values = by_case.get(case)
        if not values:
            continue
        out += case_lines(values)
        out.append("            .%s" % case)
    out += ["        default: .unknown", "        }", "    }", "",
            "    /// The group combines a classical and a post-quantum key exchange (final or draft).",
            "    static func groupIsHybrid(_ value: UInt16) -> Bool {",
            "        switch value {"]
    hybrids = [value for value, kind in kinds if GROUP_KINDS[kind][1]]
    out.append("        case " + ", ".join(hex_literal(v, 16) for v in hybrids) + ": true")
    out += ["        default: false", "        }", "    }"]
    return out


# RFC 7919 Appendix A: p = 2^b - 2^{b-64} + {[2^{b-130} e] + X} * 2^64 - 1 for each group's b and X.
FFDHE_GROUPS = [(0x0100, 2048, 560316), (0x0101, 3072, 2625351), (0x0102, 4096, 5736041),
                (0x0103, 6144, 15705020), (0x0104, 8192, 10965728)]


def floor_e_scaled(bits):
    """floor(2^bits * e), from e = sum 1/n! in integers (64 guard bits cover the truncations)."""
    guard = 64
    term = 1 << (bits + guard)
    total, n = 0, 0
    while term:
        total += term
        n += 1
        term //= n
    return total >> guard


def ffdhe_prime(bits, x):
    p = (1 << bits) - (1 << (bits - 64)) + (floor_e_scaled(bits - 130) + x) * (1 << 64) - 1
    # RFC 7919: the top and bottom 64 bits are all ones; a wrong X or e would break this first.
    ones = (1 << 64) - 1
    if p >> (bits - 64) != ones or p & ones != ones or p.bit_length() != bits:
        raise RegistryError("ffdhe%d: computed prime has the wrong shape" % bits)
    return p.to_bytes(bits // 8, "big")


def ffdhe_prime_table():
    out = ["    /// RFC 7919 Appendix A primes (generator 2), computed by the generator from the RFC's formula:",
           "    /// a ServerDHParams with one of them is that named group.",
           "    static func ffdhePrime(_ value: UInt16) -> [UInt8]? {",
           "        switch value {"]
    for value, bits, x in FFDHE_GROUPS:
        prime = ffdhe_prime(bits, x)
        out.append("        case %s:  // ffdhe%d" % (hex_literal(value, 16), bits))
        for i in range(0, len(prime), 16):
            chunk = ", ".join("0x%02x" % b for b in prime[i:i + 16])
            prefix = "            [" if i == 0 else "             "
            suffix = "]" if i + 16 >= len(prime) else ","
            out.append(prefix + chunk + suffix)
    out += ["        default: nil", "        }", "    }"]
    return out


def render_registries(tables):
    lines = [header(SOURCES[1:]).rstrip("\n"), "",
             "/// Names (and Recommended columns) of the IANA TLS registries, as generated switches:",
             "/// no allocation and no table built at run time. Unregistered values give nil.",
             "enum IANARegistry {"]
    lines += name_function("groupName", 16, tables["groups"], "IANA \"TLS Supported Groups\" name.")
    lines.append("")
    lines += recommendation_function("groupRecommendation", tables["groups"],
                                     "IANA \"TLS Supported Groups\" Recommended column.")
    lines.append("")
    lines += group_kind_functions(tables["groupkinds"])
    lines.append("")
    lines += ffdhe_prime_table()
    lines.append("")
    lines += name_function("signatureSchemeName", 16, tables["sigschemes"], "IANA \"TLS SignatureScheme\" name.")
    lines.append("")
    lines += name_function("extensionName", 16, tables["extensions"], "IANA \"TLS ExtensionType Values\" name.")
    lines.append("")
    lines += name_function("alertName", 8, tables["alerts"], "IANA \"TLS Alerts\" name.")
    lines.append("")
    lines += name_function("handshakeTypeName", 8, tables["handshake"], "IANA \"TLS HandshakeType\" name.")
    lines.append("")
    lines += name_function("contentTypeName", 8, tables["content"], "IANA \"TLS ContentType\" name.")
    lines.append("")
    lines += name_function("ecPointFormatName", 8, tables["ecpointformats"], "IANA \"TLS EC Point Formats\" name.")
    lines.append("")
    lines += name_function("compressionMethodName", 8, tables["compression"],
                           "IANA \"TLS Compression Method Identifiers\" name.")
    lines.append("")
    lines += name_function("pskKeyExchangeModeName", 8, tables["pskmodes"], "IANA \"TLS PskKeyExchangeMode\" name.")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_cipher_suites(suites):
    lines = [header(SOURCES[:1]).rstrip("\n"), "",
             "// Cipher suite names, their parts (taken apart by the generator) and the Recommended column.",
             "extension IANARegistry {"]
    lines += name_function("cipherSuiteName", 16, suites, "IANA \"TLS Cipher Suites\" name.")
    lines.append("")
    lines += ["    /// The registered suite taken apart; nil for unregistered values and signalling values (SCSV).",
              "    static func cipherSuiteParts(_ value: UInt16) -> CipherSuiteParts? {",
              "        switch value {"]
    for value, name, _ in suites:
        parts = cipher_suite_parts(name)
        if parts is None:
            continue
        kex, auth, enc, bits, mac = parts
        kex_case, auth_case = key_exchange_case(kex, auth, name)
        lines.append("        case %s: CipherSuiteParts(keyExchange: .%s, authentication: %s, encryption: %s, "
                     "encryptionBits: %d, mac: %s)" % (hex_literal(value, 16), kex_case,
                                                       "nil" if auth_case is None else "." + auth_case,
                                                       swift_string(enc), bits, swift_string(mac)))
    lines += ["        default: nil", "        }", "    }", ""]
    # The same values as a list, for tables worked out once per registered suite (not per code point).
    values = [hex_literal(value, 16) for value, name, _ in suites if cipher_suite_parts(name) is not None]
    lines += ["    /// The values `cipherSuiteParts` takes apart (registered suites, not SCSVs), in order.",
              "    static let registeredCipherSuiteValues: [UInt16] = ["]
    for start in range(0, len(values), 10):
        lines.append("        " + ", ".join(values[start:start + 10]) + ",")
    lines += ["    ]", ""]
    lines += recommendation_function("cipherSuiteRecommendation", suites,
                                     "IANA \"TLS Cipher Suites\" Recommended column.")
    lines.append("}")
    return "\n".join(lines) + "\n"


def generate(shared_dir):
    cipher_path = os.path.join(shared_dir, CIPHER_CSV)
    if not os.path.exists(cipher_path):
        raise RegistryError("cipher suite registry not found at %s (use --shared DIR)" % cipher_path)
    suites = read_cipher_suites(cipher_path)
    tables = {
        "groups": read_registry(os.path.join(DATA_DIR, "tls-supported-groups.csv"), 16),
        "groupkinds": read_group_kinds([os.path.join(DATA_DIR, "tls-supported-groups.csv"),
                                        os.path.join(DATA_DIR, "tls-supported-groups-drafts.csv")]),
        "sigschemes": read_registry(os.path.join(DATA_DIR, "tls-signature-schemes.csv"), 16),
        "extensions": read_registry(os.path.join(DATA_DIR, "tls-extension-types.csv"), 16),
        "alerts": read_registry(os.path.join(DATA_DIR, "tls-alerts.csv"), 8),
        "handshake": read_registry(os.path.join(DATA_DIR, "tls-handshake-types.csv"), 8),
        "content": read_registry(os.path.join(DATA_DIR, "tls-content-types.csv"), 8),
        "ecpointformats": read_registry(os.path.join(DATA_DIR, "tls-ec-point-formats.csv"), 8),
        "compression": read_registry(os.path.join(DATA_DIR, "tls-compression-methods.csv"), 8),
        "pskmodes": read_registry(os.path.join(DATA_DIR, "tls-psk-key-exchange-modes.csv"), 8),
    }
    return {
        "GeneratedRegistries.swift": render_registries(tables),
        "GeneratedCipherSuites.swift": render_cipher_suites(suites),
    }


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", default=os.path.join(os.path.dirname(REPO_ROOT), "shared"),
                        help="the shared folder holding registries/tls-parameters-4.csv (default: ../shared)")
    parser.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: Sources/TLSWire/Registry)")
    parser.add_argument("--check", action="store_true",
                        help="compare with the files in --out instead of writing; exit 1 when they differ")
    args = parser.parse_args(argv)
    try:
        files = generate(args.shared)
    except (RegistryError, OSError, ValueError) as error:
        print("gen-registries: %s" % error, file=sys.stderr)
        return 2
    stale = []
    for filename, text in sorted(files.items()):
        path = os.path.join(args.out, filename)
        if args.check:
            try:
                with io.open(path, encoding="utf-8", newline="") as f:
                    if f.read() != text:
                        stale.append(path)
            except OSError:
                stale.append(path)
            continue
        os.makedirs(args.out, exist_ok=True)
        with io.open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    if stale:
        print("gen-registries: out of date: %s" % ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
