// SHA-256, HMAC-SHA256 and HMAC-SHA512, computed by OpenSSL's libcrypto.
//
// Invariants:
// - No libcrypto type leaves this module; inputs and outputs are bytes.
// - Both functions are pure: same input, same output, on every platform.
internal import CCrypto

/// SHA-256, HMAC-SHA256 and HMAC-SHA512 digests with lowercase hex helpers.
public enum Digest {
    /// The SHA-256 digest (32 bytes) of `data`.
    public static func sha256(_ data: some Collection<UInt8>) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        let bytes = Array(data)
        bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                _ = SHA256(input.baseAddress, input.count, output.baseAddress)
            }
        }
        return out
    }

    /// The SHA-256 digest of the UTF-8 bytes of `text`.
    public static func sha256(_ text: String) -> [UInt8] {
        sha256(Array(text.utf8))
    }

    /// The HMAC-SHA256 (RFC 2104) of `message` under `key` (32 bytes).
    public static func hmacSHA256(key: some Collection<UInt8>, message: some Collection<UInt8>) -> [UInt8] {
        hmac(EVP_sha256(), key: key, message: message)
    }

    /// The HMAC-SHA512 (RFC 2104) of `message` under `key` (64 bytes).
    public static func hmacSHA512(key: some Collection<UInt8>, message: some Collection<UInt8>) -> [UInt8] {
        hmac(EVP_sha512(), key: key, message: message)
    }

    private static func hmac(_ md: OpaquePointer?, key: some Collection<UInt8>, message: some Collection<UInt8>)
        -> [UInt8]
    {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let keyBytes = Array(key)
        let messageBytes = Array(message)
        keyBytes.withUnsafeBufferPointer { k in
            messageBytes.withUnsafeBufferPointer { m in
                out.withUnsafeMutableBufferPointer { o in
                    _ = HMAC(
                        md, k.baseAddress, Int32(k.count), m.baseAddress, m.count, o.baseAddress,
                        &length)
                }
            }
        }
        return Array(out.prefix(Int(length)))
    }

    /// The HMAC-SHA256 of the UTF-8 bytes of `message` under the UTF-8 bytes of `key`.
    public static func hmacSHA256(key: String, message: String) -> [UInt8] {
        hmacSHA256(key: Array(key.utf8), message: Array(message.utf8))
    }

    /// Lowercase hexadecimal spelling of `bytes`.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var chars: [UInt8] = []
        for byte in bytes {
            chars.append(digits[Int(byte >> 4)])
            chars.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: chars, as: UTF8.self)
    }
}
