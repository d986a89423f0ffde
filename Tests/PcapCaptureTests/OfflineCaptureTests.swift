import Foundation
import PcapCapture
import Testing

/// A frame copied out of the source, so it can be compared after `next()` moved on.
struct OwnedFrame: Equatable {
    var timestampNanoseconds: Int64
    var capturedLength: Int
    var originalLength: Int
    var bytes: [UInt8]
}

/// Reads until the end or an error; returns what was delivered and the error, if any.
func drain(_ source: inout PcapSource) -> (frames: [OwnedFrame], error: CaptureError?) {
    var frames: [OwnedFrame] = []
    while true {
        do {
            switch try source.next() {
            case .frame(let frame):
                frames.append(
                    OwnedFrame(
                        timestampNanoseconds: frame.timestampNanoseconds,
                        capturedLength: frame.capturedLength,
                        originalLength: frame.originalLength,
                        bytes: Array(frame.bytes)))
            case .timeout:
                continue
            case .end:
                return (frames, nil)
            }
        } catch {
            return (frames, error)
        }
    }
}

/// `drain`, reading as `analyze` does: whole batches with `nextFrames`, and `next()` whenever a batch is
/// empty. `countsAgreed`: `framesRead` equalled the frames handed out after every call (no filter).
func drainInBatches(_ source: inout PcapSource, batchSize: Int) -> (frames: [OwnedFrame], error: CaptureError?, countsAgreed: Bool) {
    var frames: [OwnedFrame] = []
    var countsAgreed = true
    let batch = UnsafeMutableBufferPointer<FrameView>.allocate(capacity: batchSize)
    defer { batch.deallocate() }
    func own(_ frame: FrameView) -> OwnedFrame {
        OwnedFrame(
            timestampNanoseconds: frame.timestampNanoseconds, capturedLength: frame.capturedLength,
            originalLength: frame.originalLength, bytes: Array(frame.bytes))
    }
    while true {
        let count = source.nextFrames(into: batch)
        if count > 0 {
            frames += batch[0..<count].map(own)
            if source.framesRead != UInt64(frames.count) { countsAgreed = false }
            continue
        }
        do {
            switch try source.next() {
            case .frame(let frame): frames.append(own(frame))
            case .timeout: continue
            case .end: return (frames, nil, countsAgreed)
            }
        } catch {
            return (frames, error, countsAgreed)
        }
    }
}

/// The source, offset and message of a `.damaged` error; records an issue (and gives nil) for anything else.
func damage(in error: CaptureError?) -> (source: String, offset: Int64, message: String)? {
    guard case .damaged(let source, let offset, let message)? = error else {
        Issue.record("expected .damaged, got \(String(describing: error))")
        return nil
    }
    return (source, offset, message)
}

/// Opens "-" while `descriptor` stands in for fd 0 (PcapSource dups fd 0 at once, so the swap is brief).
func openStandardInput(replacedBy descriptor: Int32) throws(CaptureError) -> PcapSource {
    let saved = dup(STDIN_FILENO)
    dup2(descriptor, STDIN_FILENO)
    defer {
        dup2(saved, STDIN_FILENO)
        close(saved)
    }
    return try PcapSource(file: "-")
}

func openError(_ path: String) -> CaptureError? {
    do {
        _ = try PcapSource(file: path)
        return nil
    } catch {
        return error
    }
}

@Suite struct OfflineCaptureTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func classicPcapBothByteOrdersAndPrecisions(bigEndian: Bool, nanosecond: Bool) throws {
        let directory = try TemporaryDirectory()
        var builder = PcapFileBuilder(bigEndian: bigEndian, nanosecond: nanosecond, linkType: 1)
        builder.add(seconds: 1_392_137_652, fraction: nanosecond ? 123_456_789 : 123_456, data: Frames.tcp)
        builder.add(
            seconds: 4_000_000_000, fraction: nanosecond ? 999_999_999 : 999_999, data: [1, 2, 3], originalLength: 1500)
        let path = try directory.write("two.pcap", builder.bytes)

        var source = try PcapSource(file: path)
        #expect(source.linkType == 1)
        #expect(source.linkTypeName == "EN10MB")
        #expect(source.isLive == false)
        #expect(source.fileSize == Int64(builder.bytes.count))
        #expect(source.bytesRead == 24)
        let (frames, error) = drain(&source)
        #expect(error == nil)
        try #require(frames.count == 2)
        #expect(frames[0].timestampNanoseconds == (nanosecond ? 1_392_137_652_123_456_789 : 1_392_137_652_123_456_000))
        #expect(frames[0].bytes == Frames.tcp)
        #expect(frames[0].capturedLength == Frames.tcp.count)
        #expect(frames[0].originalLength == Frames.tcp.count)
        // Seconds above Int32.max (unsigned in the file) survive.
        #expect(frames[1].timestampNanoseconds == (nanosecond ? 4_000_000_000_999_999_999 : 4_000_000_000_999_999_000))
        #expect(frames[1].capturedLength == 3)
        #expect(frames[1].originalLength == 1500)
        #expect(frames[1].bytes == [1, 2, 3])
        #expect(source.bytesRead == Int64(builder.bytes.count))
        // The end is sticky.
        if case .end = try source.next() {} else { Issue.record("expected .end after the last frame") }
    }

    @Test func otherLinkTypeIsReported() throws {
        let directory = try TemporaryDirectory()
        var builder = PcapFileBuilder(linkType: 276)  // LINUX_SLL2
        builder.add(seconds: 1, fraction: 2, data: [0xaa])
        var source = try PcapSource(file: try directory.write("sll2.pcap", builder.bytes))
        #expect(source.linkType == 276)
        #expect(source.linkTypeName == "LINUX_SLL2")
        #expect(PcapSource.linkTypeName(12) == "RAW")
        #expect(PcapSource.linkTypeName(0) == "NULL")
        #expect(PcapSource.linkTypeDescription(1) == "Ethernet")
        #expect(drain(&source).frames.count == 1)
    }

    @Test func linkTypeIsTheDLTValue() throws {
        // libpcap maps the file's LINKTYPE_RAW (101) to DLT_RAW (12 on Linux): linkType is pcap_datalink().
        let directory = try TemporaryDirectory()
        var builder = PcapFileBuilder(linkType: 101)
        builder.add(seconds: 1, fraction: 2, data: [0x45])
        let source = try PcapSource(file: try directory.write("raw.pcap", builder.bytes))
        #expect(source.linkType == 12)
        #expect(source.linkTypeName == "RAW")
    }

    @Test(arguments: [false, true])
    func pcapngEnhancedPacketBlocks(nanosecond: Bool) throws {
        let directory = try TemporaryDirectory()
        var builder = PcapngFileBuilder(linkType: 1, nanosecond: nanosecond)
        let first: UInt64 = nanosecond ? 1_392_137_652_123_456_789 : 1_392_137_652_123_456
        builder.add(timestamp: first, data: Frames.udp)
        builder.add(timestamp: first + 1, data: [9, 8, 7, 6, 5], originalLength: 60)
        builder.addStatisticsBlock()
        let path = try directory.write("two.pcapng", builder.bytes)

        var source = try PcapSource(file: path)
        #expect(source.linkType == 1)
        let (frames, error) = drain(&source)
        #expect(error == nil)
        try #require(frames.count == 2)
        let expected: Int64 = nanosecond ? 1_392_137_652_123_456_789 : 1_392_137_652_123_456_000
        #expect(frames[0].timestampNanoseconds == expected)
        #expect(frames[1].timestampNanoseconds == expected + (nanosecond ? 1 : 1000))
        #expect(frames[0].bytes == Frames.udp)
        #expect(frames[1].bytes == [9, 8, 7, 6, 5])
        #expect(frames[1].originalLength == 60)
        // The trailing statistics block counts as read once the end is reached.
        #expect(source.bytesRead == Int64(builder.bytes.count))
    }

    @Test func editcapPcapngAgreesWithPcap() throws {
        // Cross-check against Wireshark's writer when editcap is installed; otherwise the hand-built pcapng
        // test above still covers the format.
        let editcap = "/usr/bin/editcap"
        guard FileManager.default.isExecutableFile(atPath: editcap) else { return }
        let directory = try TemporaryDirectory()
        var builder = PcapFileBuilder(nanosecond: true)
        builder.add(seconds: 1_700_000_000, fraction: 5, data: Frames.tcp)
        builder.add(seconds: 1_700_000_001, fraction: 999_999_999, data: Frames.udp)
        let pcap = try directory.write("in.pcap", builder.bytes)
        let pcapng = directory.url.appendingPathComponent("out.pcapng").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: editcap)
        process.arguments = ["-F", "pcapng", pcap, pcapng]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)

        var classic = try PcapSource(file: pcap)
        var next = try PcapSource(file: pcapng)
        let fromPcap = drain(&classic)
        let fromPcapng = drain(&next)
        #expect(fromPcapng.error == nil)
        #expect(fromPcapng.frames.count == 2)
        #expect(fromPcapng.frames == fromPcap.frames)
    }

    @Test func truncatedPcapDeliversFramesBeforeTheDamage() throws {
        let directory = try TemporaryDirectory()
        var builder = PcapFileBuilder()
        builder.add(seconds: 10, fraction: 1, data: Frames.tcp)
        builder.add(seconds: 11, fraction: 2, data: Frames.udp)
        let intact = builder.bytes.count
        builder.add(seconds: 12, fraction: 3, data: Frames.tcp)
        // Cut in the middle of the third record's data.
        let path = try directory.write("cut.pcap", Array(builder.bytes.prefix(intact + 16 + 10)))

        var source = try PcapSource(file: path)
        let (frames, error) = drain(&source)
        #expect(frames.count == 2)
        #expect(frames.last?.bytes == Frames.udp)
        guard let damaged = damage(in: error) else { return }
        #expect(damaged.source == path)
        #expect(damaged.offset == Int64(intact))
        #expect(damaged.offset == 24 + Int64(16 + Frames.tcp.count) + Int64(16 + Frames.udp.count))
        #expect(damaged.message.contains("truncated"))
        #expect(error?.description.contains("offset \(intact)") == true)
    }

    @Test func truncatedRecordHeaderIsDamageToo() throws {
        let directory = try TemporaryDirectory()
        var builder = PcapFileBuilder(bigEndian: true, nanosecond: true)
        builder.add(seconds: 10, fraction: 1, data: Frames.tcp)
        let intact = builder.bytes.count
        builder.add(seconds: 11, fraction: 2, data: Frames.udp)
        let path = try directory.write("cut-header.pcap", Array(builder.bytes.prefix(intact + 7)))
        var source = try PcapSource(file: path)
        let (frames, error) = drain(&source)
        #expect(frames.count == 1)
        guard let damaged = damage(in: error) else { return }
        #expect(damaged.offset == Int64(intact))
    }

    @Test func truncatedPcapngReportsTheEndOfTheLastGoodBlock() throws {
        let directory = try TemporaryDirectory()
        var builder = PcapngFileBuilder(nanosecond: true)
        builder.add(timestamp: 1, data: Frames.tcp)
        let intact = builder.bytes.count
        builder.add(timestamp: 2, data: Frames.udp)
        let path = try directory.write("cut.pcapng", Array(builder.bytes.prefix(intact + 20)))
        var source = try PcapSource(file: path)
        let (frames, error) = drain(&source)
        #expect(frames.count == 1)
        guard let damaged = damage(in: error) else { return }
        #expect(damaged.offset == Int64(intact))
    }

    @Test func damagedRecordLengthIsDamage() throws {
        let directory = try TemporaryDirectory()
        var builder = PcapFileBuilder()
        builder.add(seconds: 1, fraction: 0, data: Frames.tcp)
        let intact = builder.bytes.count
        // A record header claiming 0x7fffffff captured bytes (garbage).
        builder.bytes += [1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4]
        var source = try PcapSource(file: try directory.write("garbage.pcap", builder.bytes))
        let (frames, error) = drain(&source)
        #expect(frames.count == 1)
        guard let damaged = damage(in: error) else { return }
        #expect(damaged.offset == Int64(intact))
    }

    @Test func missingFileCannotBeOpened() throws {
        let directory = try TemporaryDirectory()
        let path = directory.url.appendingPathComponent("nope.pcap").path
        guard case .cannotOpen(let name, let reason, _)? = openError(path) else {
            Issue.record("expected .cannotOpen")
            return
        }
        #expect(name == path)
        #expect(reason == .notFound)
    }

    @Test(arguments: [
        ("text.pcap", Array("this is not a capture file, just some text\n".utf8)),
        ("empty.pcap", []),
        ("short-header.pcap", [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]),
    ])
    func nonCaptureFileCannotBeOpened(name: String, content: [UInt8]) throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write(name, content)
        guard case .cannotOpen(_, let reason, let message)? = openError(path) else {
            Issue.record("expected .cannotOpen")
            return
        }
        #expect(reason == .notACapture)
        #expect(!message.isEmpty)
    }

    @Test func unreadableFileIsPermissionDeniedUnlessRoot() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("secret.pcap", PcapFileBuilder().bytes)
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: path)
        let error = openError(path)
        if getuid() == 0 {
            // root reads anything: the file opens.
            #expect(error == nil)
        } else {
            guard case .cannotOpen(_, let reason, _)? = error else {
                Issue.record("expected .cannotOpen")
                return
            }
            #expect(reason == .permissionDenied)
        }
    }

    @Test func directoryCannotBeOpened() throws {
        let directory = try TemporaryDirectory()
        guard case .cannotOpen(_, let reason, _)? = openError(directory.url.path) else {
            Issue.record("expected .cannotOpen")
            return
        }
        #expect(reason != .notFound)
    }

    @Test(arguments: [false, true])
    func filterSelectsUDP(pcapng: Bool) throws {
        let directory = try TemporaryDirectory()
        let bytes: [UInt8]
        if pcapng {
            var builder = PcapngFileBuilder(nanosecond: false)
            builder.add(timestamp: 1, data: Frames.tcp)
            builder.add(timestamp: 2, data: Frames.udp)
            builder.add(timestamp: 3, data: Frames.tcp)
            bytes = builder.bytes
        } else {
            var builder = PcapFileBuilder()
            builder.add(seconds: 1, fraction: 0, data: Frames.tcp)
            builder.add(seconds: 2, fraction: 0, data: Frames.udp)
            builder.add(seconds: 3, fraction: 0, data: Frames.tcp)
            bytes = builder.bytes
        }
        let path = try directory.write(pcapng ? "mixed.pcapng" : "mixed.pcap", bytes)

        var udpOnly = try PcapSource(file: path)
        try udpOnly.setFilter("udp")
        let udp = drain(&udpOnly)
        #expect(udp.error == nil)
        #expect(udp.frames.map(\.bytes) == [Frames.udp])
        // Skipped records still count as read.
        #expect(udpOnly.bytesRead == Int64(bytes.count))

        var tcpOnly = try PcapSource(file: path)
        try tcpOnly.setFilter("tcp port 443")
        #expect(drain(&tcpOnly).frames.map(\.bytes) == [Frames.tcp, Frames.tcp])

        // Replacing a filter replaces it.
        var replaced = try PcapSource(file: path)
        try replaced.setFilter("tcp")
        try replaced.setFilter("udp port 53")
        #expect(drain(&replaced).frames.count == 1)
    }

    @Test func damageOffsetIsExactWithAFilter() throws {
        let directory = try TemporaryDirectory()
        var builder = PcapFileBuilder()
        builder.add(seconds: 1, fraction: 0, data: Frames.tcp)
        builder.add(seconds: 2, fraction: 0, data: Frames.udp)
        let intact = builder.bytes.count
        builder.add(seconds: 3, fraction: 0, data: Frames.tcp)
        var source = try PcapSource(file: try directory.write("cut.pcap", Array(builder.bytes.dropLast(3))))
        try source.setFilter("tcp")
        let (frames, error) = drain(&source)
        #expect(frames.count == 1)
        guard let damaged = damage(in: error) else { return }
        #expect(damaged.offset == Int64(intact))
    }

    @Test func invalidFilterIsRejected() throws {
        let directory = try TemporaryDirectory()
        var source = try PcapSource(file: try directory.write("a.pcap", PcapFileBuilder().bytes))
        do {
            try source.setFilter("tcp and and port")
            Issue.record("expected an invalid filter error")
        } catch {
            guard case .invalidFilter(let expression, let message) = error else {
                Issue.record("expected .invalidFilter, got \(error)")
                return
            }
            #expect(expression == "tcp and and port")
            #expect(!message.isEmpty)
        }
    }

    @Test func statisticsAreUnavailableOffline() throws {
        let directory = try TemporaryDirectory()
        let source = try PcapSource(file: try directory.write("a.pcap", PcapFileBuilder().bytes))
        #expect(throws: CaptureError.self) { try source.stats() }
    }

    @Test func breakLoopEndsAnOfflineRead() throws {
        let directory = try TemporaryDirectory()
        var builder = PcapFileBuilder()
        builder.add(seconds: 1, fraction: 0, data: Frames.tcp)
        builder.add(seconds: 2, fraction: 0, data: Frames.udp)
        var source = try PcapSource(file: try directory.write("two.pcap", builder.bytes))
        source.breakLoop()
        if case .end = try source.next() {} else { Issue.record("expected .end after breakLoop") }
    }

    @Test func standardInputPipe() throws {
        // "-" reads fd 0: swap a pipe in for the moment PcapSource dups it.
        var builder = PcapFileBuilder(nanosecond: true)
        builder.add(seconds: 5, fraction: 6, data: Frames.tcp)
        let intact = builder.bytes.count
        builder.add(seconds: 7, fraction: 8, data: Frames.udp)
        let cut = Array(builder.bytes.dropLast(5))

        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        let written = cut.withUnsafeBytes { write(ends[1], $0.baseAddress, $0.count) }
        try #require(written == cut.count)  // far below the pipe's capacity
        close(ends[1])
        defer { close(ends[0]) }
        var source = try openStandardInput(replacedBy: ends[0])
        #expect(source.fileSize == nil)
        let (frames, error) = drain(&source)
        #expect(frames.map(\.timestampNanoseconds) == [5_000_000_006])
        guard let damaged = damage(in: error) else { return }
        #expect(damaged.source == "-")
        #expect(damaged.offset == Int64(intact))
        #expect(error?.description.hasPrefix("<stdin>") == true)
    }
}
