import QUICWire
import TLSAudit
import TLSKeys
import TLSWire
import X509Inspection

/// The record's `keys`: where the keys came from, how the schedule derived the traffic keys, and whether each
/// Finished verified with them (the proof they are the connection's keys).
public struct KeysSummary: Sendable, Hashable {
    public var source: KeyLog.Source
    public var steps: [KeyProof.Step]
    /// nil: not checked (its record was not captured, or the cipher is not one tlsscope opens).
    public var clientFinishedVerified: Bool?
    public var serverFinishedVerified: Bool?
    /// Why something could not be opened or checked.
    public var problems: [String]
    /// The secrets the log held for the connection, by label (only with `--show-secrets`; sensitive).
    public var secrets: [(label: String, value: [UInt8])]?
    /// TLS 1.3: each side's CertificateVerify, its scheme and whether the signature verifies with the leaf
    /// certificate's key (nil: not checked); nil when none was sent or opened.
    public struct SignatureCheck: Sendable, Hashable {
        public var scheme: String
        public var verified: Bool?
        public init(scheme: String, verified: Bool?) {
            self.scheme = scheme
            self.verified = verified
        }
    }
    public var serverCertificateVerify: SignatureCheck?
    public var clientCertificateVerify: SignatureCheck?

    public init(
        source: KeyLog.Source, steps: [KeyProof.Step], clientFinishedVerified: Bool?, serverFinishedVerified: Bool?,
        problems: [String], secrets: [(label: String, value: [UInt8])]? = nil
    ) {
        self.source = source
        self.steps = steps
        self.clientFinishedVerified = clientFinishedVerified
        self.serverFinishedVerified = serverFinishedVerified
        self.problems = problems
        self.secrets = secrets
    }

    public static func == (lhs: KeysSummary, rhs: KeysSummary) -> Bool {
        lhs.source == rhs.source && lhs.steps == rhs.steps && lhs.clientFinishedVerified == rhs.clientFinishedVerified
            && lhs.serverFinishedVerified == rhs.serverFinishedVerified && lhs.problems == rhs.problems
            && lhs.serverCertificateVerify == rhs.serverCertificateVerify
            && lhs.clientCertificateVerify == rhs.clientCertificateVerify
            && lhs.secrets?.map(\.label) == rhs.secrets?.map(\.label)
            && lhs.secrets?.map(\.value) == rhs.secrets?.map(\.value)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(source)
        hasher.combine(steps)
        hasher.combine(clientFinishedVerified)
        hasher.combine(serverFinishedVerified)
    }

    /// The `keylog-mismatch` finding's message when keys were given but a Finished did not verify (nil
    /// otherwise). Built from the record's own values, so a record read back gives the same text.
    public var mismatchMessage: String? {
        let failed = [("client", clientFinishedVerified), ("server", serverFinishedVerified)].filter { $0.1 == false }
        guard !failed.isEmpty else { return nil }
        let whose = failed.map { "the \($0.0)'s" }.joined(separator: " and ")
        return "keys from the \(source == .pcapng ? "capture's secrets block" : "key log") do not verify \(whose) Finished"
    }
}

/// A session's place in the run's key log. Its parsers keep their handshake bytes from the start; once the
/// ClientHello's random is known, a connection the log has no secrets for stops keeping them, so memory
/// follows the log's connections, not the capture's (a followed log, live, is asked again at the end).
struct KeyMatch {
    let log: SharedKeyLog
    var secrets: KeyLog.Secrets?
    var decided = false

    /// The look-up once the hellos tell: `clientRandom` when a ClientHello was seen, `over` when none will be
    /// (a ServerHello came first, or the handshake is over). Returns whether the bytes are still worth keeping.
    mutating func decide(clientRandom: [UInt8]?, over: Bool) -> Bool {
        guard !decided else { return secrets != nil || log.follows }
        if let clientRandom {
            secrets = log.secrets(clientRandom: clientRandom)
            decided = true
        } else if over {
            decided = true
        } else {
            return true
        }
        return secrets != nil || log.follows
    }

    /// The secrets, asking a followed log once more (its lines may have been written since the ClientHello).
    func finalSecrets(clientRandom: [UInt8]?) -> KeyLog.Secrets? {
        if let secrets { return secrets }
        guard log.follows, let clientRandom else { return nil }
        return log.secrets(clientRandom: clientRandom)
    }
}

/// What a session kept of a handshake whose ClientHello random is in the key log: the bytes to open and the
/// secrets to open them with. A reference, so that every `EndedConnection` (most have none) carries 8 bytes
/// for it, not the value's ~150 (callgrind: a larger ended connection cost every record on both threads).
final class KeyEvidence: Sendable {
    let capture: HandshakeCapture
    let secrets: KeyLog.Secrets
    /// The parsers' caps cut what was kept (a Finished may be missing for it).
    let overCap: Bool

    init(capture: HandshakeCapture, secrets: KeyLog.Secrets, overCap: Bool) {
        self.capture = capture
        self.secrets = secrets
        self.overCap = overCap
    }

    var estimatedBytes: Int {
        (capture.quic?.byteCount ?? 0) + (capture.clientMessages + capture.serverMessages).reduce(64) { $0 + 32 + $1.count }
            + (capture.clientProtected + capture.serverProtected).reduce(0) { $0 + 64 + $1.payload.count }
    }
}

extension EndedConnection {
    /// Opens the kept handshake with its secrets (`HandshakeOpener`): the record gains `keys`; a TLS 1.3
    /// handshake's certificates (server and client), ALPN choice and encrypted messages come out of it, so the
    /// certificate findings apply to them. Runs before the certificates are summarised.
    mutating func openWithKeys(showSecrets: Bool) {
        guard let evidence = keyEvidence else { return }
        keyEvidence = nil
        var problems: [String] = []
        guard let version = record.version, let suite = record.cipherSuite else {
            record.keys = KeysSummary(
                source: evidence.secrets.source, steps: [], clientFinishedVerified: nil, serverFinishedVerified: nil,
                problems: ["no ServerHello was seen: the suite to open the records with is unknown"],
                secrets: showSecrets ? Self.listed(evidence.secrets) : nil)
            return
        }
        let proof = HandshakeOpener.open(version: version, suite: suite, capture: evidence.capture, secrets: evidence.secrets)
        problems += proof.problems
        if evidence.overCap {
            problems.append(
                evidence.capture.quic == nil
                    ? "only the first \(KeptHandshakeBytes.maxProtectedRecords) protected records and "
                        + "\(KeptHandshakeBytes.maxBytes / 1024) KiB of each side were kept"
                    : "only the first \(KeptQUICHandshake.maxPackets) Handshake packets and "
                        + "\(KeptQUICHandshake.maxBytes / 1024) KiB were kept")
        }
        for (side, messages) in [("server", proof.serverMessages), ("client", proof.clientMessages)]
        where messages.contains(where: { $0.type.rawValue == 25 }) {
            // RFC 8879: Chrome and Cloudflare compress the chain (brotli); tlsscope does not decompress it yet.
            problems.append("the \(side)'s certificate chain is compressed (RFC 8879 CompressedCertificate): not read")
        }
        if version.isTLS13Family {
            takeOpenedMessages(server: proof.serverMessages, client: proof.clientMessages)
        } else {
            // A verified TLS 1.0-1.2 Finished is listed as what it is.
            if proof.clientFinishedVerified == true { nameEncryptedStep(of: .client, [.finished]) }
            if proof.serverFinishedVerified == true { nameEncryptedStep(of: .server, [.finished]) }
        }
        // RFC 8446 §4.4.3: the CertificateVerify signs the transcript with the leaf's private key.
        func check(_ input: KeyProof.SignatureInput?, chain: [[UInt8]], side: String) -> KeysSummary.SignatureCheck? {
            guard let input else { return nil }
            let verified = chain.first.flatMap {
                handshakeSignatureVerifies(
                    certificate: $0, scheme: input.scheme.rawValue, signature: input.signature, content: input.content)
            }
            if verified == false {
                problems.append("the \(side)'s CertificateVerify signature does not verify with its certificate's key")
            }
            return KeysSummary.SignatureCheck(scheme: input.scheme.description, verified: verified)
        }
        let serverSignature = check(proof.serverCertificateVerify, chain: serverChain, side: "server")
        let clientSignature = check(proof.clientCertificateVerify, chain: clientChain, side: "client")
        var keys = KeysSummary(
            source: evidence.secrets.source, steps: proof.steps, clientFinishedVerified: proof.clientFinishedVerified,
            serverFinishedVerified: proof.serverFinishedVerified, problems: problems,
            secrets: showSecrets ? Self.listed(evidence.secrets) : nil)
        keys.serverCertificateVerify = serverSignature
        keys.clientCertificateVerify = clientSignature
        record.keys = keys
    }

    /// A TLS 1.3 handshake's opened messages into the record: the chains (as if sent in clear), the ALPN
    /// protocol, and the messages list, where each side's first encrypted handshake step is replaced by the
    /// messages it held.
    private mutating func takeOpenedMessages(server: [ProtectedHandshakeMessage], client: [ProtectedHandshakeMessage]) {
        for message in server {
            switch message {
            case .encryptedExtensions(_, let alpn):
                if record.alpn == nil, let alpn { record.alpn = alpn }
            case .certificate(_, let chain):
                if serverChain.isEmpty { serverChain = chain.certificates }
            default:
                break
            }
        }
        for message in client {
            if case .certificate(_, let chain) = message, clientChain.isEmpty { clientChain = chain.certificates }
        }
        for (peer, messages) in [(Peer.server, server), (Peer.client, client)] where !messages.isEmpty {
            nameEncryptedStep(of: peer, messages.map(\.type))
        }
    }

    /// The first encrypted handshake step of `peer` replaced by the messages it was shown to hold (at most
    /// `HandshakeRecorder.maxMessages` steps in all, as the recorder keeps them).
    private mutating func nameEncryptedStep(of peer: Peer, _ types: [HandshakeType]) {
        guard let index = record.messages.firstIndex(where: { $0.from == peer && $0.kind == .encryptedHandshake }) else {
            return
        }
        record.messages.replaceSubrange(index...index, with: types.map { HandshakeStep(from: peer, kind: .handshake($0)) })
        if record.messages.count > HandshakeRecorder.maxMessages {
            record.messages.removeLast(record.messages.count - HandshakeRecorder.maxMessages)
            record.messagesTruncated = true
        }
    }

    private static func listed(_ secrets: KeyLog.Secrets) -> [(label: String, value: [UInt8])] {
        KeyLog.Label.allCases.compactMap { label in secrets[label].map { (label.rawValue, $0) } }
    }
}
