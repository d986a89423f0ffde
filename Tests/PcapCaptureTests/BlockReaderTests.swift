import Foundation
import PcapCapture
import Testing

/// The block reader (`FileReader.automatic` on pcap and pcapng files) against libpcap's `pcap_next_ex`
/// (`FileReader.libpcap`): the same frames, bytes, timestamps, offsets and errors, on every capture at hand
/// and on captures damaged in every way a cut or a bad length can.
@Suite struct BlockReaderTests {
    /// Both readers' view of a file: frames, the error, and `bytesRead` at the end.
    private static func readBoth(_ path: String, filter: String? = nil) throws
        -> (blocks: (frames: [OwnedFrame], error: CaptureError?, bytesRead: Int64, usedBlocks: Bool),
            libpcap: (frames: [OwnedFrame], error: CaptureError?, bytesRead: Int64))
    {
        var fast = try PcapSource(file: path)
        let usedBlocks = fast.readsInBlocks
        if let filter { try fast.setFilter(filter) }
        let fastResult = drain(&fast)
        // Read again in batches (`nextFrames`, then `next()` when it gives none), as `analyze` reads: the same
        // frames, error and offset, and `framesRead` counting every frame handed out.
        for batchSize in [1, 5, 64] {
            var batched = try PcapSource(file: path)
            if let filter { try batched.setFilter(filter) }
            let batchedResult = drainInBatches(&batched, batchSize: batchSize)
            #expect(batchedResult.frames == fastResult.frames, "\(path), batches of \(batchSize)")
            #expect(batchedResult.error == fastResult.error, "\(path), batches of \(batchSize)")
            #expect(batched.bytesRead == fast.bytesRead, "\(path), batches of \(batchSize)")
            #expect(batchedResult.countsAgreed, "\(path), batches of \(batchSize): framesRead")
        }
        var reference = try PcapSource(file: path, reader: .libpcap)
        let referenceInBlocks = reference.readsInBlocks
        #expect(!referenceInBlocks)
        if let filter { try reference.setFilter(filter) }
        let referenceResult = drain(&reference)
        return ((fastResult.frames, fastResult.error, fast.bytesRead, usedBlocks),
                (referenceResult.frames, referenceResult.error, reference.bytesRead))
    }

    static let repositoryCaptures: [String] = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        var paths: [String] = []
        for folder in ["Fixtures/pcap", "../shared/fixtures/ja4/pcap"] {
            let directory = root.appendingPathComponent(folder)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            paths += names.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") || $0.hasSuffix(".cap") }
                .sorted().map { directory.appendingPathComponent($0).path }
        }
        return paths
    }()

    @Test func everyCaptureAtHandReadsTheSameWithBothReaders() throws {
        let paths = Self.repositoryCaptures
        #expect(paths.count > 40)
        var blockRead = 0
        for path in paths {
            let (blocks, libpcap) = try Self.readBoth(path)
            if blocks.usedBlocks { blockRead += 1 }
            #expect(blocks.frames == libpcap.frames, "\(path)")
            #expect(blocks.error == libpcap.error, "\(path): \(String(describing: blocks.error)) vs \(String(describing: libpcap.error))")
            #expect(blocks.bytesRead == libpcap.bytesRead, "\(path)")
        }
        // Most fixtures are classic pcap: the block reader really read them.
        #expect(blockRead > 30, "\(blockRead) of \(paths.count)")
    }

    @Test func aFilterSelectsTheSameFrames() throws {
        let path = try #require(Self.repositoryCaptures.first { $0.hasSuffix("multi-connection.pcap") || $0.hasSuffix("tls12-ipv6.pcap") })
        for filter in ["tcp[tcpflags] & tcp-syn != 0", "udp", "ip6", "tcp port 443"] {
            let (blocks, libpcap) = try Self.readBoth(path, filter: filter)
            #expect(blocks.frames == libpcap.frames, "\(filter)")
            #expect(blocks.bytesRead == libpcap.bytesRead, "\(filter)")
        }
    }

    /// A file cut at every length from its header on: the frames before the cut, then libpcap's own error
    /// at the same offset (the block reader hands the cut record to libpcap).
    @Test(arguments: [(false, false), (true, true)])
    func everyCutGivesTheSameFramesAndDamage(bigEndian: Bool, nanosecond: Bool) throws {
        let directory = try TemporaryDirectory()
        var builder = PcapFileBuilder(bigEndian: bigEndian, nanosecond: nanosecond)
        builder.add(seconds: 10, fraction: 1, data: Frames.tcp)
        builder.add(seconds: 4_000_000_000, fraction: 999, data: Frames.udp, originalLength: 1500)
        builder.add(seconds: 12, fraction: 3, data: Frames.tcp)
        for length in 24...builder.bytes.count {
            let path = try directory.write("cut-\(length).pcap", Array(builder.bytes.prefix(length)))
            let (blocks, libpcap) = try Self.readBoth(path)
            #expect(blocks.usedBlocks)
            #expect(blocks.frames == libpcap.frames, "cut at \(length)")
            #expect(blocks.error == libpcap.error, "cut at \(length)")
            #expect(blocks.error?.description == libpcap.error?.description, "cut at \(length)")
            #expect(blocks.bytesRead == libpcap.bytesRead, "cut at \(length)")
        }
    }

    /// Lengths the block reader does not vouch for: over the snapshot length (libpcap cuts the frame to it
    /// and skips the rest), over libpcap's maximum (damage), and a zero-length record.
    @Test func unusualRecordLengthsAreLibpcapsToRead() throws {
        let directory = try TemporaryDirectory()
        var builder = PcapFileBuilder(snapLength: 64)
        builder.add(seconds: 1, fraction: 0, data: Array(Frames.tcp.prefix(40)))
        builder.add(seconds: 2, fraction: 0, data: [])
        builder.add(seconds: 3, fraction: 0, data: Frames.tcp + [UInt8](repeating: 0xab, count: 100))
        builder.add(seconds: 4, fraction: 0, data: Array(Frames.udp.prefix(60)))
        let (blocks, libpcap) = try Self.readBoth(try directory.write("snap.pcap", builder.bytes))
        #expect(blocks.frames.count == 4 && blocks.frames.count == libpcap.frames.count)
        #expect(blocks.frames == libpcap.frames)
        #expect(blocks.error == nil && libpcap.error == nil)
        #expect(blocks.bytesRead == libpcap.bytesRead)

        var garbage = PcapFileBuilder()
        garbage.add(seconds: 1, fraction: 0, data: Frames.tcp)
        garbage.bytes += [1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4]
        let (badBlocks, badLibpcap) = try Self.readBoth(try directory.write("garbage.pcap", garbage.bytes))
        #expect(badBlocks.frames == badLibpcap.frames && badBlocks.frames.count == 1)
        #expect(badBlocks.error?.description == badLibpcap.error?.description)
        #expect(badBlocks.error != nil)
    }

    /// Batched reading stops at a break request and leaves it to `next()`, which ends the reading (as it does
    /// one frame at a time); a filter turns batches off, so that every frame passes through it.
    @Test func batchesStopAtABreakRequestAndWithAFilter() throws {
        let directory = try TemporaryDirectory()
        var builder = PcapFileBuilder()
        for index in 0..<10 { builder.add(seconds: UInt32(index), fraction: 0, data: Frames.tcp) }
        let path = try directory.write("ten.pcap", builder.bytes)
        let batch = UnsafeMutableBufferPointer<FrameView>.allocate(capacity: 4)
        defer { batch.deallocate() }

        var source = try PcapSource(file: path)
        #expect(source.nextFrames(into: batch) == 0)  // nothing read yet: next() reads the first block
        guard case .frame(let first) = try source.next() else { Issue.record("no first frame"); return }
        #expect(first.timestampNanoseconds == 0)
        #expect(source.nextFrames(into: batch) == 4)
        #expect(batch[3].timestampNanoseconds == 4_000_000_000)
        #expect(source.framesRead == 5)
        source.breakLoop()
        #expect(source.nextFrames(into: batch) == 0)
        guard case .end = try source.next() else { Issue.record("a break request did not end the reading"); return }

        var filtered = try PcapSource(file: path)
        try filtered.setFilter("tcp")
        _ = try filtered.next()
        #expect(filtered.nextFrames(into: batch) == 0)
    }

    /// Records across the reader's 4 MiB blocks: a file of ~9 MiB of frames of many sizes.
    @Test func recordsAcrossBlockBoundariesAreWhole() throws {
        let directory = try TemporaryDirectory()
        var builder = PcapFileBuilder(snapLength: 262_144)
        var size = 1
        var total = 0
        var index: UInt32 = 0
        while total < 9 * 1024 * 1024 {
            builder.add(seconds: index, fraction: index, data: [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: size))
            total += 16 + size
            size = (size * 7 + 13) % 70_000
            index += 1
        }
        let (blocks, libpcap) = try Self.readBoth(try directory.write("big.pcap", builder.bytes))
        #expect(blocks.usedBlocks)
        #expect(blocks.frames.count == Int(index))
        #expect(blocks.frames == libpcap.frames)
        #expect(blocks.error == nil && libpcap.error == nil)
        #expect(blocks.bytesRead == Int64(builder.bytes.count))
    }

    /// pcapng with one interface, cut at every length: the same frames, offsets and errors as libpcap.
    @Test(arguments: [false, true])
    func everyCutOfAPcapngGivesTheSameFramesAndDamage(nanosecond: Bool) throws {
        let directory = try TemporaryDirectory()
        var builder = PcapngFileBuilder(nanosecond: nanosecond)
        builder.add(timestamp: 1_700_000_000_123_456, data: Frames.tcp)
        builder.addNameResolutionBlock()
        builder.add(timestamp: 5_000_000_000_000_000_007, data: Frames.udp, originalLength: 1500)
        builder.addStatisticsBlock()
        builder.add(timestamp: 3, data: Frames.tcp)
        builder.addStatisticsBlock()
        let whole = try Self.readBoth(try directory.write("whole.pcapng", builder.bytes))
        #expect(whole.blocks.usedBlocks)
        #expect(whole.blocks.frames.count == 3 && whole.blocks.frames == whole.libpcap.frames)
        for length in 1...builder.bytes.count {
            let path = try directory.write("cut-\(length).pcapng", Array(builder.bytes.prefix(length)))
            guard let (blocks, libpcap) = try? Self.readBoth(path) else {
                #expect(throws: CaptureError.self, "cut at \(length)") { try PcapSource(file: path, reader: .libpcap) }
                continue
            }
            #expect(blocks.frames == libpcap.frames, "cut at \(length)")
            #expect(blocks.error?.description == libpcap.error?.description, "cut at \(length)")
            #expect(blocks.bytesRead == libpcap.bytesRead, "cut at \(length)")
        }
    }

    /// What the block reader leaves to libpcap part-way: a second interface, a packet on an interface with
    /// no description — libpcap reads on from that block, with the state it had (the first interface).
    @Test func pcapngWithAnotherInterfaceOrAnUnknownOneIsLibpcapsFromThere() throws {
        let directory = try TemporaryDirectory()
        var twoInterfaces = PcapngFileBuilder(nanosecond: true)
        twoInterfaces.add(timestamp: 10, data: Frames.tcp)
        twoInterfaces.addInterface()
        twoInterfaces.add(interface: 1, timestamp: 20, data: Frames.udp)
        twoInterfaces.add(timestamp: 30, data: Frames.tcp)
        let two = try Self.readBoth(try directory.write("two.pcapng", twoInterfaces.bytes))
        #expect(two.blocks.usedBlocks)
        #expect(two.blocks.frames.count == 3 && two.blocks.frames == two.libpcap.frames)
        #expect(two.blocks.error == nil && two.libpcap.error == nil)
        #expect(two.blocks.bytesRead == two.libpcap.bytesRead)

        var unknownInterface = PcapngFileBuilder(nanosecond: false)
        unknownInterface.add(timestamp: 10, data: Frames.tcp)
        unknownInterface.add(interface: 7, timestamp: 20, data: Frames.udp)
        let unknown = try Self.readBoth(try directory.write("unknown.pcapng", unknownInterface.bytes))
        #expect(unknown.blocks.frames == unknown.libpcap.frames && unknown.blocks.frames.count == 1)
        #expect(unknown.blocks.error != nil)
        #expect(unknown.blocks.error?.description == unknown.libpcap.error?.description)
    }
}
