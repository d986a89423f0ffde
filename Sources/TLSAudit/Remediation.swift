// What to change for each finding id, in the terms of the servers people run (OpenSSL, nginx, Apache,
// HAProxy). The audit report prints the line under each finding it lists; docs/audit.md carries the same
// table. One line each: the report is read by someone about to edit a configuration file.

extension FindingCatalog {
    /// The remediation line of a finding id (every id in `all` has one; tests insist).
    public static func remediation(of id: String) -> String? { remediations[id] }

    static let protocolFloor =
        "allow only TLS 1.2 and 1.3 — nginx `ssl_protocols TLSv1.2 TLSv1.3;`, Apache `SSLProtocol -all +TLSv1.2 +TLSv1.3`, "
        + "HAProxy `ssl-min-ver TLSv1.2`, OpenSSL `MinProtocol = TLSv1.2`"
    static let aeadSuites =
        "configure Mozilla's intermediate cipher list (AES-GCM and ChaCha20-Poly1305 with ECDHE: OpenSSL "
        + "`ECDHE+AESGCM:ECDHE+CHACHA20`) in nginx `ssl_ciphers`, Apache `SSLCipherSuite`, HAProxy `ssl-default-bind-ciphers`"

    static let remediations: [String: String] = [
        "version-ssl2": "Disable SSL 2.0: " + protocolFloor + ".",
        "version-ssl3": "Disable SSL 3.0 (POODLE): " + protocolFloor + ".",
        "version-tls10": "Disable TLS 1.0 (RFC 8996): " + protocolFloor + ".",
        "version-tls11": "Disable TLS 1.1 (RFC 8996): " + protocolFloor + ".",
        "version-dtls10":
            "Require DTLS 1.2 or later: OpenSSL `SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION)`, GnuTLS priority `-VERS-DTLS1.0`.",
        "cipher-null": "Remove NULL suites (no encryption at all): " + aeadSuites + "; never `eNULL`/`ALL`.",
        "cipher-anon": "Remove anonymous suites (no server authentication, trivially intercepted): " + aeadSuites + " (`!aNULL`).",
        "cipher-export": "Remove EXPORT suites (40/56-bit keys, FREAK/Logjam): " + aeadSuites + ".",
        "cipher-rc4": "Remove RC4 suites (RFC 7465 prohibits them): " + aeadSuites + ".",
        "cipher-rc2": "Remove RC2 suites: " + aeadSuites + ".",
        "cipher-des": "Remove single-DES suites (56-bit keys): " + aeadSuites + ".",
        "cipher-md5-mac": "Remove suites with an HMAC-MD5 record MAC: " + aeadSuites + ".",
        "cipher-3des": "Remove 3DES and IDEA suites (64-bit blocks, SWEET32): " + aeadSuites + " (`!3DES`).",
        "no-forward-secrecy":
            "Offer only ECDHE (or DHE) key exchange so a stolen key cannot decrypt recorded traffic: drop static-RSA suites "
            + "(OpenSSL `!kRSA`), or move to TLS 1.3.",
        "cipher-cbc": "Prefer AEAD suites over CBC (Lucky Thirteen, padding oracles): " + aeadSuites + ".",
        "cipher-sha1-mac": "Prefer AEAD suites over HMAC-SHA1 ones: " + aeadSuites + ".",
        "kex-ffdhe":
            "Prefer ECDHE to finite-field DHE: list ECDHE suites first and offer X25519 and P-256 (nginx "
            + "`ssl_ecdh_curve X25519:prime256v1`, OpenSSL `Groups = X25519:P-256`).",
        "dh-weak":
            "Use DH parameters of 2048 bits or more — RFC 7919 ffdhe2048 (nginx `ssl_dhparam`, Apache "
            + "`SSLOpenSSLConfCmd DHParameters`, HAProxy `ssl-dh-param-file`) — or drop DHE for ECDHE.",
        "dh-weaker-than-cert":
            "Use DH parameters at least as long as the certificate's RSA key (ffdhe3072 for RSA 3072), or ECDHE instead.",
        "cert-key-weak":
            "Reissue the certificate with an RSA key of 2048 bits or more or an ECDSA P-256 key "
            + "(`openssl req -newkey rsa:2048` or `-newkey ec -pkeyopt ec_paramgen_curve:P-256`).",
        "cert-signature-weak":
            "Reissue the certificate (and replace old intermediates) signed with SHA-256 or better; every public CA signs so.",
        "cert-expired":
            "Renew the certificate, deploy it and reload the server (nginx `nginx -s reload`, `apachectl graceful`); "
            + "automate renewal (ACME: certbot, acme.sh).",
        "cert-not-yet-valid": "Check the server's and the CA's clocks (NTP); deploy a certificate whose notBefore has passed.",
        "cert-expiring":
            "Renew now and reload the server; check that the renewal job (ACME clients renew 30 days ahead) runs and "
            + "that the server picks up the new file.",
        "cert-self-signed":
            "Serve a certificate from a CA the clients trust (a public CA, or your internal PKI with its root deployed to "
            + "clients); keep self-signed ones for test systems.",
        "cert-lifetime":
            "Issue shorter-lived certificates (public CAs: at most 398 days; ACME: 90) and automate their renewal.",
        "sni-mismatch":
            "Serve a certificate whose SAN lists this name: nginx `server_name` with its own `ssl_certificate`, Apache a "
            + "`VirtualHost` per name with `SSLCertificateFile`, HAProxy `crt-list`; or fix the name clients use.",
        "compression":
            "Disable TLS compression (CRIME): OpenSSL `Options = -Compression` (off by default since 1.1.0), Apache "
            + "`SSLCompression off`.",
        "no-secure-renegotiation":
            "Upgrade the server's TLS library (RFC 5746 renegotiation_info is in every maintained one) and disable "
            + "client-initiated renegotiation.",
        "heartbeat": "Build or configure the TLS library without heartbeats (OpenSSL `no-heartbeats`; removed in 1.1.1).",
        "heartbleed":
            "Patch now (OpenSSL 1.0.1g or later), restart every process using it, then revoke and reissue the keys "
            + "and certificates the server held, and rotate secrets it had in memory.",
        "heartbleed-probe":
            "A Heartbleed probe: make sure the server is patched, and look into the client that sent it.",
        "cipher-unknown":
            "Find out which TLS stack the server runs: an unregistered suite means a broken, custom or experimental build; "
            + "configure standard suites (" + aeadSuites + ").",
        "iana-discouraged":
            "Replace it with a suite or group IANA recommends (Recommended = Y): AES-GCM or ChaCha20-Poly1305 suites, "
            + "X25519 or P-256.",
        "alert-fatal":
            "Read the alert's description: `handshake_failure` or `protocol_version` usually means no common version or "
            + "suite, `bad_certificate`/`unknown_ca` a trust problem on the side that sent it.",
        "handshake-incomplete":
            "Find out why it stopped (a scanner, a timeout, a middlebox, a client giving up); many on one server point "
            + "at its TLS listener or a load balancer in front of it.",
        "keylog-mismatch":
            "Use the key log the endpoint wrote for this capture (SSLKEYLOGFILE or `-keylogfile` on the machine that made "
            + "these connections, not another run's); a log that verifies other connections of the same capture points at "
            + "an altered capture or an endpoint logging wrong secrets.",
        "client-offers-weak":
            "Update or reconfigure the client (its TLS library's cipher list and minimum version); make sure no server "
            + "accepts what it offers.",
        "pq-negotiated": "Nothing to change: the key exchange resists a future quantum computer.",
        "pq-not-offered":
            "Upgrade clients to ones that offer X25519MLKEM768 (OpenSSL 3.5, Go 1.24, current Chrome and Firefox) "
            + "against harvest-now-decrypt-later.",
        "pq-offered-not-selected":
            "Enable X25519MLKEM768 on the server: OpenSSL 3.5 `Groups = X25519MLKEM768:X25519:P-256`, nginx "
            + "`ssl_ecdh_curve X25519MLKEM768:X25519:prime256v1`.",
        "pq-obsolete-draft":
            "Upgrade: the Kyber draft code points (X25519Kyber768Draft00) are withdrawn; use X25519MLKEM768.",
        "policy-version": "Allow only the policy's versions in the server's configuration, or change the policy.",
        "policy-cipher": "Configure only the policy's cipher suites (" + aeadSuites + "), or change the policy.",
        "policy-group": "Offer only the policy's key-exchange groups (OpenSSL `Groups`, nginx `ssl_ecdh_curve`), or change the policy.",
        "policy-cert":
            "Reissue the certificate with a key type, size and signature the policy allows (e.g. ECDSA P-256 for modern), "
            + "or change the policy.",
    ]
}
