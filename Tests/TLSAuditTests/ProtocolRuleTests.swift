import TLSWire
import Testing

@testable import TLSAudit

@Suite struct BaselineTests {
    @Test func cleanTLS12IsCleanUnderIntermediateAndOld() {
        #expect(ids(tls12()) == ["pq-not-offered"])
        #expect(ids(tls12(), .old) == ["pq-not-offered"])
    }

    @Test func cleanTLS13IsCleanUnderEveryBuiltIn() {
        #expect(ids(tls13(), .modern) == ["pq-negotiated"])
        #expect(ids(tls13()) == ["pq-negotiated"])
        // Mozilla 5.8 old wants RSA certificates.
        #expect(ids(tls13(), .old) == ["policy-cert", "pq-negotiated"])
    }

    @Test func modernRejectsWhatIntermediateAccepts() {
        // TLS 1.2, a TLS 1.2 suite, an RSA leaf and a 330-day certificate: all outside Mozilla modern.
        let found = audit(tls12(), policy: .modern)
        #expect(
            found.map(\.id) == ["policy-cert", "policy-cipher", "policy-version", "cert-lifetime", "pq-not-offered"])
        #expect(
            found.first { $0.id == "policy-version" }?.message
                == "server negotiated TLS 1.2, which policy modern does not allow")
    }

    @Test func nothingToAuditGivesNothing() {
        #expect(audit(AuditInput(captureTime: now), policy: .intermediate).isEmpty)
    }
}

@Suite struct VersionTests {
    @Test(arguments: [
        (TLSVersion.ssl3, "version-ssl3", Severity.critical, Severity.critical, Severity.critical),
        (.tls10, "version-tls10", .high, .high, .low),
        (.tls11, "version-tls11", .high, .high, .low),
        (.dtls10, "version-dtls10", .high, .high, .low),
    ])
    func deprecatedVersions(version: TLSVersion, id: String, modern: Severity, intermediate: Severity, old: Severity) {
        let input = tls12(version: version)
        #expect(finding(id, input, .modern)?.severity == modern)
        #expect(finding(id, input, .intermediate)?.severity == intermediate)
        #expect(finding(id, input, .old)?.severity == old)
        // The specific id replaces policy-version.
        #expect(finding("policy-version", input, .modern) == nil)
    }

    @Test func messagesCiteTheRFC() {
        #expect(
            finding("version-tls10", tls12(version: .tls10))?.message
                == "server negotiated TLS 1.0 (RFC 8996 deprecates it)")
        #expect(
            finding("version-ssl2", tls12(version: .ssl2))?.message
                == "server negotiated SSL 2.0 (RFC 6176 prohibits it)")
    }

    @Test func dtlsCountsAsItsTLSVersion() {
        #expect(!ids(tls12(version: .dtls12)).contains("policy-version"))
        #expect(ids(tls12(version: .dtls12), .modern).contains("policy-version"))
    }

    @Test func draftVersionIsAPolicyViolation() {
        #expect(ids(tls12(version: TLSVersion(rawValue: 0x7f17))).contains("policy-version"))
    }
}

@Suite struct ExtensionRuleTests {
    @Test func compression() {
        let found = finding("compression", tls12(compressionMethod: 1))
        #expect(found?.severity == .high)
        #expect(found?.message == "server selected DEFLATE compression (CRIME, CVE-2012-4929)")
        #expect(finding("compression", tls12()) == nil)
    }

    @Test func missingRenegotiationInfo() {
        let bare = tls12(serverExtensions: [])
        #expect(finding("no-secure-renegotiation", bare)?.severity == .medium)
        #expect(finding("no-secure-renegotiation", bare, .old)?.severity == .low)
        #expect(finding("no-secure-renegotiation", tls12()) == nil)
        // TLS 1.3 has no renegotiation.
        #expect(finding("no-secure-renegotiation", tls13()) == nil)
    }

    @Test func renegotiationMessageNotesTheClientsSCSV() {
        let input = tls12(serverExtensions: [], clientSuites: [0xc02f, 0x00ff])
        #expect(
            finding("no-secure-renegotiation", input)?.message
                == "server hello has no renegotiation_info (RFC 5746) although the client signalled support")
    }

    @Test func heartbeatExtensionFromTheServerHello() {
        let input = tls12(serverExtensions: [renegotiationInfo, TLSExtension(type: .heartbeat, body: [1])])
        #expect(input.heartbeatNegotiated)
        #expect(finding("heartbeat", input)?.severity == .low)
        #expect(finding("heartbeat", tls12()) == nil)
    }
}

@Suite struct HeartbeatRecordTests {
    typealias Record = AuditInput.HeartbeatRecord

    func with(_ records: [Record]) -> AuditInput {
        var input = tls12()
        input.heartbeatRecords = records
        return input
    }

    @Test func classicHeartbleed() {
        // A 3-byte request claiming 16 KiB, answered by a 16 KiB response (CVE-2014-0160).
        let input = with([
            Record(type: 1, payloadLength: 16384, recordLength: 3, fromClient: true),
            Record(type: 2, payloadLength: 16384, recordLength: 16403, fromClient: false),
        ])
        let found = audit(input, policy: .old)
        #expect(found.first?.id == "heartbleed")
        #expect(found.first?.severity == .critical)
        #expect(
            found.first?.message
                == "server heartbeat response of 16403 bytes answered a 3-byte request (Heartbleed, CVE-2014-0160)")
        #expect(found.contains { $0.id == "heartbleed-probe" && $0.severity == .high })
    }

    @Test func matchedHeartbeatIsFine() {
        let input = with([
            Record(type: 1, payloadLength: 16, recordLength: 35, fromClient: true),
            Record(type: 2, payloadLength: 16, recordLength: 35, fromClient: false),
        ])
        #expect(!ids(input).contains("heartbleed"))
        #expect(!ids(input).contains("heartbleed-probe"))
    }

    @Test func encryptedRecordsCompareByLength() {
        let same = with([
            Record(type: nil, payloadLength: nil, recordLength: 64, fromClient: true),
            Record(type: nil, payloadLength: nil, recordLength: 64, fromClient: false),
        ])
        #expect(!ids(same).contains("heartbleed"))
        let bigger = with([
            Record(type: nil, payloadLength: nil, recordLength: 64, fromClient: true),
            Record(type: nil, payloadLength: nil, recordLength: 65, fromClient: false),
        ])
        #expect(ids(bigger).contains("heartbleed"))
    }

    @Test func responseWithoutRequestIsNotHeartbleed() {
        #expect(
            !ids(with([Record(type: 2, payloadLength: 16, recordLength: 5000, fromClient: false)])).contains(
                "heartbleed"))
    }
}

@Suite struct OutcomeTests {
    @Test func fatalAlert() {
        var input = tls12()
        input.established = false
        input.alert = Alert(level: 2, description: AlertDescription(rawValue: 40))
        input.alertFrom = .server
        let found = finding("alert-fatal", input)
        #expect(found?.severity == .low)
        #expect(found?.message == "server sent fatal alert handshake_failure during the handshake")
    }

    @Test func warningAlertIsNotAFinding() {
        var input = tls12()
        input.alert = Alert(level: 1, description: AlertDescription(rawValue: 0))
        #expect(!ids(input).contains("alert-fatal"))
    }

    @Test func truncatedHandshake() {
        var input = tls12()
        input.established = false
        input.handshakeIncomplete = true
        #expect(finding("handshake-incomplete", input)?.severity == .low)
        #expect(!ids(tls12()).contains("handshake-incomplete"))
    }
}

@Suite struct ClientOfferTests {
    @Test func weakSuitesOfferedEvenThoughTheServerChoseWell() {
        let input = tls12(clientSuites: [0xc02f, 0x0005, 0x000a, 0x0a0a])
        let found = finding("client-offers-weak", input)
        #expect(found?.severity == .medium)
        #expect(
            found?.message == "client offered 2 weak suites (TLS_RSA_WITH_RC4_128_SHA, TLS_RSA_WITH_3DES_EDE_CBC_SHA)")
        // Under old, 3DES is only medium, RC4 still critical.
        #expect(
            finding("client-offers-weak", input, .old)?.message
                == "client offered 1 weak suite (TLS_RSA_WITH_RC4_128_SHA)")
    }

    @Test func staticRSAOffersAreNotReported() {
        // Every browser still offers TLS_RSA_WITH_AES_128_GCM_SHA256; the Finished MAC stops a downgrade to it.
        #expect(!ids(tls12(clientSuites: [0xc02f, 0x009c, 0x002f])).contains("client-offers-weak"))
    }

    @Test func weakVersionsOffered() {
        let input = tls12(supportedVersions: [.tls13, .tls12, .tls11, .tls10])
        #expect(finding("client-offers-weak", input)?.message == "client offered TLS 1.1, TLS 1.0")
        #expect(finding("client-offers-weak", input, .old) == nil)
        let legacyOnly = tls12(version: .tls10, clientVersion: .tls10)
        #expect(finding("client-offers-weak", legacyOnly)?.message == "client offered TLS 1.0")
    }

    @Test func longListsAreCut() {
        let input = tls12(clientSuites: [0x0004, 0x0005, 0x0009, 0x000a, 0x0003, 0x0006])
        #expect(finding("client-offers-weak", input)?.message.hasSuffix(" and 2 more)") == true)
    }
}

@Suite struct PostQuantumTests {
    @Test func hybridNegotiated() {
        #expect(
            finding("pq-negotiated", tls13())?.message == "server chose post-quantum hybrid key exchange X25519MLKEM768"
        )
        #expect(finding("pq-negotiated", tls13())?.severity == .info)
    }

    @Test func offeredButClassicalChosen() {
        let found = finding("pq-offered-not-selected", tls13(group: 0x001d))
        #expect(found?.severity == .low)
        #expect(found?.message == "client offered X25519MLKEM768 but the server chose x25519")
        #expect(finding("pq-offered-not-selected", tls13(group: 0x001d), .old)?.severity == .info)
    }

    @Test func notOffered() {
        let input = tls13(group: 0x001d, clientGroups: [0x001d, 0x0017], keyShares: [0x001d])
        #expect(ids(input) == ["pq-not-offered"])
    }

    @Test func obsoleteKyberDraft() {
        let offered = tls13(group: 0x001d, clientGroups: [0x6399, 0x001d], keyShares: [0x6399])
        #expect(finding("pq-obsolete-draft", offered)?.severity == .medium)
        #expect(
            finding("pq-obsolete-draft", offered)?.message
                == "client offered X25519Kyber768Draft00, an obsolete pre-standard Kyber code point")
        let selected = tls13(group: 0x6399, clientGroups: [0x6399, 0x001d], keyShares: [0x6399])
        #expect(ids(selected) == ["pq-obsolete-draft", "pq-negotiated"])
    }

    @Test func serverHelloMissingMeansNoVerdictOnSelection() {
        var input = tls13(group: 0x001d)
        input.serverHello = nil
        #expect(!ids(input).contains("pq-offered-not-selected"))
    }
}

@Suite struct SortingTests {
    @Test func worstFirstThenByIDAndEachIDOnce() {
        // Two weak RSA keys (one under 1024) and a 3DES static-RSA suite.
        let input = tls12(
            suite: 0x000a, group: nil,
            certificates: [certificate(bits: 2047), certificate(bits: 1000, subject: "CN=Weak CA")])
        let found = audit(input, policy: .intermediate)
        #expect(
            found.map(\.id) == [
                "cert-key-weak", "cipher-3des", "no-forward-secrecy", "cipher-cbc", "cipher-sha1-mac", "pq-not-offered",
            ])
        #expect(found.first?.severity == .critical)
        #expect(found.first?.message == "chain certificate 2 (CN=Weak CA) has a 1000-bit RSA key (< 2048)")
        #expect(Set(found.map(\.id)).count == found.count)
    }
}
