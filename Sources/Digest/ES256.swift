// ECDSA over P-256 with SHA-256 (JWS "ES256"), computed by OpenSSL's libcrypto.
//
// Invariants:
// - Keys travel as PEM text; each call parses its key afresh, so no libcrypto object outlives
//   the call that made it and the key types are plain values, safe to share.
// - A signature is the JWS form: the raw 32-byte r followed by the 32-byte s, never DER.
// - Every libcrypto failure throws `DigestError` carrying OpenSSL's own message.
internal import CCrypto
import Foundation

/// A libcrypto call failed, or a key is not what it must be.
public struct DigestError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }

    /// The error with OpenSSL's last queued message appended.
    static func openSSL(_ what: String) -> DigestError {
        let code = ERR_get_error()
        guard code != 0 else { return DigestError(what) }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return DigestError("\(what): \(text)")
    }
}

/// A P-256 private key (an ES256 signing key, such as a Coinbase CDP API key's secret).
public struct ECPrivateKey: Sendable {
    /// The key as PEM text: SEC1 (`EC PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`).
    public let pem: String

    /// Reads a PEM key; throws unless it is an EC key on P-256.
    public init(pem: String) throws(DigestError) {
        self.pem = pem
        let key = try Self.load(pem)
        EVP_PKEY_free(key)
    }

    /// The key whose secret scalar is SHA-256(`seed`): the same seed gives the same key, so a
    /// simulated venue and the job file that trades on it can agree on a key without storing one.
    public init(derivedFrom seed: some Collection<UInt8>) {
        // SEC1 ECPrivateKey: SEQUENCE { INTEGER 1, OCTET STRING d, [0] OID prime256v1 }. libcrypto
        // computes the public point when the optional [1] field is absent.
        // A digest at or above the curve's order (odds about 2⁻³²) is hashed again.
        var scalar = Digest.sha256(seed)
        while true {
            let der: [UInt8] =
                [0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20] + scalar
                + [0xA0, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]
            let candidate = PEM.wrap(der, label: "EC PRIVATE KEY")
            if let key = try? Self.load(candidate) {
                EVP_PKEY_free(key)
                pem = candidate
                return
            }
            scalar = Digest.sha256(scalar)
        }
    }

    /// The matching public key.
    public var publicKey: ECPublicKey {
        // Every instance holds a key `load` accepted (both initialisers check), so writing its
        // public half cannot fail short of libcrypto running out of memory.
        guard let key = try? Self.load(pem) else { preconditionFailure("an ECPrivateKey holds a checked key") }
        defer { EVP_PKEY_free(key) }
        let bio = BIO_new(BIO_s_mem())
        defer { BIO_free(bio) }
        guard PEM_write_bio_PUBKEY(bio, key) == 1 else { preconditionFailure("cannot write an EC public key") }
        return ECPublicKey(trustedPEM: PEM.text(of: bio))
    }

    /// The ES256 signature of `message`: ECDSA over SHA-256(`message`), as 64 bytes r‖s.
    public func sign(_ message: some Collection<UInt8>) throws(DigestError) -> [UInt8] {
        let key = try Self.load(pem)
        defer { EVP_PKEY_free(key) }
        let context = EVP_MD_CTX_new()
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, key) == 1 else {
            throw .openSSL("cannot start an ES256 signature")
        }
        let bytes = Array(message)
        var length = 0
        guard EVP_DigestSign(context, nil, &length, bytes, bytes.count) == 1 else {
            throw .openSSL("cannot size an ES256 signature")
        }
        var der = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &der, &length, bytes, bytes.count) == 1 else {
            throw .openSSL("cannot sign")
        }
        return try Self.raw(fromDER: Array(der.prefix(length)))
    }

    /// A parsed key, checked to be EC on a 256-bit curve; the caller frees it.
    private static func load(_ pem: String) throws(DigestError) -> OpaquePointer {
        let bytes = Array(pem.utf8)
        let parsed: OpaquePointer? = bytes.withUnsafeBytes { buffer in
            let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count))
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key = parsed else { throw .openSSL("the private key is not a PEM EC key") }
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_EC, EVP_PKEY_get_bits(key) == 256 else {
            EVP_PKEY_free(key)
            throw DigestError("the private key is not an EC key on P-256 (ES256 needs one)")
        }
        return key
    }

    /// r‖s, each left-padded to 32 bytes, from a DER `ECDSA-Sig-Value`.
    private static func raw(fromDER der: [UInt8]) throws(DigestError) -> [UInt8] {
        let signature: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_ECDSA_SIG(nil, &cursor, buffer.count)
        }
        guard let signature else { throw .openSSL("cannot read the ECDSA signature") }
        defer { ECDSA_SIG_free(signature) }
        var out = [UInt8](repeating: 0, count: 64)
        let r = ECDSA_SIG_get0_r(signature)
        let s = ECDSA_SIG_get0_s(signature)
        let written = out.withUnsafeMutableBufferPointer { buffer in
            BN_bn2binpad(r, buffer.baseAddress, 32) + BN_bn2binpad(s, buffer.baseAddress! + 32, 32)
        }
        guard written == 64 else { throw DigestError("an ECDSA signature component is longer than 32 bytes") }
        return out
    }
}

/// A P-256 public key, which verifies ES256 signatures.
public struct ECPublicKey: Sendable {
    /// The key as PEM text (`PUBLIC KEY`, SubjectPublicKeyInfo).
    public let pem: String

    /// Reads a PEM public key; throws unless it is an EC key on P-256.
    public init(pem: String) throws(DigestError) {
        self.pem = pem
        let key = try Self.load(pem)
        EVP_PKEY_free(key)
    }

    init(trustedPEM: String) { pem = trustedPEM }

    /// Whether `signature` (64 bytes r‖s) is an ES256 signature of `message` under this key.
    public func verify(signature: [UInt8], message: some Collection<UInt8>) -> Bool {
        guard signature.count == 64, let key = try? Self.load(pem) else { return false }
        defer { EVP_PKEY_free(key) }
        guard let der = Self.der(fromRaw: signature) else { return false }
        let context = EVP_MD_CTX_new()
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, EVP_sha256(), nil, key) == 1 else { return false }
        let bytes = Array(message)
        return EVP_DigestVerify(context, der, der.count, bytes, bytes.count) == 1
    }

    private static func load(_ pem: String) throws(DigestError) -> OpaquePointer {
        let bytes = Array(pem.utf8)
        let parsed: OpaquePointer? = bytes.withUnsafeBytes { buffer in
            let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count))
            defer { BIO_free(bio) }
            return PEM_read_bio_PUBKEY(bio, nil, nil, nil)
        }
        guard let key = parsed else { throw .openSSL("the public key is not a PEM EC key") }
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_EC, EVP_PKEY_get_bits(key) == 256 else {
            EVP_PKEY_free(key)
            throw DigestError("the public key is not an EC key on P-256")
        }
        return key
    }

    /// A DER `ECDSA-Sig-Value` from r‖s.
    private static func der(fromRaw raw: [UInt8]) -> [UInt8]? {
        guard let signature = ECDSA_SIG_new() else { return nil }
        defer { ECDSA_SIG_free(signature) }
        let r = raw.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, 32, nil) }
        let s = raw.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress! + 32, 32, nil) }
        guard ECDSA_SIG_set0(signature, r, s) == 1 else {
            BN_free(r)
            BN_free(s)
            return nil
        }
        let length = i2d_ECDSA_SIG(signature, nil)
        guard length > 0 else { return nil }
        var der = [UInt8](repeating: 0, count: Int(length))
        _ = der.withUnsafeMutableBufferPointer { buffer in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return i2d_ECDSA_SIG(signature, &cursor)
        }
        return der
    }
}

/// Base64url without padding (RFC 4648 §5), as JWTs spell their parts.
public enum Base64URL {
    /// The base64url spelling of `bytes`, unpadded.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The bytes `text` spells; nil when it is not base64url.
    public static func decode(_ text: String) -> [UInt8]? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !standard.contains("=") else { return nil }
        standard += String(repeating: "=", count: (4 - standard.count % 4) % 4)
        return Data(base64Encoded: standard).map { Array($0) }
    }
}

/// PEM framing.
enum PEM {
    /// `der` as PEM text under `label`, 64 characters a line.
    static func wrap(_ der: [UInt8], label: String) -> String {
        let body = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN \(label)-----\n\(body)\n-----END \(label)-----\n"
    }

    /// What a memory BIO holds, as text.
    static func text(of bio: OpaquePointer?) -> String {
        var data: UnsafeMutablePointer<CChar>?
        let length = ccrypto_bio_mem_data(bio, &data)
        guard length > 0, let data else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }
}
