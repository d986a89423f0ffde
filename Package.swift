// swift-tools-version: 6.0
// tlsscope: a passive TLS handshake analyzer. The targets form a one-way pipeline:
// CPcap → PcapCapture; WireCursor → PacketDecoding → FlowTracking → TCPReassembly | UDPFlows; WireCursor → TLSWire;
// WireCursor → TLSWire → DTLSWire (DTLS datagrams, same events as the TLS stream parser);
// WireCursor → Preambles (cleartext before TLS: STARTTLS, proxies; fuzzed alone);
// WireCursor, TLSWire → QUICWire (QUIC Initial packets decrypted into TLS hellos; swift-crypto);
// TextFormatting (dates, hex, addresses) is shared by every stage and depends on nothing;
// X509Inspection, Fingerprints, TLSAudit, TLSKeys → HandshakeAnalysis → Reporting → tlsscope (CLI);
// HandshakeAnalysis, TLSAudit → RecordReading (NDJSON records read back, `tlsscope report`) → tlsscope.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("MemberImportVisibility"),
    // The flow table is generic over its consumer; whole-module bodies across targets let the
    // compiler specialise it for TLSSession instead of going through value witnesses per packet.
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
]

let package = Package(
    name: "tlsscope",
    products: [
        .executable(name: "tlsscope", targets: ["tlsscope"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        // zlib and libzstd behind a stdio stream, for compressed captures (C: fopencookie needs _GNU_SOURCE).
        .target(name: "CDecompression", linkerSettings: [.linkedLibrary("z"), .linkedLibrary("zstd")]),
        .target(name: "PcapCapture", dependencies: ["CPcap", "CDecompression"], swiftSettings: strict),
        .target(name: "WireCursor", swiftSettings: strict),
        // Hex, civil dates and IP address text: the formatting every stage shares, with no dependencies.
        .target(name: "TextFormatting", swiftSettings: strict),
        .target(name: "PacketDecoding", dependencies: ["WireCursor", "TextFormatting"], swiftSettings: strict),
        // Flow keys, directions, starts and ends: what the TCP and UDP flow tables share.
        .target(name: "FlowTracking", dependencies: ["PacketDecoding"], swiftSettings: strict),
        .target(name: "TCPReassembly", dependencies: ["PacketDecoding", "FlowTracking"], swiftSettings: strict),
        .target(name: "UDPFlows", dependencies: ["PacketDecoding", "FlowTracking"], swiftSettings: strict),
        .target(name: "TLSWire", dependencies: ["WireCursor"], swiftSettings: strict),
        .target(name: "Preambles", dependencies: ["WireCursor"], swiftSettings: strict),
        // DTLS datagrams (RFC 4347, 6347, 9147) into the same TLSEvents as TLSWire's stream parser.
        .target(name: "DTLSWire", dependencies: ["WireCursor", "TLSWire"], swiftSettings: strict),
        // QUIC long/short headers, Initial packet protection (RFC 9001 §5) and the Initial CRYPTO stream
        // framed into TLSWire's handshake messages.
        .target(
            name: "QUICWire",
            dependencies: [
                "WireCursor", "TLSWire", .product(name: "Crypto", package: "swift-crypto"),
                // AES.permute: the AES block function header protection needs (RFC 9001 §5.4.3).
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // Key logs, the TLS 1.3 key schedule and the TLS 1.0-1.2 PRF, record protection, and the opener that
        // proves a captured handshake with them: what `--keylog` needs (issue #14).
        .target(
            name: "TLSKeys",
            dependencies: [
                "TLSWire", "WireCursor", "QUICWire",
                .product(name: "Crypto", package: "swift-crypto"),
                // AES-CBC without padding removal (TLS checks its own padding and MAC).
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "X509Inspection",
            dependencies: [
                "TextFormatting",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                // RSA (PKCS #1 v1.5 and PSS) signature checks; swift-certificates links it already.
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Fingerprints",
            dependencies: ["TLSWire", "TextFormatting", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .target(
            name: "TLSAudit",
            dependencies: ["TLSWire", "X509Inspection", "TextFormatting", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        .target(
            name: "HandshakeAnalysis",
            dependencies: [
                "PacketDecoding", "FlowTracking", "TCPReassembly", "UDPFlows", "TLSWire", "DTLSWire", "QUICWire", "Preambles", "X509Inspection", "Fingerprints",
                "TLSAudit", "TLSKeys", .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Reporting",
            dependencies: [
                "HandshakeAnalysis", "PacketDecoding", "TLSWire", "X509Inspection", "Fingerprints", "TLSAudit",
                "TextFormatting", "TLSKeys",
            ],
            swiftSettings: strict
        ),
        // Records read back from NDJSON (`tlsscope report`): into the summary and the audit again.
        .target(
            name: "RecordReading",
            dependencies: ["HandshakeAnalysis", "TLSAudit", "TLSWire", "X509Inspection", "TextFormatting", "TLSKeys"],
            swiftSettings: strict
        ),
        // jemalloc's options for the binary (a C global it reads at start-up: freed pages go back within 50 ms).
        .target(name: "CAllocatorSettings"),
        .executableTarget(
            name: "tlsscope",
            dependencies: [
                "PcapCapture", "HandshakeAnalysis", "Reporting", "RecordReading", "TextFormatting", "TLSKeys",
                "CAllocatorSettings",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict,
            // jemalloc in place of glibc's malloc (Debian/Ubuntu: libjemalloc-dev): the writer thread frees what
            // the capture thread allocated, and glibc serialises those frees on the allocating thread's arena
            // lock (~5,000 futex calls a run on the connection-heavy capture against ~300; docs/performance.md,
            // "Session 12"). Zeek offers the same choice (--enable-jemalloc).
            linkerSettings: [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]
        ),
        .testTarget(name: "WireCursorTests", dependencies: ["WireCursor"]),
        .testTarget(name: "TextFormattingTests", dependencies: ["TextFormatting"]),
        .testTarget(name: "PacketDecodingTests", dependencies: ["PacketDecoding", "FlowTracking", "TCPReassembly", "UDPFlows"]),
        .testTarget(name: "TLSWireTests", dependencies: ["TLSWire"]),
        .testTarget(
            name: "TLSKeysTests",
            dependencies: ["TLSKeys", "TLSWire", "X509Inspection", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(name: "DTLSWireTests", dependencies: ["DTLSWire", "TLSWire", "WireCursor"]),
        .testTarget(name: "PreamblesTests", dependencies: ["Preambles"]),
        .testTarget(
            name: "QUICWireTests",
            dependencies: [
                "QUICWire", "TLSWire", "WireCursor", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                // The real-capture test reads ../shared/fixtures/ja4's QUIC pcapng files.
                "PcapCapture", "PacketDecoding",
            ]
        ),
        .testTarget(
            name: "X509InspectionTests",
            // Crypto: handshake signatures made here with the fixtures' private keys (HandshakeSignatureTests).
            dependencies: [
                "X509Inspection", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "FingerprintsTests", dependencies: ["Fingerprints", "TLSWire"]),
        .testTarget(name: "PcapCaptureTests", dependencies: ["PcapCapture"]),
        .testTarget(name: "TLSAuditTests", dependencies: ["TLSAudit", "TLSWire", "X509Inspection", "TextFormatting"]),
        .testTarget(
            name: "HandshakeAnalysisTests",
            dependencies: [
                "HandshakeAnalysis", "PacketDecoding", "FlowTracking", "TCPReassembly", "TLSWire", "Preambles", "TLSKeys",
                // The UDP tests build QUIC Initials (sealed with the Initial keys) and check the UDP table.
                "UDPFlows", "QUICWire", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting", "HandshakeAnalysis", "PcapCapture", "PacketDecoding"]),
        .testTarget(name: "CommandLineToolTests", dependencies: ["tlsscope", "HandshakeAnalysis", "PcapCapture", "PacketDecoding"]),
        .testTarget(
            name: "EndToEndTests",
            // Crypto: SHA-256 of the certificates tshark decrypts (KeyLogTests).
            dependencies: ["HandshakeAnalysis", "Reporting", "PcapCapture", .product(name: "Crypto", package: "swift-crypto")]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets (Fuzz/, docs/fuzzing.md), declared only when scripts/fuzz builds them
// (TLSSCOPE_FUZZ=1, scratch path .build-fuzz, -sanitize=fuzzer,address): `swift build` and
// `swift test` never see them, since their entry point is libFuzzer's main.
if Context.environment["TLSSCOPE_FUZZ"] == "1" {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("packet-decoder", ["PacketDecoding"]),
        ("tcp-reassembler", ["PacketDecoding", "FlowTracking", "TCPReassembly"]),
        ("tls-stream", ["TLSWire"]),
        ("dtls", ["DTLSWire", "TLSWire"]),
        ("preambles", ["Preambles"]),
        ("quic", ["QUICWire"]),
        ("certificate", ["X509Inspection"]),
        ("capture", ["PcapCapture", "PacketDecoding", "HandshakeAnalysis", "Reporting"]),
        ("keys", ["TLSKeys", "TLSWire"]),
    ]
    package.targets += [
        .target(name: "CFuzzDriver", path: "Fuzz/CFuzzDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzDriver"], path: "Fuzz/Support"),
    ]
    for target in fuzzTargets {
        package.targets.append(
            .executableTarget(
                name: "fuzz-" + target.name, dependencies: target.dependencies + ["FuzzSupport"],
                path: "Fuzz/" + target.name, swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
    }
}
