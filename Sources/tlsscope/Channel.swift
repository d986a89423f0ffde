import Foundation

/// A bounded first-in first-out queue between two threads: `send` waits while it is full (so a slow
/// consumer holds the producer back and memory stays bounded), `receive` waits while it is empty.
final class Channel<Element: Sendable>: @unchecked Sendable {
    // @unchecked: `slots`, `head` and `count` are only touched with `condition` locked.
    private let condition = NSCondition()
    private var slots: [Element?]
    private var head = 0
    private var count = 0
    /// A waiting `receive` is woken once this many elements are queued (or by `send(_:wakeNow:)`): each
    /// wake-up is a futex call on both sides (an inter-processor interrupt in a VM), so a consumer faster
    /// than its producer is better woken for several elements than for each.
    private let wakeThreshold: Int

    init(capacity: Int, wakeThreshold: Int = 1) {
        precondition(capacity > 0, "a channel holds at least one element")
        slots = Array(repeating: nil, count: capacity)
        self.wakeThreshold = min(max(1, wakeThreshold), capacity)
    }

    /// Queues `element`, waiting while the channel is full. `wakeNow`: wake a waiting receiver whatever the
    /// threshold (the last element of a stream). Returns the elements queued, this one included (how far
    /// behind the receiver is).
    @discardableResult
    func send(_ element: Element, wakeNow: Bool = false) -> Int {
        condition.lock()
        while count == slots.count { condition.wait() }
        slots[(head + count) % slots.count] = element
        count += 1
        let queued = count
        if wakeNow || count >= wakeThreshold { condition.broadcast() }
        condition.unlock()
        return queued
    }

    /// `send` without waiting: false (and nothing queued) when the channel is full.
    func trySend(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard count < slots.count else { return false }
        slots[(head + count) % slots.count] = element
        count += 1
        condition.broadcast()
        return true
    }

    func receive() -> Element {
        condition.lock()
        while true {
            if count > 0, let element = slots[head] {
                slots[head] = nil
                head = (head + 1) % slots.count
                count -= 1
                condition.broadcast()
                condition.unlock()
                return element
            }
            condition.wait()
        }
    }
}
