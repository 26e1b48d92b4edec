import Synchronization

/// Nonces for a dialect that signs every private call with a number that must always increase per
/// API key (Kraken). `withNonce` hands out a nonce above every nonce handed out for the key before,
/// by this process or any other sharing the store, and signs and sends nothing else of the key
/// until `send` returns: the nonces reach the venue in the order they were drawn, so two processes
/// on one key never make the venue refuse a nonce as too low.
public protocol NonceSource: Sendable {
    /// `now` is the clock in microseconds: a nonce is never below it, so a key's nonces keep
    /// rising across a store that was emptied.
    func withNonce<T: Sendable>(
        venue: String, key: String, now: UInt64, _ send: (UInt64) async throws(VenueError) -> T
    ) async throws(VenueError) -> T
}

/// Nonces for one process: strictly increasing per key, requests of a key one at a time.
/// (Processes sharing a key share a `PostgresNonceSource` instead.)
public final class LocalNonceSource: NonceSource {
    private let last = Mutex<[String: UInt64]>([:])
    private let turns = KeyedTurns()

    public init() {}

    public func withNonce<T: Sendable>(
        venue: String, key: String, now: UInt64, _ send: (UInt64) async throws(VenueError) -> T
    ) async throws(VenueError) -> T {
        await turns.acquire(key)
        let nonce = last.withLock { last in
            let next = max(now, (last[key] ?? 0) + 1)
            last[key] = next
            return next
        }
        do {
            let result = try await send(nonce)
            await turns.release(key)
            return result
        } catch {
            await turns.release(key)
            throw error
        }
    }
}

/// One holder per key at a time, waiting in arrival order (an async mutex keyed by text).
public actor KeyedTurns {
    private var held: Set<String> = []
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    public init() {}

    /// Waits until no one else holds `key`, then holds it.
    public func acquire(_ key: String) async {
        if !held.contains(key) {
            held.insert(key)
            return
        }
        await withCheckedContinuation { waiting[key, default: []].append($0) }
    }

    /// Hands `key` to the next waiter, or frees it.
    public func release(_ key: String) {
        if var queue = waiting[key], !queue.isEmpty {
            let next = queue.removeFirst()
            waiting[key] = queue.isEmpty ? nil : queue
            next.resume()
        } else {
            held.remove(key)
        }
    }
}
