#!/usr/bin/env bash
# Test-only PKI for the tlsscope fixtures. Every key here is published in the repository:
# never use any of them for anything but tests. Files are made only when missing so that
# re-running keeps the committed certificates (and the golden JSON that pins them) stable.
set -euo pipefail
D="${1:?usage: make-certs.sh DIR}"
mkdir -p "$D"
cd "$D"

key() { [ -f "$1" ] || openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${2:-2048}" -out "$1" 2>/dev/null; }

cat > ext.cnf <<'CNF'
[req]
distinguished_name = dn
[dn]
[x_root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[x_inter]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[x_leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:example.test, DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[x_client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF

# Self-signed roots: the real one, and an unrelated one for the unknown_ca scenarios.
key root.key
[ -f root.pem ] || openssl req -new -x509 -key root.key -sha256 -days 36500 -set_serial 0x1001 \
  -subj "/C=XX/O=tlsscope test/CN=tlsscope Test Root CA" -extensions x_root -config ext.cnf -out root.pem
key wrong-root.key
[ -f wrong-root.pem ] || openssl req -new -x509 -key wrong-root.key -sha256 -days 36500 -set_serial 0x1002 \
  -subj "/C=XX/O=tlsscope test/CN=tlsscope Unrelated Root CA" -extensions x_root -config ext.cnf -out wrong-root.pem

sign() { # sign NAME ISSUER SERIAL EXT SUBJECT DAYS
  [ -f "$1.pem" ] && return 0
  openssl req -new -key "$1.key" -subj "$5" -config ext.cnf -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -set_serial "$3" -sha256 -days "$6" \
    -extfile ext.cnf -extensions "x_$4" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr"
}
key inter.key;  sign inter  root  0x2001 inter  "/C=XX/O=tlsscope test/CN=tlsscope Test Intermediate CA" 18250
key leaf.key;   sign leaf   inter 0x3001 leaf   "/C=XX/O=tlsscope test/CN=example.test" 9125
key client.key; sign client inter 0x3002 client "/C=XX/O=tlsscope test/CN=tlsscope test client" 9125
# A leaf signed directly by the root, for scenarios that want a one-certificate chain.
key single.key; sign single root  0x3003 leaf   "/C=XX/O=tlsscope test/CN=example.test" 9125

# An ECDSA P-256 leaf (intermediate-signed), for certificate key_type/curve fields.
[ -f ecdsa.key ] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out ecdsa.key 2>/dev/null
sign ecdsa inter 0x3004 leaf "/C=XX/O=tlsscope test/CN=ecdsa.example.test" 9125
# A weak leaf for the audit scenarios: RSA 1024 signed with sha1WithRSAEncryption.
key weak.key 1024
if [ ! -f weak.pem ]; then
  openssl req -new -key weak.key -subj "/C=XX/O=tlsscope test/CN=weak.example.test" -config ext.cnf -out weak.csr
  openssl x509 -req -in weak.csr -CA inter.pem -CAkey inter.key -set_serial 0x3005 -sha1 -days 9125 \
    -extfile ext.cnf -extensions x_leaf -out weak.pem 2>/dev/null
  rm -f weak.csr
fi
# A self-signed end-entity certificate (no CA), as many appliances present.
key selfsigned.key
[ -f selfsigned.pem ] || openssl req -new -x509 -key selfsigned.key -sha256 -days 9125 -set_serial 0x4001 \
  -subj "/C=XX/O=tlsscope test/CN=selfsigned.example.test" -addext "subjectAltName=DNS:selfsigned.example.test" \
  -addext "basicConstraints=critical,CA:FALSE" -config ext.cnf -out selfsigned.pem

# Leaves with a chosen validity window, for the certificate-date audit scenarios. `openssl x509 -req`
# in OpenSSL 3.0 has no -not_before/-not_after, so these go through a throw-away `openssl ca` setup
# (-startdate/-enddate); the intermediate signs them, SAN is the subject CN.
dated() { # dated NAME SERIAL CN STARTDATE ENDDATE   (dates as YYMMDDHHMMSSZ)
  [ -f "$1.pem" ] && return 0
  key "$1.key"
  local ca; ca=$(mktemp -d)
  : > "$ca/index.txt"
  echo "$2" > "$ca/serial"
  cat > "$ca/ca.cnf" <<CNF
[ca]
default_ca = dated
[dated]
database = $ca/index.txt
serial = $ca/serial
new_certs_dir = $ca
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[x_dated]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:$3
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF
  openssl req -new -key "$1.key" -subj "/C=XX/O=tlsscope test/CN=$3" -config ext.cnf -out "$ca/req.csr"
  openssl ca -batch -notext -config "$ca/ca.cnf" -cert inter.pem -keyfile inter.key -preserveDN \
    -startdate "$4" -enddate "$5" -extensions x_dated -in "$ca/req.csr" -out "$1.pem" 2>/dev/null
  rm -rf "$ca"
}
dated expired  3006 expired.example.test  200101000000Z 210101000000Z  # ended 2021-01-01
dated expiring 3007 expiring.example.test 260901000000Z 261209120000Z  # ends 10 days after 2026-11-29
dated notyet   3008 notyet.example.test   300101000000Z 310101000000Z  # starts 2030-01-01

[ -f leaf-chain.pem ] || cat leaf.pem inter.pem > leaf-chain.pem
[ -f client-chain.pem ] || cat client.pem inter.pem > client-chain.pem

# Finite-field DH parameters: a fresh 2048-bit safe prime (not an RFC 7919 group, so the
# analyzer must report it as "dh2048"), and a weak 1024-bit one for the audit scenarios.
[ -f dh2048.pem ] || openssl dhparam -out dh2048.pem 2048 2>/dev/null
[ -f dh1024.pem ] || openssl dhparam -out dh1024.pem 1024 2>/dev/null
