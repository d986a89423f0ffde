import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Bytes that frames are handed out of while other threads may still be reading them: a block of a
/// capture file (`PcapBlockReader`'s) or frames copied together (a sharded run's). Whoever gives the block
/// to N readers `hold(N)`s it first; each reader `release()`s it when done with it; its owner writes into
/// it again only when it `isFree`. So frames cross threads without being copied.
public final class FrameBlock: @unchecked Sendable {
    // @unchecked: `bytes` is written only by the owner while `isFree`; readers only read it while they hold it.
    public let bytes: UnsafeMutableRawBufferPointer
    private let holders = Atomic<Int>(0)

    public init(capacity: Int) {
        bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit { bytes.deallocate() }

    /// Marks the block as read by `count` more readers.
    public func hold(_ count: Int) {
        holders.add(count, ordering: .relaxed)
    }

    /// One reader is done with the block (its reads happen before the owner's next writes).
    public func release() {
        holders.subtract(1, ordering: .releasing)
    }

    /// No reader holds the block: its owner may write into it.
    public var isFree: Bool { holders.load(ordering: .acquiring) == 0 }

    /// Where `frame` (which must lie in this block) starts, from the start of the block.
    public func offset(of frame: UnsafeRawBufferPointer) -> Int {
        guard let base = bytes.baseAddress, let start = frame.baseAddress else { return 0 }
        return UnsafeRawPointer(base).distance(to: start)
    }
}

/// Blocks of one size for an owner that hands them to readers: a free one is reused, a new one is made while
/// fewer than `limit` exist, and past that `take` waits until a reader releases one (so the readers' lag
/// is bounded in memory, and the owner is held back instead).
public struct FrameBlockPool {
    public let blockSize: Int
    public let limit: Int
    private var blocks: [FrameBlock] = []

    /// A pool that already owns `blocks` (of `blockSize` bytes each).
    public init(blockSize: Int, limit: Int, adopting blocks: [FrameBlock] = []) {
        self.blockSize = blockSize
        self.limit = max(1, limit)
        self.blocks = blocks
    }

    /// A block no reader holds (waiting for one when `limit` are in use).
    public mutating func take() -> FrameBlock {
        var spins = 0
        while true {
            if let free = blocks.first(where: { $0.isFree }) { return free }
            if blocks.count < limit {
                let block = FrameBlock(capacity: blockSize)
                blocks.append(block)
                return block
            }
            // The readers are behind: give them the core (they release within one batch's work).
            spins += 1
            if spins < 64 { sched_yield() } else { usleep(50) }
        }
    }
}
