import HandshakeAnalysis
import PacketDecoding
import TLSAudit
import TLSKeys
import TLSWire
import TextFormatting
import X509Inspection

/// `--format story`: one connection told step by step the way the handshake is taught — what the client
/// offered, what the server chose, the suite taken apart, how the keys were agreed, how the server was
/// authenticated, how the secrets become keys, and the Finished that proves both sides have them — in the
/// words of the TLS RFCs, saying at each step what the capture shows and what it cannot.
public enum StoryView {
    /// The story of one record, ending with a blank line.
    public static func story(of record: HandshakeRecord) -> String {
        var out = StoryText()
        let version = record.version
        let tls13 = version?.isTLS13Family ?? false
        out.title(record, version: version)

        out.step("The client offers", "ClientHello", tls13 ? "RFC 8446 §4.1.2" : "RFC 5246 §7.4.1.2")
        if let hello = record.clientHello {
            let offered = hello.supportedVersions.filter { !$0.isGREASE }
            out.fact("versions", offered.isEmpty
                ? "\(hello.version.name) (its highest; no supported_versions extension)"
                : "\(list(offered.map(\.name))) in supported_versions; legacy_version \(hello.version.name)")
            out.fact("cipher suites", "\(hello.cipherSuites.filter { !$0.isGREASE }.count) offered, in preference order: "
                + list(hello.cipherSuites.filter { !$0.isGREASE }.map(\.name), limit: 6))
            if !hello.supportedGroups.isEmpty {
                out.fact("groups", list(hello.supportedGroups.filter { !$0.isGREASE }.map(\.name), limit: 8))
            }
            if !hello.keyShareGroups.isEmpty {
                out.fact("key shares", "public keys already sent for " + list(hello.keyShareGroups.filter { !$0.isGREASE }.map(\.name))
                    + " (the client guesses the group the server will pick, saving a round trip)")
            }
            if !hello.signatureAlgorithms.isEmpty {
                out.fact("signatures", "\(hello.signatureAlgorithms.count) schemes it can verify, first "
                    + list(hello.signatureAlgorithms.filter { !$0.isGREASE }.map(\.name), limit: 4))
            }
            out.fact("server name", hello.serverName.map { "\($0) (SNI, sent in clear)" } ?? "none sent")
            if !hello.alpn.isEmpty {
                out.fact("ALPN", list(hello.alpn.map { String(decoding: $0, as: UTF8.self) }))
            }
        } else {
            out.line("not seen (the capture starts after it)")
        }

        if let retry = record.helloRetryRequest {
            out.step("The server asks again", "HelloRetryRequest", "RFC 8446 §4.1.4")
            out.line("none of the client's key shares suits it: it names the group it wants, "
                + (retry.selectedGroup.map(\.name) ?? "(unnamed)")
                + ", and the client sends a second ClientHello with a share for it")
        }

        out.step("The server chooses", "ServerHello", tls13 ? "RFC 8446 §4.1.3" : "RFC 5246 §7.4.1.3")
        if record.serverHello != nil, let version {
            out.fact("version", version.name + (record.resumed ? ", resuming an earlier session" : ""))
            if let suite = record.cipherSuite {
                out.fact("cipher suite", suite.name)
                if let parts = record.cipher {
                    var pieces = ["key exchange \(parts.keyExchange)"]
                    pieces.append("authentication " + (parts.authentication ?? (tls13 ? "by certificate or PSK (the suite does not say)" : "none")))
                    pieces.append("encryption \(parts.encryption)" + (parts.encryptionBits > 0 ? " (\(parts.encryptionBits)-bit key)" : ""))
                    pieces.append(parts.mac == "AEAD" ? "integrity from the AEAD itself" : "integrity HMAC-\(parts.mac)")
                    out.fact("taken apart", pieces.joined(separator: " · "))
                }
            }
            if let group = record.group { out.fact("group", group.name) }
            if let alpn = record.alpn { out.fact("ALPN", String(decoding: alpn, as: UTF8.self)) }
        } else {
            out.line("no ServerHello seen" + (record.alert.map { ": the handshake ended with \($0.alert.description.name) from the \($0.from.name)" } ?? ""))
        }

        out.step("The keys are agreed", "key exchange", tls13 ? "RFC 8446 §4.2.8, §7.4" : "RFC 5246 §7.4.3, §7.4.7")
        out.line(keyExchangeStory(record, tls13: tls13))

        out.step(
            "The server proves who it is", tls13 ? "Certificate, CertificateVerify" : "Certificate (and its key's use in the key exchange)",
            tls13 ? "RFC 8446 §4.4" : "RFC 5246 §7.4.2")
        if record.certificates.isEmpty {
            if tls13 && record.keys != nil && !record.resumed {
                out.line("sent encrypted, and not opened: see the Finished proof below")
            } else if tls13 && record.resumed {
                out.line("not sent: a resumed session (PSK) reuses the authentication of the session it resumes")
            } else if tls13 {
                out.line("sent encrypted: in TLS 1.3 the Certificate follows the ServerHello under the handshake keys, so a passive "
                    + "observer does not see it (a key log would open it)")
            } else if record.resumed {
                out.line("not sent: a resumed session reuses the authentication of the session it resumes")
            } else {
                out.line("no certificate seen")
            }
        } else {
            for (index, certificate) in record.certificates.enumerated() {
                out.line((index == 0 ? "leaf     " : "issuer \(index) ") + certificateStory(certificate))
            }
        }
        if !record.clientCertificates.isEmpty {
            out.line("the client was authenticated too: " + certificateStory(record.clientCertificates[0]))
        }

        out.step("The secrets become keys", "key schedule", tls13 ? "RFC 8446 §7.1" : "RFC 5246 §6.3, §8.1")
        if tls13 {
            out.line("(EC)DHE shared secret → HKDF-Extract → handshake secret → client and server handshake traffic secrets "
                + "(over the transcript ClientHello…ServerHello) → their keys and IVs; then the master secret → the "
                + "application traffic secrets (over the transcript through the server's Finished)")
        } else if version != nil {
            out.line("pre-master secret → master secret = PRF(pre_master_secret, \"master secret\", client random + server random) "
                + "→ key block = PRF(master_secret, \"key expansion\", server random + client random) → MAC keys, write keys, IVs")
            if record.serverHello?.extensions.contains(where: { $0.type == .extendedMasterSecret }) == true {
                out.line("extended master secret (RFC 7627) agreed: the master secret is bound to the whole handshake's hash")
            }
        }
        if let keys = record.keys {
            out.line("with the \(keys.source == .pcapng ? "capture's secrets block" : "key log")'s secrets for this connection:")
            for step in keys.steps {
                var lengths: [String] = []
                if let key = step.keyLength { lengths.append("\(key * 8)-bit key") }
                if let iv = step.ivLength { lengths.append("\(iv)-byte IV") }
                out.line("  \(step.from) → \(step.function) → \(step.to)" + (lengths.isEmpty ? "" : " (" + lengths.joined(separator: ", ") + ")"))
            }
        } else {
            out.line("not computed here: the secrets never cross the wire (an endpoint's key log holds them: --keylog)")
        }

        out.step("Both sides prove they have the keys", "Finished", tls13 ? "RFC 8446 §4.4.4" : "RFC 5246 §7.4.9")
        if let keys = record.keys {
            for (side, verified) in [("client", keys.clientFinishedVerified), ("server", keys.serverFinishedVerified)] {
                switch verified {
                case true?: out.line("the \(side)'s Finished opened and its verify_data matches the transcript: the keys are right")
                case false?: out.line("the \(side)'s Finished does NOT verify with these keys (keylog-mismatch)")
                case nil: out.line("the \(side)'s Finished was not checked")
                }
            }
            for problem in keys.problems { out.line("  " + problem) }
        } else if record.established {
            out.line("established: each side sent its Finished (verify_data, a MAC over the whole handshake under keys from the "
                + "new secrets), encrypted; checking it needs the keys")
        } else if let alert = record.alert {
            out.line("not established: the \(alert.from.name) sent a \(alert.alert.isFatal ? "fatal" : "warning") \(alert.alert.description.name) alert")
        } else {
            out.line("not established: the connection ended (or the capture did) before both Finished messages")
        }

        out.step("What was on the wire", "messages", nil)
        out.line(record.messages.map(\.name).joined(separator: " → ") + (record.messagesTruncated ? " → …" : ""))
        if !record.anomalies.isEmpty {
            out.line("not seen: " + record.anomalies.map { "\($0.kind.rawValue)\($0.from.map { " (\($0.name))" } ?? ""): \($0.detail)" }.joined(separator: "; "))
        }
        if !record.findings.isEmpty || record.compliance != nil {
            out.step("What an auditor would say", "findings", nil)
            for finding in record.findings { out.line("\(finding.severity.description.padding(8)) \(finding.id): \(finding.message)") }
            if let compliance = record.compliance {
                out.line("Mozilla profiles: " + compliance.verdicts.map { "\($0.profile) \($0.text)" }.joined(separator: ", "))
            }
        }
        return out.text + "\n"
    }

    static func keyExchangeStory(_ record: HandshakeRecord, tls13: Bool) -> String {
        guard let parts = record.cipher else { return "not known: no suite was chosen" }
        let group = record.group?.name ?? "an unnamed group"
        if tls13 {
            if parts.keyExchange == "PSK" {
                return "a pre-shared key alone (resumption without (EC)DHE): no fresh key exchange, so no forward secrecy for this session"
            }
            return "ephemeral (EC)DHE over \(group): each side sent a fresh public key (key_share) and combines it with its own "
                + "private key into the same shared secret, which never crosses the wire; new keys for every connection, "
                + "so recorded traffic stays safe if a long-term key leaks later (forward secrecy)"
                + (parts.keyExchange.hasPrefix("PSK") ? "; mixed with a pre-shared key from an earlier session" : "")
        }
        switch parts.keyExchange {
        case "ECDHE", "DHE", "ECDHE_PSK", "DHE_PSK":
            return "ephemeral \(parts.keyExchange == "DHE" ? "finite-field Diffie-Hellman" : "elliptic-curve Diffie-Hellman") over \(group): "
                + "the server sends its public key in ServerKeyExchange, signed with its certificate's key, the client answers with "
                + "its own in ClientKeyExchange; both derive the pre-master secret, which never crosses the wire (forward secrecy)"
        case "RSA":
            return "RSA key transport: the client picks the pre-master secret and sends it encrypted to the server's certificate "
                + "key in ClientKeyExchange; whoever later gets that private key can decrypt recorded sessions (no forward secrecy)"
        default:
            return "\(parts.keyExchange) key exchange"
        }
    }

    static func certificateStory(_ certificate: CertificateSummary) -> String {
        var text = certificate.subject
        text += " — \(certificate.keyType)" + (certificate.keyBits.map { " \($0)" } ?? "")
            + (certificate.curve.map { " \($0)" } ?? "")
        text += ", signed with \(certificate.signatureAlgorithm) by \(certificate.issuer)"
        text += ", valid \(CivilDate.dateString(epochSeconds: certificate.notBefore)) to \(CivilDate.dateString(epochSeconds: certificate.notAfter))"
        if !certificate.subjectAlternativeNames.isEmpty { text += ", names " + list(certificate.subjectAlternativeNames, limit: 4) }
        if certificate.isSelfSigned { text += " (self-signed)" }
        return text
    }

    static func list(_ items: [String], limit: Int = .max) -> String {
        guard !items.isEmpty else { return "none" }
        let shown = items.prefix(limit).joined(separator: ", ")
        return items.count > limit ? shown + " and \(items.count - limit) more" : shown
    }
}

/// The story's text: a title, numbered steps, indented facts and lines.
struct StoryText {
    var text = ""
    var number = 0

    mutating func title(_ record: HandshakeRecord, version: TLSVersion?) {
        text += "━━ \(record.clientAddress.description):\(record.clientPort) → \(record.serverAddress.description):\(record.serverPort)"
        let protocolName = record.recordProtocol == .quic ? "QUIC" : (version?.name ?? record.recordProtocol.rawValue.uppercased())
        text += "  \(protocolName) over \(record.transport == .tcp ? "TCP" : "UDP")"
        text += "  \(RFC3339.string(nanoseconds: record.firstTimestamp))"
        if let source = record.source, let frames = record.frames {
            text += "  (\(source), frames \(frames.first)–\(frames.last))"
        }
        text += "\n"
        if let startTLS = record.startTLS { text += "   upgraded from cleartext \(startTLS) (STARTTLS)\n" }
    }

    mutating func step(_ title: String, _ message: String, _ reference: String?) {
        number += 1
        text += "\n\(number). \(title) — \(message)" + (reference.map { " (\($0))" } ?? "") + "\n"
    }

    mutating func fact(_ name: String, _ value: String) {
        text += "   " + name.padding(14) + value + "\n"
    }

    mutating func line(_ value: String) {
        text += "   " + value + "\n"
    }
}

extension String {
    /// Padded with spaces to `width` characters (left-aligned).
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
