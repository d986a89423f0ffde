import Crypto
import TLSWire
import Testing
import WireCursor

@testable import QUICWire

/// RFC 9001 Appendix A and RFC 9369 Appendix A, byte for byte.
@Suite struct VectorTests {
    private func bytes(_ key: SymmetricKey) -> [UInt8] { key.withUnsafeBytes { Array($0) } }

    @Test func initialKeysV1() {
        let keys = rfcKeys(.v1)
        #expect(bytes(keys.client.key) == hex("1f369613dd76d5467730efcbe3b1a22d"))
        #expect(keys.client.iv == hex("fa044b2f42a3fd3b46fb255c"))
        #expect(bytes(keys.client.headerProtectionKey) == hex("9f50449e04a0e810283a1e9933adedd2"))
        #expect(bytes(keys.server.key) == hex("cf3a5331653c364c88f0f379b6067e37"))
        #expect(keys.server.iv == hex("0ac1493ca1905853b0bba03e"))
        #expect(bytes(keys.server.headerProtectionKey) == hex("c206b8d9b9f0f37644430b490eeaa314"))
    }

    @Test func initialKeysV2() {
        let keys = rfcKeys(.v2)
        #expect(bytes(keys.client.key) == hex("8b1a0bc121284290a29e0971b5cd045d"))
        #expect(keys.client.iv == hex("91f73e2351d8fa91660e909f"))
        #expect(bytes(keys.client.headerProtectionKey) == hex("45b95e15235d6f45a6b19cbcb0294ba9"))
        #expect(bytes(keys.server.key) == hex("82db637861d55e1d011f19ea71d5d2a7"))
        #expect(keys.server.iv == hex("dd13c276499c0249d3310652"))
        #expect(bytes(keys.server.headerProtectionKey) == hex("edf6d05c83121201b436e16877593c3a"))
    }

    @Test func versionNames() {
        #expect(QUICVersion.v1.name == "1")
        #expect(QUICVersion.v2.name == "2")
        #expect(QUICVersion.draft29.name == "draft-29")
        #expect(QUICVersion(rawValue: 0x1a2a_3a4a).name == "0x1a2a3a4a")
        #expect(QUICVersion(rawValue: 0xff).name == "0x000000ff")
        #expect(QUICVersion(rawValue: 0x1a2a_3a4a).isReservedForNegotiation)
        #expect(QUICVersion(rawValue: 0xff00_001e).isKnown)
        #expect(!QUICVersion(rawValue: 0xff00_001c).isKnown)
    }

    @Test func packetNumberDecodingRFC9000AppendixA3() {
        // RFC 9000 A.3's example: largest 0xa82f30ea, 16-bit 0x9b32 → 0xa82f9b32.
        #expect(PacketOpener.decodePacketNumber(largest: 0xa82f_30ea, truncated: 0x9b32, bits: 16) == 0xa82f_9b32)
        #expect(PacketOpener.decodePacketNumber(largest: nil, truncated: 2, bits: 32) == 2)
        #expect(PacketOpener.decodePacketNumber(largest: 0xff, truncated: 0x01, bits: 8) == 0x101)
        #expect(PacketOpener.decodePacketNumber(largest: 0x100, truncated: 0xff, bits: 8) == 0xff)
    }

    /// The RFC's ClientHello (A.2): example.com, TLS_AES_128_GCM_SHA256 and TLS_AES_256_GCM_SHA384 ...
    private func expectRFCClientHello(_ hello: ClientHello?) {
        #expect(hello?.serverName == "example.com")
        #expect(hello?.cipherSuites == [CipherSuite(rawValue: 0x1301), CipherSuite(rawValue: 0x1302)])
        #expect(hello?.supportedVersions == [TLSVersion(rawValue: 0x0304)])
        #expect(hello?.alpn == [Array("alpn".utf8)])
        #expect(hello?.keyShareGroups == [NamedGroup(rawValue: 0x001d)])
        #expect(hello?.random.first == 0xeb)
        // quic_transport_parameters (57) is kept with the other extensions.
        #expect(hello?.extensions.contains { $0.type.rawValue == 0x39 } == true)
    }

    @Test(arguments: [
        (QUICVersion.v1, RFCVectors.v1ClientInitial, RFCVectors.v1ServerInitial),
        (QUICVersion.v2, RFCVectors.v2ClientInitial, RFCVectors.v2ServerInitial),
    ])
    func clientAndServerInitials(version: QUICVersion, client: [UInt8], server: [UInt8]) {
        var reader = QUICConnectionReader()
        let clientEvents = reader.read(client, fromInitiator: true)
        #expect(clientEvents.count == 2)
        #expect(clientEvents.first == .packet(.initial, fromClient: true, length: 1200))
        #expect(clientEvents.problems.isEmpty)
        expectRFCClientHello(clientEvents.clientHellos.first)
        #expect(reader.version == version)
        #expect(reader.clientIsInitiator == true)
        #expect(reader.originalDestinationConnectionID == RFCVectors.clientDCID)
        #expect(reader.clientSourceConnectionID == [])

        let serverEvents = reader.read(server, fromInitiator: false)
        #expect(serverEvents.first == .packet(.initial, fromClient: false, length: 135))
        #expect(serverEvents.problems.isEmpty)
        let hello = serverEvents.serverHellos.first
        #expect(hello?.cipherSuite == CipherSuite(rawValue: 0x1301))
        #expect(hello?.selectedVersion == TLSVersion(rawValue: 0x0304))
        #expect(hello?.selectedGroup == NamedGroup(rawValue: 0x001d))
        #expect(hello?.random.prefix(2) == [0xee, 0xfc])
        #expect(reader.serverSourceConnectionID == RFCVectors.serverSCID)
    }

    @Test func serverInitialAloneDoesNotDecrypt() {
        // Without the client's Initial the server's keys are unknown: reported, never guessed.
        var reader = QUICConnectionReader()
        let events = reader.read(RFCVectors.v1ServerInitial, fromInitiator: false)
        #expect(events.packets == [.initial])
        #expect(events.problems.isEmpty)
        #expect(events.contains(.initialNotDecrypted(fromClient: nil)))
        #expect(reader.clientIsInitiator == nil)
    }

    @Test func clientIsDecidedByDecryptionNotByInitiator() {
        // The flow's initiator is the server here (the capture started late): the client is still the
        // sender of the Initial that opens with the client keys.
        var reader = QUICConnectionReader()
        let events = reader.read(RFCVectors.v1ClientInitial, fromInitiator: false)
        #expect(events.clientHellos.count == 1)
        #expect(reader.clientIsInitiator == false)
        #expect(reader.read(RFCVectors.v1ServerInitial, fromInitiator: true).serverHellos.count == 1)
    }

    @Test(arguments: [
        (QUICVersion.v1, RFCVectors.v1ClientInitial, RFCVectors.v1Retry),
        (QUICVersion.v2, RFCVectors.v2ClientInitial, RFCVectors.v2Retry),
    ])
    func retryIntegrityTag(version: QUICVersion, client: [UInt8], retry: [UInt8]) {
        var reader = QUICConnectionReader()
        _ = reader.read(client)
        let events = reader.read(retry, fromInitiator: false)
        #expect(events == [.packet(.retry, fromClient: false, length: retry.count), .retry(fromClient: false)])
        #expect(reader.sawRetry)

        var tampered = retry
        tampered[tampered.count - 20] ^= 1  // a token byte
        var other = QUICConnectionReader()
        _ = other.read(client)
        let rejected = other.read(tampered, fromInitiator: false)
        #expect(rejected.problems.map(\.code) == [.malformed])
        #expect(!other.sawRetry)
    }

    @Test func startsConnection() {
        func starts(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { QUICConnectionReader.startsConnection($0) } }
        #expect(starts(RFCVectors.v1ClientInitial))
        #expect(starts(RFCVectors.v2ClientInitial))
        #expect(!starts(RFCVectors.v1ServerInitial))  // DCID of 0 bytes: a server's
        #expect(!starts(RFCVectors.v1Retry))
        #expect(!starts(TestPacket.versionNegotiation(dcid: [], scid: RFCVectors.clientDCID, versions: [.v1])))
        #expect(!starts(TestPacket.oneRTT(dcid: RFCVectors.clientDCID)))
        var unknownVersion = RFCVectors.v1ClientInitial
        unknownVersion[4] = 0x07
        #expect(!starts(unknownVersion))
        var v2TypeBitsInV1 = RFCVectors.v1ClientInitial
        v2TypeBitsInV1[0] = 0xd0  // type 1: 0-RTT in v1
        #expect(!starts(v2TypeBitsInV1))
        #expect(!starts(Array(RFCVectors.v1ClientInitial.prefix(6))))
        #expect(!starts([]))
    }
}
