#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the records of a capture file in large blocks and hands out each frame in place: one `pread`
/// per 4 MiB instead of libpcap's `fread`s (and a copy) per record.
///
/// It reads only what it can be sure of: a record whose header is whole, whose captured length is at
/// most the file's snapshot length (and libpcap's 262,144-byte maximum), and whose bytes are all there.
/// Anything else — a cut record, a length libpcap would truncate or reject — is left to libpcap, which
/// the source seeks to that record's offset (`fallbackOffset`): damage is reported by one reader only,
/// with libpcap's words and the exact offset.
///
/// Classic pcap record header (in the file's byte order):
///
///     uint32 ts_sec; uint32 ts_usec_or_nsec; uint32 incl_len; uint32 orig_len;
///
/// pcapng (one section, one interface): after the Section Header and the first Interface Description
/// Block, which libpcap has read when the file was opened, Enhanced Packet Blocks are read here and the
/// block types libpcap ignores are passed over; any other block (another IDB or SHB, a Simple or obsolete
/// Packet Block, an EPB of another interface) is libpcap's from there on, which is exactly the state
/// libpcap has: it read nothing but the SHB and the first IDB.
///
///     Enhanced Packet Block: uint32 type = 6, uint32 total_length, uint32 interface_id,
///         uint32 ts_high, uint32 ts_low, uint32 captured_len, uint32 original_len,
///         data (padded to 4), options, uint32 total_length
final class PcapBlockReader {
    private enum Format {
        /// Fraction of a second in micro- (1000) or nanoseconds (1).
        case pcap(ticksToNanoseconds: Int64)
        /// Timestamps count units of 1 / `unitsPerSecond` (10^6 or 10^9); `scale` turns the fraction into ns.
        case pcapng(unitsPerSecond: UInt64, scale: Int64)
    }
    private let format: Format
    /// Bytes read per `pread`; a record (≤ 16 + 262,144 bytes) always fits with room to spare.
    static let blockSize = 4 * 1024 * 1024
    /// libpcap's MAXIMUM_SNAPLEN: a larger captured length is never in a good record of the link types
    /// read here.
    static let maximumCapturedLength = 262_144

    private let descriptor: Int32
    /// The file's byte order is not this machine's.
    let swapped: Bool
    private let maximumLength: Int
    /// The block being read (`buffer` is its bytes). Once blocks are shared (`shareBlocks`), a block that
    /// readers still hold is left alone at refill: reading goes on in a free one from `pool`.
    private(set) var block: FrameBlock
    private var buffer: UnsafeMutableRawBufferPointer
    private var pool: FrameBlockPool?
    /// File offset of `buffer[0]`, bytes of `buffer` that hold file data, and the next record's index in it.
    private var bufferOffset: Int64
    private var filled = 0
    private var position = 0
    private var endOfFile = false

    /// TLS key logs found in pcapng Decryption Secrets Blocks (what `editcap --inject-secrets tls,FILE` writes),
    /// concatenated in file order, at most `maximumSecretsBytes`.
    private(set) var tlsKeyLog: [UInt8] = []
    /// Secrets type of a TLS key log in an NSS SSLKEYLOGFILE format (pcapng §4.7: "TLSK").
    static let tlsKeyLogSecretsType: UInt32 = 0x544c_534b
    static let maximumSecretsBytes = 16 << 20

    /// Set when a record is left to libpcap: the file offset it starts at.
    private(set) var fallbackOffset: Int64?

    /// - Parameters:
    ///   - descriptor: the file, read with `pread` from `start` (the file position is not used or moved).
    ///   - magic: the file header's magic number as read in host order.
    ///   - snapshot: libpcap's snapshot length for the file (`pcap_snapshot`).
    init?(descriptor: Int32, start: Int64, magic: UInt32, snapshot: Int) {
        let ticks: Int64
        switch magic {
        case 0xa1b2_c3d4: (swapped, ticks) = (false, 1000)
        case 0xa1b2_3c4d: (swapped, ticks) = (false, 1)
        case 0xd4c3_b2a1: (swapped, ticks) = (true, 1000)
        case 0x4d3c_b2a1: (swapped, ticks) = (true, 1)
        default: return nil
        }
        self.format = .pcap(ticksToNanoseconds: ticks)
        self.descriptor = descriptor
        self.maximumLength = min(snapshot, Self.maximumCapturedLength)
        self.bufferOffset = start
        self.block = FrameBlock(capacity: Self.blockSize)
        self.buffer = block.bytes
    }

    private init(descriptor: Int32, start: Int64, swapped: Bool, format: Format, snapshot: Int) {
        self.descriptor = descriptor
        self.swapped = swapped
        self.format = format
        self.maximumLength = min(snapshot, Self.maximumCapturedLength)
        self.bufferOffset = start
        self.block = FrameBlock(capacity: Self.blockSize)
        self.buffer = block.bytes
    }

    /// A reader for a pcapng file whose first section starts with the SHB, then (after blocks libpcap
    /// ignores) one IDB with a microsecond or nanosecond resolution and no time offset; nil for anything
    /// else (libpcap reads such files whole). Reads the file's first blocks with `pread`.
    static func pcapng(descriptor: Int32, snapshot: Int) -> PcapBlockReader? {
        // The first 64 KiB hold the blocks before the first IDB, unless Decryption Secrets Blocks make them
        // longer: then as much as they need, up to the secrets' cap.
        var size = 64 * 1024
        while true {
            switch pcapng(descriptor: descriptor, snapshot: snapshot, headerSize: size) {
            case .reader(let reader): return reader
            case .notBlockReadable: return nil
            case .needs(let bytes):
                guard bytes > size, bytes <= maximumSecretsBytes + 64 * 1024 else { return nil }
                size = bytes
            }
        }
    }

    private enum HeaderOutcome {
        case reader(PcapBlockReader)
        case notBlockReadable
        /// A block before the first IDB ends past what was read: read this many bytes instead.
        case needs(Int)
    }

    private static func pcapng(descriptor: Int32, snapshot: Int, headerSize: Int) -> HeaderOutcome {
        var header = [UInt8](repeating: 0, count: headerSize)
        let count = header.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return .notBlockReadable }
        let outcome = header.withUnsafeBytes { bytes -> HeaderOutcome in
            let bytes = UnsafeRawBufferPointer(rebasing: bytes[..<count])
            guard bytes.count >= 28, bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self) == 0x0a0d_0d0a else {
                return .notBlockReadable
            }
            let swapped: Bool
            switch bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self) {
            case 0x1a2b_3c4d: swapped = false
            case 0x4d3c_2b1a: swapped = true
            default: return .notBlockReadable
            }
            func word(_ at: Int) -> UInt32? {
                guard at >= 0, at + 4 <= bytes.count else { return nil }
                let value = bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)
                return swapped ? value.byteSwapped : value
            }
            func half(_ at: Int) -> UInt16? {
                guard at >= 0, at + 2 <= bytes.count else { return nil }
                let value = bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self)
                return swapped ? value.byteSwapped : value
            }
            // Blocks up to the first IDB, all within what was read.
            var offset = 0
            var sawSectionHeader = false
            var secrets: [UInt8] = []
            while true {
                if let length = word(offset + 4).map(Int.init), length >= 12, offset + length > bytes.count,
                    bytes.count == headerSize
                {
                    return .needs(offset + length + 64 * 1024)  // the block, and room for the IDB after it
                }
                guard let type = word(offset), let length = word(offset + 4).map(Int.init), length >= 12,
                    length % 4 == 0, offset + length <= bytes.count, word(offset + length - 4) == UInt32(length)
                else { return .notBlockReadable }
                if type == 0x0a0d_0d0a {
                    guard !sawSectionHeader else { return .notBlockReadable }  // a second section before any interface
                    sawSectionHeader = true
                } else if type == 1 {
                    // IDB: link type (2), reserved (2), snaplen (4), options from +16.
                    var unitsPerSecond: UInt64 = 1_000_000
                    var option = offset + 16
                    while option + 4 <= offset + length - 4 {
                        guard let code = half(option), let optionLength = half(option + 2).map(Int.init) else {
                            return .notBlockReadable
                        }
                        if code == 0 { break }
                        let value = option + 4
                        guard value + optionLength <= offset + length - 4 else { return .notBlockReadable }
                        if code == 9 {  // if_tsresol: 10^-6 and 10^-9 only
                            guard optionLength == 1 else { return .notBlockReadable }
                            switch bytes[value] {
                            case 6: unitsPerSecond = 1_000_000
                            case 9: unitsPerSecond = 1_000_000_000
                            default: return .notBlockReadable
                            }
                        } else if code == 14 {  // if_tsoffset: left to libpcap
                            return .notBlockReadable
                        }
                        option = value + ((optionLength + 3) & ~3)
                    }
                    let scale: Int64 = unitsPerSecond == 1_000_000 ? 1000 : 1
                    let reader = PcapBlockReader(
                        descriptor: descriptor, start: Int64(offset + length), swapped: swapped,
                        format: .pcapng(unitsPerSecond: unitsPerSecond, scale: scale), snapshot: snapshot)
                    reader.tlsKeyLog = secrets
                    return .reader(reader)
                } else if type == 2 || type == 3 || type == 6 {
                    return .notBlockReadable  // a packet before any interface: libpcap's to report
                } else if type == 0x0a, let kind = word(offset + 8), let size = word(offset + 12).map(Int.init),
                    kind == PcapBlockReader.tlsKeyLogSecretsType, size <= length - 20,
                    secrets.count + size <= PcapBlockReader.maximumSecretsBytes
                {
                    secrets += bytes[offset + 16..<offset + 16 + size]
                }
                offset += length
            }
        }
        return outcome
    }

    /// Lets frames' blocks be held by other threads (`FrameBlock.hold`), with at most `limit` blocks in all.
    func shareBlocks(limit: Int) {
        pool = FrameBlockPool(blockSize: Self.blockSize, limit: limit, adopting: [block])
    }

    /// File offset just after the last record handed out.
    var offset: Int64 { bufferOffset &+ Int64(position) }

    /// What `next` found.
    enum Step {
        case frame(FrameView)
        /// The file ended cleanly after the last record.
        case end
        /// This record is libpcap's to read (see `fallbackOffset`).
        case fallback
        /// `pread` failed (errno).
        case readError(Int32)
    }

    /// The next record. The frame's bytes are valid until the next call. (Inlined, with the classic pcap
    /// reader, into `PcapSource.next`: one call a frame fewer, and the frame not copied through `Step`.)
    @inline(__always)
    func next() -> Step {
        switch format {
        case .pcap(let ticks): nextRecord(ticksToNanoseconds: ticks)
        case .pcapng(let unitsPerSecond, let scale): nextBlock(unitsPerSecond: unitsPerSecond, scale: scale)
        }
    }

    /// Bytes of the largest pcapng block read here (a packet and its options); a larger one is libpcap's.
    static let maximumBlockLength = 1024 * 1024

    /// The next Enhanced Packet Block, passing over the block types libpcap ignores.
    private func nextBlock(unitsPerSecond: UInt64, scale: Int64) -> Step {
        while true {
            if filled - position < 12, let failure = refill() { return failure }
            let available = filled - position
            if available == 0 { return .end }
            if available < 12 { return fallBack() }
            let type = word(position)
            let length = Int(word(position + 4))
            guard length >= 12, length % 4 == 0, length <= Self.maximumBlockLength else { return fallBack() }
            if available < length {
                if let failure = refill() { return failure }
                guard filled - position >= length else { return fallBack() }
            }
            guard word(position + length - 4) == UInt32(length) else { return fallBack() }
            switch type {
            case 6:
                guard length >= 32, word(position + 8) == 0 else { return fallBack() }
                let capturedLength = Int(word(position + 20))
                let originalLength = Int(word(position + 24))
                guard capturedLength <= maximumLength, capturedLength <= originalLength,
                    28 + ((capturedLength + 3) & ~3) + 4 <= length
                else { return fallBack() }
                let units = UInt64(word(position + 12)) << 32 | UInt64(word(position + 16))
                // As libpcap converts (sf-pcapng.c): seconds and fraction, the fraction scaled to ns; and as
                // PcapSource reads libpcap's seconds (a value in [-2^31, 0) taken as a time after 2038).
                var seconds = Int64(truncatingIfNeeded: units / unitsPerSecond)
                if seconds < 0 && seconds >= -0x8000_0000 { seconds &+= 0x1_0000_0000 }
                let fraction = Int64(truncatingIfNeeded: units % unitsPerSecond)
                let start = position + 28
                position += length
                return .frame(
                    FrameView(
                        timestampNanoseconds: seconds &* 1_000_000_000 &+ fraction &* scale,
                        capturedLength: capturedLength, originalLength: originalLength,
                        bytes: UnsafeRawBufferPointer(rebasing: buffer[start..<start + capturedLength])))
            case 0x0a0d_0d0a, 1, 2, 3:
                return fallBack()  // a new section or interface, a Simple or obsolete Packet Block
            case 0x0a:
                // Decryption Secrets Block: secrets type, secrets length, data (pcapng §4.7).
                let size = Int(word(position + 12))
                if word(position + 8) == Self.tlsKeyLogSecretsType, length >= 20, size <= length - 20,
                    tlsKeyLog.count + size <= Self.maximumSecretsBytes
                {
                    tlsKeyLog += UnsafeRawBufferPointer(rebasing: buffer[position + 16..<position + 16 + size])
                }
                position += length
            default:
                position += length  // name resolution, statistics, custom: libpcap ignores them too
            }
        }
    }

    private func word(_ at: Int) -> UInt32 {
        let value = UnsafeRawBufferPointer(buffer).loadUnaligned(fromByteOffset: at, as: UInt32.self)
        return swapped ? value.byteSwapped : value
    }

    /// The next classic pcap record.
    @inline(__always)
    private func nextRecord(ticksToNanoseconds: Int64) -> Step {
        if let frame = wholeRecord(ticksToNanoseconds: ticksToNanoseconds) { return .frame(frame) }
        // Not whole in the block: read on, or end, or leave the record to libpcap.
        if filled - position < 16, let failure = refill() { return failure }
        let available = filled - position
        if available == 0 { return .end }
        if available < 16 { return fallBack() }
        let capturedLength = Int(field(UnsafeRawBufferPointer(rebasing: buffer[position..<position + 16]), 8))
        guard capturedLength <= maximumLength else { return fallBack() }
        if available < 16 + capturedLength, let failure = refill() { return failure }
        return wholeRecord(ticksToNanoseconds: ticksToNanoseconds).map(Step.frame) ?? fallBack()
    }

    /// The classic pcap record at `position` when its header and its bytes lie whole in the block and its
    /// captured length is one this reader vouches for (moving past it); nil, nothing moved, otherwise.
    @inline(__always)
    private func wholeRecord(ticksToNanoseconds: Int64) -> FrameView? {
        let start = position + 16
        guard start <= filled else { return nil }
        let header = UnsafeRawBufferPointer(rebasing: buffer[position..<start])
        let capturedLength = Int(field(header, 8))
        guard capturedLength <= maximumLength, capturedLength <= filled - start else { return nil }
        position = start + capturedLength
        return FrameView(
            timestampNanoseconds: Int64(field(header, 0)) &* 1_000_000_000 &+ Int64(field(header, 4)) &* ticksToNanoseconds,
            capturedLength: capturedLength, originalLength: Int(field(header, 12)),
            bytes: UnsafeRawBufferPointer(rebasing: buffer[start..<position]))
    }

    /// Up to `frames.count` classic pcap records that lie whole in the block already read, written to
    /// `frames`; stops before anything `next()` must handle (a refill, the end of the file, a record left to
    /// libpcap, a pcapng file). The frames stay valid until the next call to this or `next()`, as nothing
    /// is read into the block in between. One call for many frames: the per-frame cost is the header's
    /// few loads, where a call of `next()` a frame went through the source and its result twice.
    func wholeRecords(into frames: UnsafeMutableBufferPointer<FrameView>) -> Int {
        guard case .pcap(let ticks) = format, let base = frames.baseAddress else { return 0 }
        var count = 0
        while count < frames.count, let frame = wholeRecord(ticksToNanoseconds: ticks) {
            (base + count).initialize(to: frame)
            count += 1
        }
        return count
    }

    private func field(_ header: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        let value = header.loadUnaligned(fromByteOffset: at, as: UInt32.self)
        return swapped ? value.byteSwapped : value
    }

    private func fallBack() -> Step {
        fallbackOffset = offset
        return .fallback
    }

    /// Moves the unread bytes to the front and reads more behind them; nil when done (even at the end of
    /// the file), `.readError` when `pread` failed.
    private func refill() -> Step? {
        guard !endOfFile else { return nil }
        let unread = filled - position
        if !block.isFree, var pool {
            // Readers still hold this block: the unread tail goes to the front of a free one.
            let next = pool.take()
            self.pool = pool
            if unread > 0, let from = buffer.baseAddress, let to = next.bytes.baseAddress {
                memcpy(to, from + position, unread)
            }
            block = next
            buffer = next.bytes
        } else if unread > 0, position > 0, let base = buffer.baseAddress {
            memmove(base, base + position, unread)
        }
        bufferOffset &+= Int64(position)
        position = 0
        filled = unread
        while filled < buffer.count {
            guard let base = buffer.baseAddress else { return nil }
            let count = pread(descriptor, base + filled, buffer.count - filled, off_t(bufferOffset &+ Int64(filled)))
            if count < 0 {
                if errno == EINTR { continue }
                return .readError(errno)
            }
            if count == 0 {
                endOfFile = true
                break
            }
            filled += count
        }
        return nil
    }
}
