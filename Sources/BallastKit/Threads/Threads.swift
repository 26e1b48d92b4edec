import Foundation

/// A bounded, blocking FIFO between threads; `close()` ends the stream, and a
/// failure on either side is carried to the other.
final class BoundedQueue<Element>: @unchecked Sendable {
    // Safe to share: all state is guarded by `condition`.
    private let condition = NSCondition()
    private var items: [Element] = []
    private var closed = false
    private var failure: (any Error)?
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Waits for room, then appends; throws if the consumer failed.
    func put(_ item: Element) throws {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && failure == nil { condition.wait() }
        if let failure { throw failure }
        items.append(item)
        condition.broadcast()
    }

    /// The next item, or nil once closed and drained; throws the producer's failure.
    func take() throws -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed && failure == nil { condition.wait() }
        if let failure { throw failure }
        if items.isEmpty { return nil }
        let item = items.removeFirst()
        condition.broadcast()
        return item
    }

    /// No more items will come.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Stops both sides with `error`.
    func fail(_ error: any Error) {
        condition.lock()
        if failure == nil { failure = error }
        condition.broadcast()
        condition.unlock()
    }
}

/// Runs `body` on a new thread; `join()` waits for it and rethrows its error.
final class Worker: @unchecked Sendable {
    // Safe to share: `error` is written by the worker before `done` is signalled
    // and read only after `join()` has waited for that signal.
    private let done = DispatchSemaphore(value: 0)
    private var error: (any Error)?

    init(_ name: String, _ body: @escaping @Sendable () throws -> Void) {
        let thread = Thread { [self] in
            do { try body() } catch { self.error = error }
            done.signal()
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    func join() throws {
        done.wait()
        if let error { throw error }
    }
}

/// Opens once, when a piece of work finishes; waiters get its failure, if any.
final class Gate: @unchecked Sendable {
    // Safe to share: `state` is guarded by `condition`.
    private let condition = NSCondition()
    private var state: Result<Void, any Error>?

    /// Opens the gate with the work's outcome.
    func open(_ outcome: Result<Void, any Error>) {
        condition.lock()
        if state == nil { state = outcome }
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until open; rethrows the work's failure.
    func wait() throws {
        condition.lock()
        while state == nil { condition.wait() }
        let outcome = state!
        condition.unlock()
        try outcome.get()
    }
}

/// Runs pieces of work numbered 0, 1, 2… strictly in that order, whichever thread reaches its piece
/// first: each waits for its turn. A failure ends every turn still waiting.
final class InTurn: @unchecked Sendable {
    // Safe to share: `next` and `failure` are guarded by `condition`; `body` runs while it is held,
    // so at most one piece runs at a time.
    private let condition = NSCondition()
    private var next = 0
    private var failure: (any Error)?

    /// Waits until piece `index` is next, runs `body`, then lets piece `index + 1` go.
    func inTurn<T>(_ index: Int, _ body: () throws -> T) throws -> T {
        condition.lock()
        defer { condition.unlock() }
        while next != index && failure == nil { condition.wait() }
        if let failure { throw failure }
        do {
            let value = try body()
            next += 1
            condition.broadcast()
            return value
        } catch {
            failure = error
            condition.broadcast()
            throw error
        }
    }

    /// Ends every wait with `error`.
    func fail(_ error: any Error) {
        condition.lock()
        if failure == nil { failure = error }
        condition.broadcast()
        condition.unlock()
    }
}

/// A value handed to one other thread while this one waits for it (see `pipeline`).
package final class Unshared<Value>: @unchecked Sendable {
    package let value: Value
    package init(_ value: Value) { self.value = value }
}
