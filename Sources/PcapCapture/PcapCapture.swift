import CPcap
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One captured frame, borrowed from libpcap's buffer.
///
/// `bytes` points into memory owned by the `PcapSource` and is valid only until the next call to
/// `PcapSource.next()` (or until the source is destroyed). Nothing is copied per frame: a consumer that
/// needs the bytes later must copy them itself.
public struct FrameView {
    /// Capture time in nanoseconds since the Unix epoch (microsecond inputs are scaled up).
    public let timestampNanoseconds: Int64
    /// Bytes captured (`bytes.count`); less than `originalLength` when the snap length cut the frame.
    public let capturedLength: Int
    /// Length of the frame on the wire.
    public let originalLength: Int
    /// The captured bytes, starting at the link-layer header given by `PcapSource.linkType`.
    public let bytes: UnsafeRawBufferPointer
}

/// What one call to `PcapSource.next()` produced.
public enum ReadResult {
    /// A frame; its bytes are valid until the next call to `next()`.
    case frame(FrameView)
    /// Live capture only: the read timeout expired without a frame. Call `next()` again. Not every
    /// platform reports it: libpcap 1.10 on Linux in immediate mode keeps waiting inside `pcap_next_ex`
    /// on a quiet link, so a caller that needs a clock tick calls `breakLoop()` from a timer (as
    /// `tlsscope monitor` does) and sees `.end`.
    case timeout
    /// End of the input, or `breakLoop()` was called.
    case end
}

/// libpcap's packet counters for a live capture (`pcap_stats`).
public struct CaptureStatistics: Sendable, Hashable {
    /// Packets received by the filter.
    public var received: UInt64
    /// Packets dropped because the capture buffer was full.
    public var dropped: UInt64
    /// Packets dropped by the interface or its driver.
    public var interfaceDropped: UInt64

    public init(received: UInt64, dropped: UInt64, interfaceDropped: UInt64) {
        self.received = received
        self.dropped = dropped
        self.interfaceDropped = interfaceDropped
    }
}

/// Stops a blocked or looping `PcapSource.next()` from another thread (`pcap_breakloop`).
///
/// The handle may outlive its source: once the source is closed, `breakLoop()` does nothing. It takes a lock,
/// so call it from a thread or a `DispatchSourceSignal` handler, not from a raw async signal handler.
public final class BreakLoopHandle: Sendable {
    // The pointer is guarded so that a late breakLoop() cannot race pcap_close(). It is kept as its bit
    // pattern (0 once closed) because OpaquePointer is not Sendable.
    private let handle: Mutex<Int>

    init(_ handle: OpaquePointer) {
        self.handle = Mutex(Int(bitPattern: handle))
    }

    /// Set by `breakLoop()` for a file read without libpcap (`PcapBlockReader`), which looks at it per record.
    private let breakRequested = Atomic<Bool>(false)

    /// Makes the current or next `next()` call return `.end`.
    public func breakLoop() {
        breakRequested.store(true, ordering: .relaxed)
        handle.withLock { bits in
            if let pointer = OpaquePointer(bitPattern: bits) { pcap_breakloop(pointer) }
        }
    }

    /// `breakLoop()` was called and `takeBreakRequest()` has not yet seen it.
    var breakPending: Bool { breakRequested.load(ordering: .relaxed) }

    /// True once after `breakLoop()` (as libpcap clears its own flag when `pcap_next_ex` sees it).
    func takeBreakRequest() -> Bool {
        guard breakRequested.load(ordering: .relaxed) else { return false }
        return breakRequested.exchange(false, ordering: .relaxed)
    }

    fileprivate func close() {
        handle.withLock { bits in
            if let pointer = OpaquePointer(bitPattern: bits) { pcap_close(pointer) }
            bits = 0
        }
    }
}

/// How a capture file's records are read.
public enum FileReader: Sendable, Hashable {
    /// Regular pcap and pcapng files (of the link types tlsscope decodes; pcapng with one interface) in large
    /// blocks, frames handed out in place (`PcapBlockReader`); pipes and anything unusual through libpcap.
    case automatic
    /// Every record through libpcap's `pcap_next_ex` (the reference the block reader is tested against).
    case libpcap
}

/// A capture source: a pcap/pcapng file, standard input (`"-"`), or a live interface.
///
/// The only owner of the libpcap handle; `deinit` closes it. Read with
/// `while case .frame(let frame) = try source.next() { ... }` (offline) or switch over `ReadResult` (live).
public struct PcapSource: ~Copyable {
    /// How the offset of the next record is known, for `bytesRead` and damage reports.
    private enum OffsetTracking {
        /// Classic pcap with 16-byte record headers: `24 + Σ (16 + caplen)`. Exact and free.
        case computed
        /// Ask the FILE for its position after each record (pcapng, unusual pcap variants).
        case ftell
        /// Live capture: no offsets.
        case none
    }

    private let handle: OpaquePointer
    private let file: UnsafeMutablePointer<FILE>?
    private let breakHandle: BreakLoopHandle
    private let tracking: OffsetTracking
    private let seekable: Bool
    private let ticksToNanoseconds: Int64
    private let snapshot: Int
    /// Offline BPF program, applied with `pcap_offline_filter` so that every record passes through `next()`
    /// and the byte offset stays exact.
    private var offlineFilter: bpf_program?
    private var offset: Int64
    /// Reads the records while it can (classic pcap, regular file); nil once libpcap has taken over.
    private var blockReader: PcapBlockReader? {
        didSet { blockReaderReference = blockReader.map { Unmanaged.passUnretained($0) } }
    }
    /// `blockReader` unretained, for `next`: bound from the optional, the reader was retained and released
    /// for every frame (two atomic operations a packet). `blockReader` keeps it alive.
    private var blockReaderReference: Unmanaged<PcapBlockReader>?

    /// TLS key logs embedded in the pcapng file's Decryption Secrets Blocks read so far (those before the
    /// first interface at once, later ones as reading reaches them); empty for pcap, pipes and files libpcap
    /// reads alone (issue #14's `--keylog` merges them with its file).
    public var embeddedTLSKeyLog: [UInt8] { blockReader?.tlsKeyLog ?? [] }

    /// The file name (or `"-"`) or the interface name.
    public let sourceName: String
    /// True for a live interface.
    public let isLive: Bool
    /// The DLT link type of every frame (`pcap_datalink`). This is libpcap's DLT value, not always the file's
    /// LINKTYPE value: LINKTYPE_RAW (101) is reported as DLT_RAW (12 on Linux).
    public let linkType: Int32
    /// Size of the input in bytes when it is a regular file; nil for pipes and live captures.
    public let fileSize: Int64?
    /// A warning libpcap gave when activating a live capture (e.g. promiscuous mode not supported).
    public let activationWarning: String?

    // MARK: Opening

    /// DLT link types whose records libpcap hands out exactly as stored (no pseudo-header fix-ups, which
    /// `pcap_next_ex` applies to USB and NFLOG captures and to byte-swapped Linux cooked ones).
    private static let blockReadableLinkTypes: Set<Int32> = [0, 1, 9, 12, 14, 50, 108, 204, 228, 229]
    private static let nativeOrderBlockReadableLinkTypes: Set<Int32> = [113, 276]

    /// Opens a pcap or pcapng file, or standard input when `path` is `"-"`. Timestamps keep nanosecond precision.
    public init(file path: String, reader: FileReader = .automatic) throws(CaptureError) {
        var stream: UnsafeMutablePointer<FILE>
        if path == "-" {
            // A dup of fd 0, so that pcap_close() closes our descriptor and not the process's stdin.
            let fd = dup(STDIN_FILENO)
            guard fd >= 0, let opened = fdopen(fd, "rb") else {
                let code = errno
                if fd >= 0 { close(fd) }
                throw .cannotOpen(source: path, reason: .other, message: Self.errnoText(code))
            }
            stream = opened
        } else {
            guard let opened = fopen(path, "rb") else {
                let code = errno
                let reason: OpenFailureReason
                switch code {
                case ENOENT, ENOTDIR: reason = .notFound
                case EACCES, EPERM: reason = .permissionDenied
                default: reason = .other
                }
                throw .cannotOpen(source: path, reason: reason, message: Self.errnoText(code))
            }
            stream = opened
        }

        // Size and format are looked at before libpcap reads anything, with fstat/pread (no FILE position change).
        var info = stat()
        var fd = fileno(stream)
        var isRegular = fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
        var signature: [UInt8] = [0, 0, 0, 0]
        var compressed: CompressedCapture.Compression?
        if isRegular, pread(fd, &signature, 4, 0) >= 2, let compression = CompressedCapture.compression(ofFirstBytes: signature) {
            // gzip or zstd (a rotated and compressed capture): decompressed as libpcap reads, like a pipe
            // (no block reader, no seeking; offsets count decompressed bytes).
            guard let decompressed = CompressedCapture.open(stream, zstd: compression == .zstd) else {
                throw .cannotOpen(source: path, reason: .other, message: "cannot start \(compression.rawValue) decompression")
            }
            compressed = compression
            stream = decompressed
            fd = -1
            isRegular = false
        }
        var magic: UInt32 = 0
        let classicPcap = !isRegular || (pread(fd, &magic, 4, 0) == 4 && Self.isClassicPcapMagic(magic))

        if isRegular {
            // A seek before the first read makes glibc cache the position, so later ftello() calls cost
            // ~50 ns instead of an lseek() system call each (~0.9 µs measured). Done here, at offset 0, the
            // stdio buffer's reads stay page-aligned; the same seek after libpcap read the file header left
            // every 4 KiB read straddling two pages (about 20 % more kernel time for the whole file).
            _ = fseeko(stream, 0, SEEK_SET)
        }
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard
            let handle = pcap_fopen_offline_with_tstamp_precision(
                stream, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errorBuffer)
        else {
            // libpcap leaves the FILE to us on failure.
            fclose(stream)
            let message = Self.text(errorBuffer)
            let reason: OpenFailureReason = message.hasPrefix("error reading dump file") ? .other : .notACapture
            throw .cannotOpen(source: path, reason: reason, message: message)
        }

        self.handle = handle
        self.file = stream
        self.breakHandle = BreakLoopHandle(handle)
        self.seekable = isRegular
        self.tracking = classicPcap ? .computed : .ftell
        self.ticksToNanoseconds = pcap_get_tstamp_precision(handle) == Int32(PCAP_TSTAMP_PRECISION_NANO) ? 1 : 1000
        self.snapshot = Int(pcap_snapshot(handle))
        self.offlineFilter = nil
        self.sourceName = path
        self.isLive = false
        self.linkType = pcap_datalink(handle)
        self.fileSize = isRegular ? Int64(info.st_size) : nil
        self.compression = compressed?.rawValue
        self.activationWarning = nil
        if classicPcap {
            self.offset = 24
        } else {
            let position = Int64(ftello(stream))
            self.offset = position >= 0 ? position : 0
        }
        let linkType = self.linkType
        if reader == .automatic, isRegular {
            let candidate =
                classicPcap
                ? PcapBlockReader(descriptor: fd, start: 24, magic: magic, snapshot: snapshot)
                : PcapBlockReader.pcapng(descriptor: fd, snapshot: snapshot)
            if let candidate,
                Self.blockReadableLinkTypes.contains(linkType)
                    || (!candidate.swapped && Self.nativeOrderBlockReadableLinkTypes.contains(linkType))
            {
                self.blockReader = candidate
                blockReaderReference = Unmanaged.passUnretained(candidate)  // (no didSet in an initializer)
            }
        }
    }

    /// Opens a live capture on `interface` (`pcap_create` + `pcap_set_*` + `pcap_activate`).
    ///
    /// - Parameters:
    ///   - snapLength: bytes kept per frame.
    ///   - immediate: deliver frames as they arrive instead of when the buffer fills.
    ///   - bufferSize: kernel buffer size in bytes; nil keeps libpcap's default.
    ///   - timeoutMilliseconds: how long `next()` waits before returning `.timeout` (where libpcap honours it;
    ///     see `ReadResult.timeout`).
    public static func live(
        interface: String,
        snapLength: Int = 262_144,
        promiscuous: Bool = false,
        immediate: Bool = true,
        bufferSize: Int? = nil,
        timeoutMilliseconds: Int = 200
    ) throws(CaptureError) -> PcapSource {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard let handle = pcap_create(interface, &errorBuffer) else {
            throw .liveOpenFailed(interface: interface, message: text(errorBuffer))
        }
        _ = pcap_set_snaplen(handle, Int32(clamping: snapLength))
        _ = pcap_set_promisc(handle, promiscuous ? 1 : 0)
        _ = pcap_set_immediate_mode(handle, immediate ? 1 : 0)
        _ = pcap_set_timeout(handle, Int32(clamping: timeoutMilliseconds))
        if let bufferSize { _ = pcap_set_buffer_size(handle, Int32(clamping: bufferSize)) }
        // Not every platform offers nanosecond stamps; the precision actually granted is read back below.
        _ = pcap_set_tstamp_precision(handle, Int32(PCAP_TSTAMP_PRECISION_NANO))

        let status = pcap_activate(handle)
        var warning: String?
        if status < 0 {
            let message = String(cString: pcap_geterr(handle))
            let detail = message.isEmpty ? String(cString: pcap_statustostr(status)) : message
            pcap_close(handle)
            switch status {
            case PCAP_ERROR_NO_SUCH_DEVICE:
                throw .noSuchDevice(interface: interface, message: detail)
            case PCAP_ERROR_PERM_DENIED, PCAP_ERROR_PROMISC_PERM_DENIED:
                throw .permissionDenied(interface: interface, message: detail)
            case PCAP_ERROR_IFACE_NOT_UP:
                throw .interfaceDown(interface: interface, message: detail)
            default:
                throw .liveOpenFailed(interface: interface, message: detail)
            }
        } else if status > 0 {
            let message = String(cString: pcap_geterr(handle))
            warning = message.isEmpty ? String(cString: pcap_statustostr(status)) : message
        }
        return PcapSource(liveHandle: handle, interface: interface, warning: warning)
    }

    private init(liveHandle handle: OpaquePointer, interface: String, warning: String?) {
        self.handle = handle
        self.file = nil
        self.breakHandle = BreakLoopHandle(handle)
        self.seekable = false
        self.tracking = .none
        self.ticksToNanoseconds = pcap_get_tstamp_precision(handle) == Int32(PCAP_TSTAMP_PRECISION_NANO) ? 1 : 1000
        self.snapshot = Int(pcap_snapshot(handle))
        self.offlineFilter = nil
        self.offset = 0
        self.sourceName = interface
        self.isLive = true
        self.linkType = pcap_datalink(handle)
        self.fileSize = nil
        self.activationWarning = warning
    }

    deinit {
        if var program = offlineFilter { pcap_freecode(&program) }
        breakHandle.close()
    }

    // MARK: Reading

    /// Reads the next frame. The returned `FrameView.bytes` is valid until the next call.
    ///
    /// Offline: `.frame` or `.end`; a damaged or truncated record throws `CaptureError.damaged` with the offset
    /// of that record (every earlier frame has been returned). Live: `.timeout` when the read timeout expired.
    /// After `breakLoop()`, returns `.end`.
    public mutating func next() throws(CaptureError) -> ReadResult {
        if let reference = blockReaderReference {
            switch reference._withUnsafeGuaranteedRef({ nextFromBlocks($0) }) {
            case .frame(let frame): return .frame(frame)
            case .end: return .end
            case .failed(let code): throw .damaged(source: sourceName, offset: offset, message: Self.errnoText(code))
            case .fallback: break
            }
            // libpcap reads on from the record the block reader would not vouch for (the reader is let go out
            // here, not inside the closure that holds it unretained). `offset` stays the end of the last
            // frame, as libpcap's reading reports it (a pcapng block passed over since is not counted until
            // a frame follows it).
            let resume = reference._withUnsafeGuaranteedRef { $0.fallbackOffset ?? $0.offset }
            blockReader = nil
            if let file, fseeko(file, off_t(resume), SEEK_SET) != 0 {
                throw .damaged(source: sourceName, offset: resume, message: Self.errnoText(errno))
            }
        }
        while true {
            var header: UnsafeMutablePointer<pcap_pkthdr>?
            var data: UnsafePointer<UInt8>?
            let status = pcap_next_ex(handle, &header, &data)
            switch status {
            case 1:
                // libpcap sets both on success; a nil here would be a libpcap bug, read as "no frame".
                guard let header, let data else { return isLive ? .timeout : .end }
                let record = header.pointee
                let capturedLength = Int(record.caplen)
                if !isLive { advanceOffset(capturedLength: capturedLength) }
                framesRead &+= 1
                if var program = offlineFilter, pcap_offline_filter(&program, header, data) == 0 {
                    continue
                }
                var seconds = Int64(record.ts.tv_sec)
                // Classic pcap stores seconds as an unsigned 32-bit field, libpcap sign-extends it: read
                // times after 2038 as such, not as times before 1970.
                if seconds < 0 && !isLive && seconds >= -0x8000_0000 { seconds &+= 0x1_0000_0000 }
                let fraction = Int64(record.ts.tv_usec)
                let frame = FrameView(
                    timestampNanoseconds: seconds &* 1_000_000_000 &+ fraction &* ticksToNanoseconds,
                    capturedLength: capturedLength,
                    originalLength: Int(record.len),
                    bytes: UnsafeRawBufferPointer(start: data, count: capturedLength))
                return .frame(frame)
            case 0:
                return .timeout
            case PCAP_ERROR_BREAK:
                // pcapng may end with blocks that are not packets (statistics): count them as read.
                if case .ftell = tracking { advanceOffset(capturedLength: 0) }
                return .end
            default:
                var message = String(cString: pcap_geterr(handle))
                if isLive { throw .readFailed(interface: sourceName, message: message) }
                if let compression { message += "; the \(compression) data is corrupt or truncated (offsets count decompressed bytes)" }
                throw .damaged(source: sourceName, offset: offset, message: message)
            }
        }
    }

    /// Reads several frames at once: up to `frames.count` of them into `frames` (their ordinals are
    /// `framesRead` before the call plus 1, 2, ...), or 0 when the next frame is one for `next()` to read (a
    /// block to refill, the end of the input, a record libpcap reads, a filter to apply, a pipe or an
    /// interface). Every frame stays valid until the next call to this or `next()`. Reading a file, call this
    /// and `next()` when it gives 0: the same frames as `next()` alone, at a fraction of the cost a frame.
    public mutating func nextFrames(into frames: UnsafeMutableBufferPointer<FrameView>) -> Int {
        // A break request is left for `next()` to take (it then ends the reading).
        guard offlineFilter == nil, let reference = blockReaderReference, !breakHandle.breakPending else {
            return 0
        }
        let count = reference._withUnsafeGuaranteedRef { reader in
            let count = reader.wholeRecords(into: frames)
            offset = reader.offset
            return count
        }
        framesRead &+= UInt64(count)
        return count
    }

    /// What `nextFromBlocks` found (no error thrown through the closure that holds the reader unretained:
    /// a typed throw through it went through a `Result` per frame).
    private enum BlockRead {
        case frame(FrameView)
        case end
        /// The rest of the file is libpcap's to read.
        case fallback
        /// `pread` failed (errno).
        case failed(Int32)
    }

    /// The block reader's next frame that passes the filter.
    @inline(__always)
    private mutating func nextFromBlocks(_ blockReader: PcapBlockReader) -> BlockRead {
        while true {
            if breakHandle.takeBreakRequest() { return .end }
            switch blockReader.next() {
            case .frame(let frame):
                offset = blockReader.offset
                framesRead &+= 1
                if var program = offlineFilter {
                    var header = pcap_pkthdr()
                    header.caplen = bpf_u_int32(frame.capturedLength)
                    header.len = bpf_u_int32(truncatingIfNeeded: frame.originalLength)
                    let passes = frame.bytes.withMemoryRebound(to: UInt8.self) { bytes in
                        pcap_offline_filter(&program, &header, bytes.baseAddress) != 0
                    }
                    if !passes { continue }
                }
                return .frame(frame)
            case .end:
                offset = blockReader.offset
                return .end
            case .fallback:
                return .fallback
            case .readError(let code):
                return .failed(code)
            }
        }
    }

    private mutating func advanceOffset(capturedLength: Int) {
        switch tracking {
        case .computed:
            // libpcap reports caplen cut to the snapshot length when a record claims more; the file
            // position then is the only truth, if there is one.
            if capturedLength >= snapshot, seekable, let file {
                let position = Int64(ftello(file))
                if position >= 0 {
                    offset = position
                    return
                }
            }
            offset &+= 16 &+ Int64(capturedLength)
        case .ftell:
            if let file {
                let position = Int64(ftello(file))
                if position >= 0 { offset = position }
            }
        case .none:
            break
        }
    }

    // MARK: Properties and control

    /// True when the file at `path` opens as neither a regular file nor a directory (a pipe, a FIFO, a
    /// character device): its frames may trickle in. False when it cannot be opened (opening it will say why).
    public static func isStream(path: String) -> Bool {
        // stat, not open: opening a FIFO would let its writer start writing into a pipe about to be closed.
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        let type = info.st_mode & S_IFMT
        return type != S_IFREG && type != S_IFDIR
    }

    /// True when the regular file at `path` starts with a classic pcap header (any byte order, micro- or
    /// nanoseconds): such a file has no pcapng Decryption Secrets Blocks, so looking for them needs no
    /// `PcapSource` (whose opening costs a libpcap handle and a 4 MiB block). Reads 4 bytes.
    public static func isClassicPcap(path: String) -> Bool {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var magic: UInt32 = 0
        return pread(descriptor, &magic, 4, 0) == 4 && isClassicPcapMagic(magic)
    }

    /// Bytes of the input consumed so far (the offset just after the last record read), for progress.
    /// Exact for regular files (pcap and pcapng) and for classic pcap on a pipe. A pipe cannot report its
    /// position, so for pcapng on a pipe this is `24 + Σ (16 + caplen)`, an estimate. 0 for live captures.
    public var bytesRead: Int64 { offset }

    /// "gzip" or "zstd" for a compressed file, read through zlib or libzstd.
    public private(set) var compression: String?

    /// Frames read so far, those a filter skipped included: the number of the last frame returned, as
    /// Wireshark numbers the frames of a file (live: of the frames the capture passed on).
    public private(set) var framesRead: UInt64 = 0

    /// The snapshot length of the input or capture.
    public var snapshotLength: Int { snapshot }

    /// True while records are read in blocks by tlsscope's own reader rather than by libpcap.
    public var readsInBlocks: Bool { blockReader != nil }

    /// The block the last frame lies in, while records are read in blocks (nil when libpcap read it: its
    /// bytes are libpcap's, valid until the next call). A frame in a block stays valid as long as the block
    /// is held (`FrameBlock.hold`), once `shareBlocks` was called.
    public var frameBlock: FrameBlock? { blockReader?.block }

    /// Lets the frames' blocks be held by other threads past the next call, with at most `limit` blocks of
    /// 4 MiB in all: the reader waits for a free one beyond that.
    public func shareBlocks(limit: Int) {
        blockReader?.shareBlocks(limit: limit)
    }

    /// The name of this source's link type, e.g. "EN10MB".
    public var linkTypeName: String? { Self.linkTypeName(linkType) }

    /// A handle that can stop `next()` from another thread.
    public var breakLoopHandle: BreakLoopHandle { breakHandle }

    /// Makes the current or next `next()` return `.end` (`pcap_breakloop`).
    public func breakLoop() { breakHandle.breakLoop() }

    /// Installs a BPF filter. Live: in the kernel (`pcap_setfilter`). Offline: records that do not match are
    /// skipped inside `next()` (they still count towards `bytesRead`).
    public mutating func setFilter(_ expression: String) throws(CaptureError) {
        var program = bpf_program()
        guard pcap_compile(handle, &program, expression, 1, bpf_u_int32(PCAP_NETMASK_UNKNOWN)) == 0 else {
            throw .invalidFilter(expression: expression, message: String(cString: pcap_geterr(handle)))
        }
        if isLive {
            defer { pcap_freecode(&program) }
            guard pcap_setfilter(handle, &program) == 0 else {
                throw .invalidFilter(expression: expression, message: String(cString: pcap_geterr(handle)))
            }
        } else {
            if var old = offlineFilter { pcap_freecode(&old) }
            offlineFilter = program
        }
    }

    /// libpcap's counters (`pcap_stats`). Live captures only.
    public func stats() throws(CaptureError) -> CaptureStatistics {
        var counters = pcap_stat()
        guard pcap_stats(handle, &counters) == 0 else {
            throw .statisticsUnavailable(message: String(cString: pcap_geterr(handle)))
        }
        return CaptureStatistics(
            received: UInt64(counters.ps_recv),
            dropped: UInt64(counters.ps_drop),
            interfaceDropped: UInt64(counters.ps_ifdrop))
    }

    /// The libpcap name of a DLT link type ("EN10MB", "LINUX_SLL2"), nil if unknown.
    public static func linkTypeName(_ linkType: Int32) -> String? {
        guard let name = pcap_datalink_val_to_name(linkType) else { return nil }
        return String(cString: name)
    }

    /// The libpcap description of a DLT link type ("Ethernet"), nil if unknown.
    public static func linkTypeDescription(_ linkType: Int32) -> String? {
        guard let name = pcap_datalink_val_to_description(linkType) else { return nil }
        return String(cString: name)
    }

    /// The libpcap version string.
    public static var libraryVersion: String { String(cString: pcap_lib_version()) }

    // MARK: Helpers

    private static func isClassicPcapMagic(_ magic: UInt32) -> Bool {
        // Microsecond and nanosecond magic, either byte order (read as host order).
        magic == 0xa1b2_c3d4 || magic == 0xd4c3_b2a1 || magic == 0xa1b2_3c4d || magic == 0x4d3c_b2a1
    }

    private static func text(_ buffer: [CChar]) -> String {
        // The buffer is one longer than PCAP_ERRBUF_SIZE and zero-filled, so it is always terminated.
        buffer.withUnsafeBufferPointer { pointer in
            guard let base = pointer.baseAddress else { return "" }
            return String(cString: base)
        }
    }

    private static func errnoText(_ code: Int32) -> String {
        guard let message = strerror(code) else { return "errno \(code)" }
        return String(cString: message)
    }
}
