import Foundation

/// A bounded first-in first-out queue between two threads: `send` waits while it is full (so a slow
/// consumer holds the producer back and memory stays bounded), `receive` waits while it is empty.
final class Channel<Element: Sendable>: @unchecked Sendable {
    // @unchecked: `slots`, `head` and `count` are only touched with `condition` locked.
    private let condition = NSCondition()
    private var slots: [Element?]
    private var head = 0
    private var count = 0

    init(capacity: Int) {
        precondition(capacity > 0, "a channel holds at least one element")
        slots = Array(repeating: nil, count: capacity)
    }

    func send(_ element: Element) {
        condition.lock()
        while count == slots.count { condition.wait() }
        slots[(head + count) % slots.count] = element
        count += 1
        condition.broadcast()
        condition.unlock()
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
