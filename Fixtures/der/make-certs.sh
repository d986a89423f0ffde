#!/bin/sh
# Regenerates the X509Inspection test certificates with OpenSSL 3.0 (run from anywhere).
# Keys are throw-away and not kept; only the DER certificates are. The tests assert values that were
# read once from `openssl x509 -text -nameopt RFC2253` on these exact files, so re-running this script
# changes keys, signatures and hashes and the expected values in Tests/X509InspectionTests must follow.
set -eu
OUT=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# CA (RSA 2048) and a CA-signed RSA 2048 leaf with DNS, IP, e-mail and URI SANs (in that order, mixed).
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -sha256 -days 3650 -set_serial 0x01 \
    -subj "/C=US/O=Example, Inc./CN=Example Test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -out ca.pem
openssl req -new -newkey rsa:2048 -nodes -keyout leaf.key -subj "/C=US/ST=CA/O=Example/OU=Web+CN=www.example.test" \
    -multivalue-rdn -out leaf.csr
printf 'subjectAltName=DNS:www.example.test,IP:192.0.2.7,DNS:example.test,IP:2001:db8::1,email:admin@example.test,URI:https://example.test/path\nbasicConstraints=CA:FALSE\n' > leaf.ext
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -set_serial 0x00c0ffee0123456789 -days 825 -sha256 \
    -extfile leaf.ext -out leaf.pem
openssl x509 -in ca.pem -outform DER -out "$OUT/ca-rsa2048.der"
openssl x509 -in leaf.pem -outform DER -out "$OUT/leaf-rsa2048-san.der"

# Self-signed RSA 1024 (sha256).
openssl req -x509 -newkey rsa:1024 -nodes -keyout r1024.key -sha256 -days 365 -set_serial 0x7f \
    -subj "/CN=rsa1024.example.test" -outform DER -out "$OUT/rsa1024-selfsigned.der"

# EC P-256 / P-384 / P-521 self-signed (ecdsa-with-SHA256/384/512).
for c in 256:sha256 384:sha384 521:sha512; do
    bits=${c%%:*}; md=${c##*:}
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-$bits -nodes -keyout ec$bits.key -$md -days 365 \
        -set_serial 0x$bits -subj "/CN=ec-p$bits.example.test" -addext "subjectAltName=DNS:ec-p$bits.example.test" \
        -outform DER -out "$OUT/ec-p$bits.der"
done

# Ed25519 and Ed448 self-signed.
openssl req -x509 -newkey ed25519 -nodes -keyout ed25519.key -days 365 -set_serial 0x25519 \
    -subj "/CN=ed25519.example.test" -outform DER -out "$OUT/ed25519.der"
openssl req -x509 -newkey ed448 -nodes -keyout ed448.key -days 365 -set_serial 0x0448 \
    -subj "/CN=ed448.example.test" -outform DER -out "$OUT/ed448.der"

# SHA-1 and MD5 signed (RSA 2048 self-signed). OpenSSL 3.0 still signs with MD5 from the default provider.
openssl req -x509 -newkey rsa:2048 -nodes -keyout sha1.key -sha1 -days 365 -set_serial 0x05a1 \
    -subj "/CN=sha1.example.test" -outform DER -out "$OUT/sha1-signed.der"
openssl req -x509 -newkey rsa:2048 -nodes -keyout md5.key -md5 -days 365 -set_serial 0x0d5 \
    -subj "/CN=md5.example.test" -outform DER -out "$OUT/md5-signed.der"

# RSASSA-PSS signature (RSA key, PSS padding, SHA-256).
openssl req -x509 -newkey rsa:2048 -nodes -keyout pss.key -sha256 -sigopt rsa_padding_mode:pss \
    -sigopt rsa_pss_saltlen:32 -days 365 -set_serial 0x055 -subj "/CN=pss.example.test" \
    -outform DER -out "$OUT/rsa-pss-signed.der"

# DSA 2048 self-signed (dsa_with_SHA256).
openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 -out dsa.param
openssl req -x509 -newkey param:dsa.param -nodes -keyout dsa.key -sha256 -days 365 -set_serial 0x0d5a \
    -subj "/CN=dsa.example.test" -outform DER -out "$OUT/dsa2048.der"

# Expired: CA-signed leaf valid 2020-01-01..2021-01-01, through `openssl ca` (OpenSSL 3.0's x509/req have no
# -not_before).
mkdir -p ca/new && : > ca/index.txt && echo 1000 > ca/serial
cat > ca.cnf <<CNF
[ ca ]
default_ca = test
[ test ]
dir = ./ca
database = ./ca/index.txt
new_certs_dir = ./ca/new
serial = ./ca/serial
default_md = sha256
policy = anything
unique_subject = no
[ anything ]
commonName = supplied
CNF
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout expired.key \
    -subj "/CN=expired.example.test" -out expired.csr
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -notext \
    -startdate 20200101000000Z -enddate 20210101000000Z -out expired.pem
openssl x509 -in expired.pem -outform DER -out "$OUT/expired.der"

# Version 1 certificate (no extensions at all).
openssl x509 -req -in leaf.csr -key leaf.key -set_serial 0x01 -days 365 -sha256 -out v1.pem
openssl x509 -in v1.pem -outform DER -out "$OUT/v1-selfsigned.der"

# Subject == issuer name but signed by the CA's key: not self-signed (EC P-256 key, RSA signature).
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout collide.key \
    -subj "/C=US/O=Example, Inc./CN=Example Test CA" -out collide.csr
openssl x509 -req -in collide.csr -CA ca.pem -CAkey ca.key -set_serial 0x0c011de -days 365 -sha256 \
    -out collide.pem
openssl x509 -in collide.pem -outform DER -out "$OUT/name-collision-not-self-signed.der"

# Awkward names: RFC 4514 escapes, UTF-8, emailAddress, DC, UID, serialNumber.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout names.key -sha256 -days 365 \
    -set_serial 0x4e -utf8 \
    -subj "$(printf '/DC=test/DC=example/O=\303\234n\303\257code Org/OU=a;b<c>d"e\\+f,g/CN= #lead and trail /emailAddress=x@example.test/UID=jdoe/serialNumber=1234')" \
    -outform DER -out "$OUT/names.der"
