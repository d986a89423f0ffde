import Fingerprints
import HandshakeAnalysis
import TLSKeys
import PacketDecoding
import TLSAudit
import TLSWire
import X509Inspection

/// Writes records and summaries in the contract's JSON shape (every key present, null when not seen).
public enum RecordEncoder {
    public static func encode(_ record: HandshakeRecord, into json: inout JSONWriter) {
        var cache: FragmentCache?
        encode(record, into: &json, cache: &cache)
    }

    /// `cache`: the stream's cache of repeating parts (compact output only; nil encodes everything).
    public static func encode(_ record: HandshakeRecord, into json: inout JSONWriter, cache: inout FragmentCache?) {
        json.beginObject()
        json.key("type"); json.string("tls")
        json.key("ts"); json.string(RFC3339.string(nanoseconds: record.firstTimestamp))
        json.key("duration"); json.double(record.duration, fractionDigits: 6)
        json.key("transport"); json.string(record.transport == .tcp ? "tcp" : "udp")
        json.key("protocol"); json.string(record.recordProtocol.rawValue)
        json.key("client_ip"); json.string(record.clientAddress.description)
        json.key("client_port"); json.int(Int(record.clientPort))
        json.key("server_ip"); json.string(record.serverAddress.description)
        json.key("server_port"); json.int(Int(record.serverPort))
        json.key("starttls"); json.string(record.startTLS)
        json.key("version"); json.string(record.version?.name)
        json.key("cipher_suite"); json.string(record.cipherSuite?.name)
        json.key("cipher")
        if let parts = record.cipher {
            json.beginObject()
            json.key("key_exchange"); json.string(parts.keyExchange)
            json.key("authentication"); json.string(parts.authentication)
            json.key("encryption"); json.string(parts.encryption)
            json.key("encryption_bits"); json.int(parts.encryptionBits)
            json.key("mac"); json.string(parts.mac)
            json.endObject()
        } else {
            json.null()
        }
        json.key("messages")
        if cache != nil { cache?.writeMessages(record.messages, into: &json) } else { encode(record.messages, into: &json) }
        json.key("group"); json.string(record.group?.name)
        json.key("server_name"); json.string(record.serverName)
        json.key("alpn")
        if let alpn = record.alpn { json.string(bytes: alpn) } else { json.null() }
        json.key("resumed"); json.bool(record.resumed)
        json.key("established"); json.bool(record.established)
        json.key("alert")
        if let sighting = record.alert {
            json.beginObject()
            json.key("from"); json.string(sighting.from.name)
            json.key("level"); json.string(sighting.alert.isFatal ? "fatal" : "warning")
            json.key("description"); json.string(sighting.alert.description.name)
            json.endObject()
        } else {
            json.null()
        }
        json.key("client_hello")
        if let hello = record.clientHello { encode(hello, into: &json, cache: &cache) } else { json.null() }
        json.key("server_hello")
        if let hello = record.serverHello ?? record.helloRetryRequest {
            encode(hello, helloRetryRequest: record.helloRetryRequest != nil, into: &json, cache: &cache)
        } else {
            json.null()
        }
        json.key("certificates")
        if cache != nil { cache?.writeChain(record.certificates, into: &json) } else { encode(record.certificates, into: &json) }
        json.key("client_certificates"); encode(record.clientCertificates, into: &json)
        json.key("ja3"); json.string(record.ja3?.hash)
        json.key("ja3_string"); json.string(record.ja3?.string)
        json.key("ja3s"); json.string(record.ja3s?.hash)
        json.key("ja3s_string"); json.string(record.ja3s?.string)
        json.key("ja4"); json.string(record.ja4?.fingerprint)
        json.key("ja4_r"); json.string(record.ja4?.raw)
        json.key("ja4_o"); json.string(record.ja4?.originalOrder)
        json.key("ja4_ro"); json.string(record.ja4?.rawOriginalOrder)
        json.key("findings")
        json.beginArray()
        for finding in record.findings {
            json.beginObject()
            json.key("id"); json.string(finding.id)
            json.key("severity"); json.string(finding.severity.description)
            json.key("message"); json.string(finding.message)
            json.endObject()
        }
        json.endArray()
        json.key("compliance")
        if let compliance = record.compliance {
            json.beginObject()
            for verdict in compliance.verdicts {
                json.key(dynamic: verdict.profile); json.string(verdict.text)
            }
            json.endObject()
        } else {
            json.null()
        }
        json.key("anomalies")
        json.beginArray()
        for anomaly in record.anomalies {
            json.beginObject()
            json.key("kind"); json.string(anomaly.kind.rawValue)
            json.key("from"); json.string(anomaly.from?.name)
            json.key("detail"); json.string(anomaly.detail)
            json.endObject()
        }
        json.endArray()
        json.key("source"); json.string(record.source)
        json.key("frames")
        if let frames = record.frames {
            json.beginObject()
            json.key("first"); json.int(Int(clamping: frames.first))
            json.key("last"); json.int(Int(clamping: frames.last))
            json.endObject()
        } else {
            json.null()
        }
        json.key("packets"); json.int(record.packets)
        json.key("bytes"); json.int(record.bytes)
        json.key("community_id"); json.string(record.communityID)
        json.key("quic")
        if let quic = record.quic {
            json.beginObject()
            json.key("version"); json.string(quic.version)
            json.key("client_dcid"); json.hexString(bytes: quic.clientDestinationConnectionID)
            json.key("client_scid")
            if let id = quic.clientSourceConnectionID { json.hexString(bytes: id) } else { json.null() }
            json.key("server_scid")
            if let id = quic.serverSourceConnectionID { json.hexString(bytes: id) } else { json.null() }
            json.key("retry"); json.bool(quic.retry)
            json.endObject()
        } else {
            json.null()
        }
        json.key("keys")
        if let keys = record.keys { encode(keys, into: &json) } else { json.null() }
        json.endObject()
    }

    /// The record's `keys` (docs/keylog.md): where the keys came from, the derivation, the Finished proof.
    static func encode(_ keys: KeysSummary, into json: inout JSONWriter) {
        json.beginObject()
        json.key("source"); json.string(keys.source.rawValue)
        json.key("steps")
        json.beginArray()
        for step in keys.steps {
            json.beginObject()
            json.key("from"); json.string(step.from)
            json.key("to"); json.string(step.to)
            json.key("function"); json.string(step.function)
            json.key("key_length"); json.int(step.keyLength)
            json.key("iv_length"); json.int(step.ivLength)
            json.endObject()
        }
        json.endArray()
        json.key("finished_verified")
        json.beginObject()
        json.key("client"); json.bool(keys.clientFinishedVerified)
        json.key("server"); json.bool(keys.serverFinishedVerified)
        json.endObject()
        json.key("certificate_verify")
        json.beginObject()
        for (side, check) in [("server", keys.serverCertificateVerify), ("client", keys.clientCertificateVerify)] {
            json.key(dynamic: side)
            if let check {
                json.beginObject()
                json.key("scheme"); json.string(check.scheme)
                json.key("verified"); json.bool(check.verified)
                json.endObject()
            } else {
                json.null()
            }
        }
        json.endObject()
        json.key("problems")
        json.beginArray()
        for problem in keys.problems { json.string(problem) }
        json.endArray()
        json.key("secrets")
        if let secrets = keys.secrets {
            json.beginObject()
            for secret in secrets {
                json.key(dynamic: secret.label); json.hexString(bytes: secret.value)
            }
            json.endObject()
        } else {
            json.null()
        }
        json.endObject()
    }

    static func encode(_ hello: ClientHello, into json: inout JSONWriter) {
        var cache: FragmentCache?
        encode(hello, into: &json, cache: &cache)
    }

    static func encode(_ hello: ClientHello, into json: inout JSONWriter, cache: inout FragmentCache?) {
        json.beginObject()
        json.key("version"); json.string(hello.version.name)
        json.key("random"); json.hexString(bytes: hello.random)
        json.key("session_id"); json.hexString(bytes: hello.sessionID)
        if cache != nil { cache?.writeOffer(hello, into: &json) } else { encodeOffer(hello, into: &json) }
        json.key("server_name"); json.string(hello.serverName)
        if cache != nil { cache?.writeLists(hello, into: &json) } else { encodeLists(hello, into: &json) }
        json.endObject()
    }

    /// client_hello's members from cipher_suites to extensions.
    static func encodeOffer(_ hello: ClientHello, into json: inout JSONWriter) {
        json.key("cipher_suites"); json.beginArray()
        for suite in hello.cipherSuites { json.string(suite.name) }
        json.endArray()
        json.key("compression_methods"); json.beginArray()
        for method in hello.compressionMethods { json.string(RegistryName.compressionMethod(method)) }
        json.endArray()
        json.key("extensions"); json.beginArray()
        for ext in hello.extensions { json.string(ext.type.name) }
        json.endArray()
    }

    /// client_hello's members from alpn to ech.
    static func encodeLists(_ hello: ClientHello, into json: inout JSONWriter) {
        json.key("alpn"); json.beginArray()
        for protocolName in hello.alpn { json.string(bytes: protocolName) }
        json.endArray()
        json.key("supported_versions"); json.beginArray()
        for version in hello.supportedVersions { json.string(version.name) }
        json.endArray()
        json.key("groups"); json.beginArray()
        for group in hello.supportedGroups { json.string(group.name) }
        json.endArray()
        json.key("ec_point_formats"); json.beginArray()
        for format in hello.ecPointFormats { json.string(RegistryName.ecPointFormat(format)) }
        json.endArray()
        json.key("signature_algorithms"); json.beginArray()
        for scheme in hello.signatureAlgorithms { json.string(scheme.name) }
        json.endArray()
        json.key("key_share_groups"); json.beginArray()
        for group in hello.keyShareGroups { json.string(group.name) }
        json.endArray()
        json.key("psk_modes"); json.beginArray()
        for mode in hello.pskModes { json.string(RegistryName.pskKeyExchangeMode(mode)) }
        json.endArray()
        json.key("ech"); json.bool(hello.hasECH)
    }

    /// `helloRetryRequest`: the server sent one in this handshake (it stays true when a real ServerHello
    /// followed, whose fields these are).
    static func encode(
        _ hello: ServerHello, helloRetryRequest: Bool, into json: inout JSONWriter, cache: inout FragmentCache?
    ) {
        json.beginObject()
        json.key("version"); json.string(hello.version.name)
        json.key("random"); json.hexString(bytes: hello.random)
        json.key("session_id"); json.hexString(bytes: hello.sessionID)
        if cache != nil {
            cache?.writeServerChoices(hello, helloRetryRequest: helloRetryRequest, into: &json)
        } else {
            encodeChoices(hello, helloRetryRequest: helloRetryRequest, into: &json)
        }
        json.endObject()
    }

    /// server_hello's members from cipher_suite to hello_retry_request.
    static func encodeChoices(_ hello: ServerHello, helloRetryRequest: Bool, into json: inout JSONWriter) {
        json.key("cipher_suite"); json.string(hello.cipherSuite.name)
        json.key("compression_method"); json.string(RegistryName.compressionMethod(hello.compressionMethod))
        json.key("extensions"); json.beginArray()
        for ext in hello.extensions { json.string(ext.type.name) }
        json.endArray()
        json.key("selected_version"); json.string(hello.selectedVersion?.name)
        json.key("selected_group"); json.string(hello.selectedGroup?.name)
        json.key("alpn")
        if let alpn = hello.alpn { json.string(bytes: alpn) } else { json.null() }
        json.key("hello_retry_request"); json.bool(helloRetryRequest || hello.isHelloRetryRequest)
    }

    /// A messages array: each step as "client:client_hello".
    static func encode(_ steps: [HandshakeStep], into json: inout JSONWriter) {
        json.beginArray()
        for step in steps { json.string(step.name) }
        json.endArray()
    }

    static func encode(_ certificates: [CertificateSummary], into json: inout JSONWriter) {
        json.beginArray()
        for certificate in certificates {
            json.beginObject()
            json.key("sha256"); json.string(certificate.sha256)
            json.key("subject"); json.string(certificate.subject)
            json.key("issuer"); json.string(certificate.issuer)
            json.key("serial"); json.string(certificate.serial)
            json.key("not_before"); json.string(RFC3339.string(seconds: certificate.notBefore))
            json.key("not_after"); json.string(RFC3339.string(seconds: certificate.notAfter))
            json.key("key_type"); json.string(certificate.keyType)
            json.key("key_bits")
            if let bits = certificate.keyBits { json.int(bits) } else { json.null() }
            json.key("curve"); json.string(certificate.curve)
            json.key("signature_algorithm"); json.string(certificate.signatureAlgorithm)
            json.key("san"); json.beginArray()
            for name in certificate.subjectAlternativeNames { json.string(name) }
            json.endArray()
            json.key("self_signed"); json.bool(certificate.isSelfSigned)
            json.endObject()
        }
        json.endArray()
    }

    /// The summary object; `type: "summary"` is written for the ndjson form.
    public static func encode(_ summary: RunSummary, includeType: Bool, into json: inout JSONWriter) {
        json.beginObject()
        if includeType { json.key("type"); json.string("summary") }
        json.key("files"); json.int(summary.files)
        json.key("packets"); json.int(summary.packets)
        json.key("bytes"); json.int(summary.bytes)
        json.key("connections"); json.int(summary.connections)
        json.key("tls_connections"); json.int(summary.tlsConnections)
        json.key("established"); json.int(summary.established)
        json.key("versions"); encode(summary.versions, into: &json)
        json.key("cipher_suites"); encode(summary.cipherSuites, into: &json)
        json.key("groups"); encode(summary.groups, into: &json)
        json.key("alpn"); encode(summary.alpn, into: &json)
        json.key("findings"); json.beginObject()
        for severity in Severity.allCases.reversed() {
            if let count = summary.findings[severity] {
                json.key(dynamic: severity.description); json.int(count)
            }
        }
        json.endObject()
        json.key("anomalies"); encode(summary.anomalies, into: &json)
        json.key("frames_undecodable"); encode(summary.framesUndecodable, into: &json)
        let flows = summary.reassembly
        json.key("flows"); json.beginObject()
        json.key("evicted"); json.int(flows.flowsEvicted)
        json.key("timed_out"); json.int(flows.flowsTimedOut)
        json.key("reused"); json.int(flows.flowsReused)
        json.key("rst_ignored"); json.int(flows.rstIgnored)
        json.key("gaps"); json.int(flows.gaps)
        json.key("gap_bytes"); json.int(flows.gapBytes)
        json.endObject()
        json.key("ip_fragments"); json.beginObject()
        json.key("fragments"); json.int(flows.fragments)
        json.key("reassembled"); json.int(flows.datagramsReassembled)
        json.key("dropped"); json.int(flows.datagramsDropped)
        json.endObject()
        json.key("errors"); json.beginArray()
        for error in summary.errors { json.string(error) }
        json.endArray()
        json.key("elapsed_seconds"); json.double(summary.elapsedSeconds, fractionDigits: 3)
        if let audit = summary.audit {
            json.key("audit"); encode(audit, policy: summary.policyName, into: &json)
        }
        if let capture = summary.capture {
            json.key("capture"); json.beginObject()
            json.key("interface"); json.string(capture.interface)
            json.key("received"); json.int(Int(clamping: capture.received))
            json.key("dropped"); json.int(Int(clamping: capture.dropped))
            json.key("interface_dropped"); json.int(Int(clamping: capture.interfaceDropped))
            json.key("records_dropped"); json.int(Int(clamping: capture.recordsDropped))
            json.endObject()
        }
        json.endObject()
    }

    /// The audit summary: servers and client fingerprints, worst first.
    static func encode(_ audit: AuditSummary, policy: String?, into json: inout JSONWriter) {
        json.beginObject()
        json.key("policy"); json.string(policy)
        json.key("worst"); json.string(audit.worst?.description)
        json.key("by_finding"); json.beginArray()
        for rollup in audit.rollups {
            json.beginObject()
            json.key("id"); json.string(rollup.id)
            json.key("severity"); json.string(rollup.severity.description)
            json.key("connections"); json.int(rollup.connections)
            json.key("servers"); json.int(rollup.servers)
            json.key("clients"); json.int(rollup.clients)
            json.key("example_servers"); json.beginArray()
            for server in rollup.examples {
                json.beginObject()
                json.key("server_ip"); json.string(server.address)
                json.key("server_port"); json.int(server.port)
                json.key("server_name"); json.string(server.serverName)
                json.endObject()
            }
            json.endArray()
            json.key("example"); json.string(rollup.example)
            json.key("remediation"); json.string(FindingCatalog.remediation(of: rollup.id))
            json.endObject()
        }
        json.endArray()
        json.key("suppressed"); json.beginObject()
        for (id, count) in audit.suppressed.sorted(by: { $0.key < $1.key }) {
            json.key(dynamic: id); json.int(count)
        }
        json.endObject()
        json.key("profiles"); json.beginObject()
        for share in audit.profileShares {
            json.key(dynamic: share.profile); json.beginObject()
            json.key("servers"); json.int(share.servers)
            json.key("servers_passing"); json.int(share.serversPassing)
            json.key("connections"); json.int(share.connections)
            json.key("connections_passing"); json.int(share.connectionsPassing)
            json.endObject()
        }
        json.endObject()
        json.key("servers"); json.beginArray()
        for group in audit.servers {
            json.beginObject()
            json.key("server_ip"); json.string(group.key.address)
            json.key("server_port"); json.int(group.key.port)
            json.key("server_name"); json.string(group.key.serverName)
            encodeTallies(group.connections, group.worst, group.findings, into: &json)
            // What `tlsscope report` needs to merge this summary with others: each profile's failing
            // connections, and where the server was first seen.
            json.key("failing"); json.beginObject()
            for (index, profile) in Compliance.profiles.enumerated() {
                json.key(dynamic: profile.name); json.int(group.failing[index])
            }
            json.endObject()
            json.key("source"); json.string(group.source)
            json.key("frame")
            if let frame = group.frame { json.int(Int(clamping: frame)) } else { json.null() }
            json.endObject()
        }
        json.endArray()
        json.key("clients"); json.beginArray()
        for group in audit.clients {
            json.beginObject()
            json.key("fingerprint"); json.string(group.key)
            encodeTallies(group.connections, group.worst, group.findings, into: &json)
            json.endObject()
        }
        json.endArray()
        json.endObject()
    }

    private static func encodeTallies(
        _ connections: Int, _ worst: Severity?, _ tallies: [AuditSummary.Tally], into json: inout JSONWriter
    ) {
        json.key("connections"); json.int(connections)
        json.key("worst"); json.string(worst?.description)
        json.key("findings"); json.beginArray()
        for tally in tallies {
            json.beginObject()
            json.key("id"); json.string(tally.id)
            json.key("severity"); json.string(tally.severity.description)
            json.key("count"); json.int(tally.count)
            json.key("example"); json.string(tally.example)
            json.endObject()
        }
        json.endArray()
    }

    static func encode(_ table: CountTable, into json: inout JSONWriter) {
        json.beginObject()
        for (name, count) in table.sorted {
            json.key(dynamic: name); json.int(count)
        }
        json.endObject()
    }
}
