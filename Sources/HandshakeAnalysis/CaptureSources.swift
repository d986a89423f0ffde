import Synchronization

/// The sources of a run in reading order (capture files, standard input, an interface), each with the
/// frame ordinals before it: turns a run-wide frame ordinal (`HandshakeRecord.firstFrameOrdinal`) into
/// the source and the frame's number there (1-based, as Wireshark numbers a file's frames). The reading
/// thread adds each source as it opens it; the threads that complete records look frames up.
public final class CaptureSources: Sendable {
    private struct Entry: Sendable {
        var name: String
        var ordinalsBefore: UInt64
    }
    private let entries = Mutex<[Entry]>([])

    public init() {}

    /// A source whose first frame gets ordinal `ordinalsBefore + 1`.
    public func begin(_ name: String, after ordinalsBefore: UInt64) {
        entries.withLock { $0.append(Entry(name: name, ordinalsBefore: ordinalsBefore)) }
    }

    /// The source a frame ordinal was read from and its number there; nil for 0 (not known) or before
    /// any source.
    public func locate(_ ordinal: UInt64) -> (source: String, frame: UInt64)? {
        guard ordinal > 0 else { return nil }
        return entries.withLock { entries in
            // The last source that began before the ordinal (sources begin in increasing order).
            var low = 0
            var high = entries.count
            while low < high {
                let middle = (low + high) / 2
                if entries[middle].ordinalsBefore < ordinal { low = middle + 1 } else { high = middle }
            }
            guard low > 0 else { return nil }
            let entry = entries[low - 1]
            return (entry.name, ordinal - entry.ordinalsBefore)
        }
    }
}
