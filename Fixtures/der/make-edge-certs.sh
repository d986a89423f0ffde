#!/bin/sh
# Regenerates the certificates for issue #9's certificate cases with OpenSSL 3.0 (run from anywhere):
# RFC 5280 deviations, self-signed decided by signature or by RFC 5280 §7.1 name matching plus AKI/SKI,
# explicit-parameter EC keys. ML-DSA / SLH-DSA certificates (which OpenSSL 3.0 cannot make) come from
# make-pq-certs.py. As with make-certs.sh, keys are throw-away and re-running changes keys, signatures and
# hashes, so the expected values in Tests/X509InspectionTests must follow.
set -eu
OUT=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
printf 'subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' > kid.ext

# Negative serial (RFC 5280 §4.1.2.2: "MUST be positive", but must be handled gracefully). EC P-256, self-signed.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout neg.key -sha256 -days 365 \
    -set_serial -0x1234 -subj "/CN=negative-serial.example.test" -outform DER -out "$OUT/negative-serial.der"

# Same subject and issuer name, signed by another key of the same type: not self-signed. Ed448 and DSA keys
# cannot be verified here, so AKI (the signer's key id) != SKI decides; RSA-PSS is verified.
for kind in ed448 dsa rsa-pss; do
    case $kind in
        ed448) gen="-algorithm ed448"; sign="" ;;
        dsa) openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 -out dsa.param
             gen="-paramfile dsa.param"; sign="-sha256" ;;
        rsa-pss) gen="-algorithm RSA -pkeyopt rsa_keygen_bits:2048"
             sign="-sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32" ;;
    esac
    openssl genpkey $gen -out $kind-ca.key
    openssl genpkey $gen -out $kind-leaf.key
    openssl req -x509 -new -key $kind-ca.key $sign -days 365 -set_serial 0x0a -subj "/CN=Same Name $kind" \
        -out $kind-ca.pem
    openssl req -new -key $kind-leaf.key -subj "/CN=Same Name $kind" -out $kind-leaf.csr
    openssl x509 -req -in $kind-leaf.csr -CA $kind-ca.pem -CAkey $kind-ca.key $sign -set_serial 0x0b -days 365 \
        -extfile kid.ext -out $kind-leaf.pem
    openssl x509 -in $kind-leaf.pem -outform DER -out "$OUT/$kind-name-collision-not-self-signed.der"
done

# Signed by its own key, issuer differing from the subject only in case, spacing and string type
# (PrintableString issuer, UTF8String subject): self-signed under RFC 5280 §7.1. The "CA" certificate is
# the same key under the other spelling of the name; RSA (verified) and Ed448 (names plus AKI = SKI).
cat > printable.cnf <<'CNF'
[ req ]
distinguished_name = dn
string_mask = default
prompt = no
x509_extensions = ca
[ dn ]
[ ca ]
subjectKeyIdentifier = hash
basicConstraints = critical,CA:TRUE
CNF
for kind in rsa ed448; do
    case $kind in
        rsa) gen="-algorithm RSA -pkeyopt rsa_keygen_bits:2048"; sign="-sha256" ;;
        ed448) gen="-algorithm ed448"; sign="" ;;
    esac
    openssl genpkey $gen -out $kind-own.key
    openssl req -x509 -new -config printable.cnf -key $kind-own.key $sign -days 365 -set_serial 0x0c \
        -subj "/O=Example Org/CN=Self Signed Example" -out $kind-own-ca.pem
    openssl req -new -utf8 -key $kind-own.key -subj "/O=EXAMPLE  org/CN=self signed   EXAMPLE" -out $kind-own.csr
    openssl x509 -req -in $kind-own.csr -CA $kind-own-ca.pem -CAkey $kind-own.key $sign -set_serial 0x0d \
        -days 365 -extfile kid.ext -out $kind-own.pem
    openssl x509 -in $kind-own.pem -outform DER -out "$OUT/$kind-self-signed-name-variant.der"
done

# Explicit-parameter EC keys (CurveBall, CVE-2020-0601, hides the curve behind explicit parameters):
# P-256 and the 160-bit secp160r1, each self-signed.
for curve in prime256v1 secp160r1; do
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:$curve -pkeyopt ec_param_enc:explicit \
        -out explicit-$curve.key
    openssl req -x509 -new -key explicit-$curve.key -sha256 -days 365 -set_serial 0x0e \
        -subj "/CN=explicit-$curve.example.test" -outform DER -out "$OUT/ec-explicit-$curve.der"
done

python3 "$OUT/make-pq-certs.py" "$OUT"
