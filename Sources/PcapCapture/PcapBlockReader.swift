#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the records of a classic pcap file in large blocks and hands out each frame in place: one
/// `pread` per 4 MiB instead of libpcap's two `fread`s (and a copy) per record.
///
/// It reads only what it can be sure of: a record whose header is whole, whose captured length is at
/// most the file's snapshot length (and libpcap's 262,144-byte maximum), and whose bytes are all there.
/// Anything else — a cut record, a length libpcap would truncate or reject — is left to libpcap, which
/// the source seeks to that record's offset (`fallbackOffset`): damage is reported by one reader only,
/// with libpcap's words and the exact offset.
///
/// Record header (classic pcap, in the file's byte order):
///
///     uint32 ts_sec; uint32 ts_usec_or_nsec; uint32 incl_len; uint32 orig_len;
final class PcapBlockReader {
    /// Bytes read per `pread`; a record (≤ 16 + 262,144 bytes) always fits with room to spare.
    static let blockSize = 4 * 1024 * 1024
    /// libpcap's MAXIMUM_SNAPLEN: a larger captured length is never in a good record of the link types
    /// read here.
    static let maximumCapturedLength = 262_144

    private let descriptor: Int32
    private let swapped: Bool
    private let ticksToNanoseconds: Int64
    private let maximumLength: Int
    private let buffer: UnsafeMutableRawBufferPointer
    /// File offset of `buffer[0]`, bytes of `buffer` that hold file data, and the next record's index in it.
    private var bufferOffset: Int64
    private var filled = 0
    private var position = 0
    private var endOfFile = false

    /// Set when a record is left to libpcap: the file offset it starts at.
    private(set) var fallbackOffset: Int64?

    /// - Parameters:
    ///   - descriptor: the file, read with `pread` from `start` (the file position is not used or moved).
    ///   - magic: the file header's magic number as read in host order.
    ///   - snapshot: libpcap's snapshot length for the file (`pcap_snapshot`).
    init?(descriptor: Int32, start: Int64, magic: UInt32, snapshot: Int) {
        switch magic {
        case 0xa1b2_c3d4: (swapped, ticksToNanoseconds) = (false, 1000)
        case 0xa1b2_3c4d: (swapped, ticksToNanoseconds) = (false, 1)
        case 0xd4c3_b2a1: (swapped, ticksToNanoseconds) = (true, 1000)
        case 0x4d3c_b2a1: (swapped, ticksToNanoseconds) = (true, 1)
        default: return nil
        }
        self.descriptor = descriptor
        self.maximumLength = min(snapshot, Self.maximumCapturedLength)
        self.bufferOffset = start
        self.buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.blockSize, alignment: 16)
    }

    deinit { buffer.deallocate() }

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

    /// The next record. The frame's bytes are valid until the next call.
    func next() -> Step {
        if filled - position < 16, let failure = refill() { return failure }
        let available = filled - position
        if available == 0 { return .end }
        if available < 16 { return fallBack() }
        let header = UnsafeRawBufferPointer(rebasing: buffer[position..<position + 16])
        let seconds = field(header, 0)
        let fraction = field(header, 4)
        let capturedLength = Int(field(header, 8))
        let originalLength = Int(field(header, 12))
        guard capturedLength <= maximumLength else { return fallBack() }
        if available < 16 + capturedLength {
            if let failure = refill() { return failure }
            guard filled - position >= 16 + capturedLength else { return fallBack() }
        }
        let start = position + 16
        position = start + capturedLength
        return .frame(
            FrameView(
                timestampNanoseconds: Int64(seconds) &* 1_000_000_000 &+ Int64(fraction) &* ticksToNanoseconds,
                capturedLength: capturedLength, originalLength: originalLength,
                bytes: UnsafeRawBufferPointer(rebasing: buffer[start..<position])))
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
        if unread > 0, position > 0, let base = buffer.baseAddress {
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
