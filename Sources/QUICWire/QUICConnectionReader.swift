import TLSWire
import WireCursor

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads one QUIC connection's datagrams, both directions, as a passive observer: every packet is
/// counted, Initial packets are decrypted (their keys come from the client's Destination Connection
/// ID, RFC 9001 §5.2) and their CRYPTO stream framed into the ClientHello and ServerHello.
///
/// The client is the sender of the first Initial that opens with the client Initial keys derived from
/// that packet's own Destination Connection ID; the server's Initials open with the server keys of the
/// same ID. A client Initial that no longer opens with them but opens with keys from its own DCID is a
/// restart (after a Retry, after Version Negotiation): the keys are re-derived and both CRYPTO streams
/// start over. Handshake, 0-RTT and 1-RTT packets are counted, not opened (no keys). Short-header
/// packets carry no DCID length: they are matched on the connection ids the long headers gave.
public struct QUICConnectionReader: Sendable {
    public let limits: QUICLimits
    public let tlsLimits: TLSLimits

    /// The connection's version: the client's Initial's, then the server's Initial's if it differs
    /// (compatible version negotiation, RFC 9368). Nil until an Initial decrypts.
    public private(set) var version: QUICVersion?
    /// The Destination Connection ID of the client's first Initial that decrypted (the Initial keys of a
    /// connection without Retry come from it).
    public private(set) var originalDestinationConnectionID: [UInt8]?
    /// The client's Source Connection ID (its latest Initial's).
    public private(set) var clientSourceConnectionID: [UInt8]?
    /// The server's Source Connection ID (its first Initial's since the client's last start).
    public private(set) var serverSourceConnectionID: [UInt8]?
    /// A Retry with a valid integrity tag was seen.
    public private(set) var sawRetry = false
    /// The versions of the last Version Negotiation packet (nil when none was seen).
    public private(set) var negotiationVersions: [QUICVersion]?
    /// True when the flow's initiator is the client; nil until a client Initial decrypts.
    public private(set) var clientIsInitiator: Bool?
    /// The version and Destination Connection ID in the header of the first Initial read, decrypted or
    /// not: what can be said of a connection none of whose Initials decrypt.
    public private(set) var firstInitialVersion: QUICVersion?
    public private(set) var firstInitialDestinationConnectionID: [UInt8]?
    /// Initial packets that did not decrypt.
    public private(set) var undecryptedInitials = 0

    /// The DCID the current Initial keys come from: the original one, a Retry's SCID, or a restarted
    /// client's new DCID.
    private var keyConnectionID: [UInt8] = []
    /// Keys from `keyConnectionID`, one entry per version met (a v1 client may be answered in v2).
    private var keysByVersion: [VersionKeys] = []
    /// The last keys derived for a packet that did not open with them: a run of undecryptable Initials
    /// with one DCID (a server's, when the client's Initial was not captured) derives them once.
    private var trialKeys: TrialKeys?
    private var client = DirectionState()
    private var server = DirectionState()
    /// What is kept for a key log (`keepHandshakeBytes()`): empty, or one value.
    private var keptStorage: [KeptQUICHandshake] = []

    /// From now on, keeps the Initial-level handshake messages and the Handshake packets for a key log to open.
    public mutating func keepHandshakeBytes() {
        if keptStorage.isEmpty { keptStorage = [KeptQUICHandshake()] }
    }

    /// Stops keeping and drops what was kept.
    public mutating func stopKeeping() { keptStorage = [] }

    /// What was kept so far (nil: not keeping).
    public var keptBytes: KeptQUICHandshake? { keptStorage.first }

    /// Whether bytes are being kept.
    public var isKeeping: Bool { !keptStorage.isEmpty }

    private struct VersionKeys: Sendable {
        let version: QUICVersion
        let keys: InitialKeys
    }

    private struct TrialKeys: Sendable {
        let connectionID: [UInt8]
        let version: QUICVersion
        let keys: InitialKeys
    }

    private struct DirectionState: Sendable {
        var largestInitialPacketNumber: UInt64?
        var stream = CryptoStream()
    }

    public init(limits: QUICLimits = QUICLimits(), tlsLimits: TLSLimits = TLSLimits()) {
        self.limits = limits
        self.tlsLimits = tlsLimits
    }

    /// Heap held (stream buffers, connection ids, keys), for a memory budget.
    public var retainedBytes: Int {
        // A derived key set: three SymmetricKeys and an IV array, about 100 bytes each with headers.
        let keySetBytes = 400
        return client.stream.retainedBytes + server.stream.retainedBytes + (keptStorage.first?.byteCount ?? 0)
            + keyConnectionID.capacity + (originalDestinationConnectionID?.capacity ?? 0)
            + (clientSourceConnectionID?.capacity ?? 0) + (serverSourceConnectionID?.capacity ?? 0)
            + (negotiationVersions?.capacity ?? 0) * 4 + (firstInitialDestinationConnectionID?.capacity ?? 0)
            + keysByVersion.capacity * (MemoryLayout<VersionKeys>.stride + keySetBytes)
            + (trialKeys.map { $0.connectionID.capacity + keySetBytes } ?? 0)
    }

    /// Every connection id this connection was seen to use (the client's original DCID, a Retry's or a
    /// restart's, both Source Connection IDs): a client Initial to any other is another connection.
    public var connectionIDs: [[UInt8]] {
        [originalDestinationConnectionID, keyConnectionID, clientSourceConnectionID, serverSourceConnectionID]
            .compactMap { $0 }
    }

    /// The Destination Connection ID of a datagram that `startsConnection` (nil for any other).
    public static func initialDestinationConnectionID(_ datagram: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard startsConnection(datagram) else { return nil }
        // startsConnection checked count > 6 + the DCID length.
        return UnsafeRawBufferPointer(rebasing: datagram[6..<(6 + Int(datagram[5]))])
    }

    /// A UDP payload that starts a QUIC connection: a long-header Initial of a version this reader can
    /// open, with a client-chosen DCID of 8 to 20 bytes (RFC 9000 §7.2; a server's Initial may carry a
    /// shorter one). Version Negotiation is not a start. A few byte checks, no cryptography.
    public static func startsConnection(_ datagram: UnsafeRawBufferPointer) -> Bool {
        guard datagram.count >= 7, datagram[0] & 0x80 != 0 else { return false }
        let version = QUICVersion(
            rawValue: UInt32(datagram[1]) << 24 | UInt32(datagram[2]) << 16 | UInt32(datagram[3]) << 8
                | UInt32(datagram[4]))
        guard let protection = version.protection, protection.longPacketType(firstByte: datagram[0]) == .initial else {
            return false
        }
        let destinationLength = Int(datagram[5])
        guard (8...20).contains(destinationLength), datagram.count > 6 + destinationLength else { return false }
        return datagram[6 + destinationLength] <= 20
    }

    /// Reads one UDP payload from the flow's initiator (`fromInitiator: true`) or responder, reporting
    /// each coalesced packet and what its Initial packets carried.
    public mutating func feed(_ datagram: UnsafeRawBufferPointer, fromInitiator: Bool, _ emit: (QUICEvent) -> Void) {
        var offset = 0
        var packets = 0
        while offset < datagram.count {
            // RFC 9000 §12.2 allows nothing after the last packet, but zero bytes padding a datagram are
            // common enough (some stacks pad coalesced datagrams) to pass over quietly.
            if offset > 0, datagram[offset] == 0, datagram[offset...].allSatisfy({ $0 == 0 }) { return }
            guard packets < limits.maxPacketsPerDatagram else {
                emit(.problem(DecodeError(.tooLarge, at: offset, "QUIC datagram (over maxPacketsPerDatagram)"),
                              fromClient: knownFromClient(fromInitiator)))
                return
            }
            packets += 1
            if datagram[offset] & 0x80 == 0 {
                shortHeaderPacket(datagram, at: offset, fromInitiator: fromInitiator, emit)
                return
            }
            do {
                offset = try longHeaderPacket(datagram, at: offset, fromInitiator: fromInitiator, emit)
            } catch {
                emit(.problem(error, fromClient: knownFromClient(fromInitiator)))
                return
            }
        }
    }

    /// The direction when the client is known; nil before.
    private func knownFromClient(_ fromInitiator: Bool) -> Bool? {
        clientIsInitiator.map { $0 == fromInitiator }
    }

    /// The direction, assuming the initiator is the client until an Initial says otherwise.
    private func assumedFromClient(_ fromInitiator: Bool) -> Bool {
        clientIsInitiator.map { $0 == fromInitiator } ?? fromInitiator
    }

    // 1-RTT Packet {
    //   Header Form (1) = 0, Fixed Bit (1) = 1, Spin Bit (1), Reserved Bits (2), Key Phase (1),
    //   Packet Number Length (2), Destination Connection ID (0..160), Packet Number (8..32),
    //   Packet Payload (8..),
    // }
    /// A short-header packet takes the rest of the datagram. Its DCID is the id the peer chose in its
    /// long headers; a packet that does not start with that id (a new id from an encrypted
    /// NEW_CONNECTION_ID, another connection) is reported as a problem, not counted.
    private func shortHeaderPacket(
        _ datagram: UnsafeRawBufferPointer, at offset: Int, fromInitiator: Bool, _ emit: (QUICEvent) -> Void
    ) {
        let fromClient = assumedFromClient(fromInitiator)
        guard let expected = fromClient ? serverSourceConnectionID : clientSourceConnectionID else {
            emit(.problem(DecodeError(.unsupported, at: offset, "QUIC short header (connection ids not known yet)"),
                          fromClient: knownFromClient(fromInitiator)))
            return
        }
        let idStart = offset + 1
        guard datagram.count - idStart >= expected.count,
            datagram[idStart..<idStart + expected.count].elementsEqual(expected)
        else {
            emit(.problem(DecodeError(.unsupported, at: idStart, "QUIC short header (unknown connection id)"),
                          fromClient: knownFromClient(fromInitiator)))
            return
        }
        emit(.packet(.oneRTT, fromClient: fromClient, length: datagram.count - offset))
    }

    // Long Header Packet {
    //   Header Form (1) = 1, Fixed Bit (1) = 1, Long Packet Type (2), Type-Specific Bits (4),
    //   Version (32), Destination Connection ID Length (8), Destination Connection ID (0..160),
    //   Source Connection ID Length (8), Source Connection ID (0..160), Type-Specific Payload (..),
    // }
    /// Reads the long-header packet at `start` and returns where the next packet begins.
    private mutating func longHeaderPacket(
        _ datagram: UnsafeRawBufferPointer, at start: Int, fromInitiator: Bool, _ emit: (QUICEvent) -> Void
    ) throws(DecodeError) -> Int {
        var cursor = ByteCursor(datagram)
        try cursor.skip(start, "QUIC packet")
        let firstByte = try cursor.readUInt8("QUIC long header")
        let packetVersion = QUICVersion(rawValue: try cursor.readUInt32("QUIC long header version"))
        let protection = packetVersion.protection
        // RFC 9000 §17.2: 20 bytes at most in the versions we know; RFC 8999 allows 255 in any other.
        let maxIDLength = protection == nil ? 255 : 20
        let destinationLength = Int(try cursor.readUInt8("QUIC DCID length"))
        guard destinationLength <= maxIDLength else {
            throw DecodeError(.malformed, at: cursor.position - 1, "QUIC DCID length (over 20)")
        }
        let destination = cursor.position..<cursor.position + destinationLength
        try cursor.skip(destinationLength, "QUIC Destination Connection ID")
        let sourceLength = Int(try cursor.readUInt8("QUIC SCID length"))
        guard sourceLength <= maxIDLength else {
            throw DecodeError(.malformed, at: cursor.position - 1, "QUIC SCID length (over 20)")
        }
        let source = cursor.position..<cursor.position + sourceLength
        try cursor.skip(sourceLength, "QUIC Source Connection ID")

        if packetVersion == .negotiation {
            versionNegotiationPacket(&cursor, start: start, fromInitiator: fromInitiator, emit)
            return datagram.count
        }
        guard let protection else {
            // Unknown version: nothing after the ids has a known layout, so not even Length can be read.
            throw DecodeError(.unsupported, at: start + 1, "QUIC version (not known: packet not read)")
        }
        let type = protection.longPacketType(firstByte: firstByte)
        if type == .retry {
            retryPacket(
                UnsafeRawBufferPointer(rebasing: datagram[start...]),
                tagOffset: cursor.remaining >= 16 ? cursor.end - 16 - start : -1,
                protection: protection, fromInitiator: fromInitiator, emit)
            return datagram.count
        }
        if type == .initial {
            // Initial: Token Length (i), Token (..), then Length like the other types.
            let tokenLength = try cursor.readQUICLength("QUIC Initial token length")
            try cursor.skip(tokenLength, "QUIC Initial token")
        }
        let length = try cursor.readQUICLength("QUIC packet Length")
        let packetNumberOffset = cursor.position
        guard length <= cursor.remaining else {
            throw DecodeError(.truncated, at: packetNumberOffset, "QUIC packet (shorter than its Length)")
        }
        let end = packetNumberOffset + length
        if type == .initial {
            initialPacket(
                datagram, start: start, packetNumberOffset: packetNumberOffset, end: end, version: packetVersion,
                protection: protection, destination: destination, source: source, fromInitiator: fromInitiator, emit)
        } else {
            if type == .handshake, !keptStorage.isEmpty {
                keptStorage[0].keep(
                    KeptQUICHandshake.Packet(
                        bytes: Array(datagram[start..<end]), packetNumberOffset: packetNumberOffset - start,
                        fromClient: assumedFromClient(fromInitiator)))
                keptStorage[0].version = packetVersion
            }
            emit(.packet(type, fromClient: assumedFromClient(fromInitiator), length: end - start))
        }
        return end
    }

    // Version Negotiation Packet {
    //   Header Form (1) = 1, Unused (7), Version (32) = 0, DCID Len (8), DCID, SCID Len (8), SCID,
    //   Supported Version (32) ...,
    // }
    private mutating func versionNegotiationPacket(
        _ cursor: inout ByteCursor, start: Int, fromInitiator: Bool, _ emit: (QUICEvent) -> Void
    ) {
        emit(.packet(.versionNegotiation, fromClient: assumedFromClient(fromInitiator), length: cursor.end - start))
        var versions: [QUICVersion] = []
        while versions.count < limits.maxNegotiationVersions, let raw = try? cursor.readUInt32("Supported Version") {
            versions.append(QUICVersion(rawValue: raw))
        }
        negotiationVersions = versions
        emit(.versionNegotiation(versions: versions))
    }

    // Retry Packet {
    //   Header Form (1) = 1, Fixed Bit (1) = 1, Long Packet Type (2) = 3, Unused (4), Version (32),
    //   DCID Len (8), DCID, SCID Len (8), SCID, Retry Token (..), Retry Integrity Tag (128),
    // }
    /// A Retry is followed only when its integrity tag verifies against the DCID the client's Initial
    /// keys came from (RFC 9001 §5.8): a client would drop any other.
    private mutating func retryPacket(
        _ packet: UnsafeRawBufferPointer, tagOffset: Int, protection: VersionProtection,
        fromInitiator: Bool, _ emit: (QUICEvent) -> Void
    ) {
        let fromClient = assumedFromClient(fromInitiator)
        emit(.packet(.retry, fromClient: fromClient, length: packet.count))
        let problemSide = knownFromClient(fromInitiator)
        guard tagOffset >= 0 else {
            emit(.problem(DecodeError(.truncated, at: 0, "QUIC Retry Integrity Tag"), fromClient: problemSide))
            return
        }
        guard clientIsInitiator != nil else {
            emit(.problem(DecodeError(.unsupported, at: 0, "QUIC Retry (no client Initial to verify it with)"),
                          fromClient: problemSide))
            return
        }
        guard !fromClient else {
            emit(.problem(DecodeError(.malformed, at: 0, "QUIC Retry from the client"), fromClient: true))
            return
        }
        guard PacketOpener.retryTagIsValid(packet, originalDestinationConnectionID: keyConnectionID, protection: protection)
        else {
            emit(.problem(DecodeError(.malformed, at: tagOffset, "QUIC Retry Integrity Tag (does not verify)"),
                          fromClient: false))
            return
        }
        sawRetry = true
        emit(.retry(fromClient: false))
    }

    // Initial Packet {
    //   Header Form (1) = 1, Fixed Bit (1) = 1, Long Packet Type (2) = 0, Reserved Bits (2),
    //   Packet Number Length (2), Version (32), DCID Len (8), DCID, SCID Len (8), SCID,
    //   Token Length (i), Token (..), Length (i), Packet Number (8..32), Packet Payload (8..),
    // }
    private mutating func initialPacket(
        _ datagram: UnsafeRawBufferPointer, start: Int, packetNumberOffset: Int, end: Int, version: QUICVersion,
        protection: VersionProtection, destination: Range<Int>, source: Range<Int>, fromInitiator: Bool,
        _ emit: (QUICEvent) -> Void
    ) {
        var fromClient = assumedFromClient(fromInitiator)
        if firstInitialVersion == nil {
            firstInitialVersion = version
            firstInitialDestinationConnectionID = Array(datagram[destination])
        }
        var opened: OpenedPacket?
        var failure: DecodeError?
        do throws(DecodeError) {
            func open(_ keys: PacketProtectionKeys, largest: UInt64?) throws(DecodeError) -> OpenedPacket? {
                try PacketOpener.open(
                    datagram, start: start, packetNumberOffset: packetNumberOffset, end: end, keys: keys,
                    largestPacketNumber: largest)
            }
            if let clientIsInitiator {
                fromClient = clientIsInitiator == fromInitiator
                // A client Initial in another version than the connection's, one the server's Version
                // Negotiation listed, is a new attempt even to the same DCID. (In compatible negotiation,
                // RFC 9368, there is no Version Negotiation packet and the client's Initials go on.)
                let otherVersion =
                    fromClient && version != self.version && negotiationVersions?.contains(version) == true
                if !otherVersion {
                    let keys = currentKeys(version: version, protection: protection)
                    opened = fromClient
                        ? try open(keys.client, largest: client.largestInitialPacketNumber)
                        : try open(keys.server, largest: server.largestInitialPacketNumber)
                }
                if opened == nil, fromClient, otherVersion || !datagram[destination].elementsEqual(keyConnectionID) {
                    // A client starting over: after a Retry (its DCID is the Retry's SCID), after Version
                    // Negotiation, or a new connection on the same addresses.
                    let fresh = keysFromOwnDestination(datagram, destination, version, protection)
                    if let restarted = try open(fresh.client, largest: nil) {
                        restart(datagram, destination, version: version, keys: fresh)
                        opened = restarted
                    }
                }
            } else {
                let fresh = keysFromOwnDestination(datagram, destination, version, protection)
                if let first = try open(fresh.client, largest: nil) {
                    clientIsInitiator = fromInitiator
                    fromClient = true
                    restart(datagram, destination, version: version, keys: fresh)
                    opened = first
                }
            }
        } catch {
            failure = error
        }
        emit(.packet(.initial, fromClient: fromClient, length: end - start))
        guard let opened else {
            if let failure {
                emit(.problem(failure, fromClient: knownFromClient(fromInitiator)))
            } else {
                undecryptedInitials += 1
                emit(.initialNotDecrypted(fromClient: knownFromClient(fromInitiator)))
            }
            return
        }
        if fromClient {
            client.largestInitialPacketNumber = max(client.largestInitialPacketNumber ?? 0, opened.packetNumber)
            if clientSourceConnectionID.map({ !$0.elementsEqual(datagram[source]) }) ?? true {
                clientSourceConnectionID = Array(datagram[source])
            }
        } else {
            server.largestInitialPacketNumber = max(server.largestInitialPacketNumber ?? 0, opened.packetNumber)
            if serverSourceConnectionID == nil { serverSourceConnectionID = Array(datagram[source]) }
            if self.version != version { self.version = version }
        }
        readFrames(opened.payload, fromClient: fromClient, emit)
    }

    /// The Initial keys of `version` from `keyConnectionID`, derived on first use.
    private mutating func currentKeys(version: QUICVersion, protection: VersionProtection) -> InitialKeys {
        if let known = keysByVersion.first(where: { $0.version == version }) { return known.keys }
        let keys = InitialKeys(protection: protection, destinationConnectionID: keyConnectionID)
        // Bounded by the versions that have a `protection` (a handful).
        keysByVersion.append(VersionKeys(version: version, keys: keys))
        return keys
    }

    /// Keys derived from the packet's own DCID, as a client's first Initial uses.
    private mutating func keysFromOwnDestination(
        _ datagram: UnsafeRawBufferPointer, _ destination: Range<Int>, _ version: QUICVersion,
        _ protection: VersionProtection
    ) -> InitialKeys {
        if let trialKeys, trialKeys.version == version, trialKeys.connectionID.elementsEqual(datagram[destination]) {
            return trialKeys.keys
        }
        let connectionID = Array(datagram[destination])
        let keys = InitialKeys(protection: protection, destinationConnectionID: connectionID)
        trialKeys = TrialKeys(connectionID: connectionID, version: version, keys: keys)
        return keys
    }

    /// The client (re)starts with keys from `destination`: both CRYPTO streams begin again.
    private mutating func restart(
        _ datagram: UnsafeRawBufferPointer, _ destination: Range<Int>, version: QUICVersion, keys: InitialKeys
    ) {
        let connectionID = Array(datagram[destination])
        if originalDestinationConnectionID == nil { originalDestinationConnectionID = connectionID }
        keyConnectionID = connectionID
        keysByVersion = [VersionKeys(version: version, keys: keys)]
        trialKeys = nil
        self.version = version
        client = DirectionState()
        server = DirectionState()
        serverSourceConnectionID = nil
    }

    /// The frames of an opened Initial packet: CRYPTO data to its direction's stream, CONNECTION_CLOSE
    /// reported, PADDING, PING and ACK passed over; any other frame stops the packet (RFC 9000 §12.4).
    private mutating func readFrames(_ payload: Data, fromClient: Bool, _ emit: (QUICEvent) -> Void) {
        payload.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var cursor = ByteCursor(buffer)
            while !cursor.isEmpty {
                let frame: InitialFrame
                do throws(DecodeError) {
                    frame = try InitialFrame(parsing: &cursor, maxReasonBytes: limits.maxReasonBytes)
                } catch {
                    emit(.problem(error, fromClient: fromClient))
                    return
                }
                switch frame {
                case .crypto(let offset, let data):
                    var raws: [[UInt8]] = []
                    let raw: (([UInt8]) -> Void)? = keptStorage.isEmpty ? nil : { raws.append($0) }
                    if fromClient {
                        client.stream.receive(
                            offset: offset, data: data, limits: limits, tlsLimits: tlsLimits,
                            message: { emit(.handshake($0, fromClient: true)) },
                            problem: { emit(.problem($0, fromClient: true)) }, raw: raw)
                    } else {
                        server.stream.receive(
                            offset: offset, data: data, limits: limits, tlsLimits: tlsLimits,
                            message: { emit(.handshake($0, fromClient: false)) },
                            problem: { emit(.problem($0, fromClient: false)) }, raw: raw)
                    }
                    for message in raws { keptStorage[0].keep(message: message, fromClient: fromClient) }
                case .connectionClose(let close):
                    emit(.connectionClose(close, fromClient: fromClient))
                case .padding, .ping, .ack:
                    break
                }
            }
        }
    }
}
