import Digest
import Foundation
import Testing

/// ES256 signing and verification, checked against themselves and against Python's
/// `cryptography` (OpenSSL underneath too, but reached through another stack: PEM, DER and the
/// r‖s conversion are each done independently there).
@Suite struct ES256Tests {
    let message = Array("GET api.coinbase.com/api/v3/brokerage/accounts".utf8)

    @Test func aSignatureVerifiesUnderItsKeyOnly() throws {
        let key = ECPrivateKey(derivedFrom: Array("venue-a".utf8))
        let signature = try key.sign(message)
        #expect(signature.count == 64)
        #expect(key.publicKey.verify(signature: signature, message: message))
        #expect(!key.publicKey.verify(signature: signature, message: message + [0x20]))
        var flipped = signature
        flipped[10] ^= 0x01
        #expect(!key.publicKey.verify(signature: flipped, message: message))
        let other = ECPrivateKey(derivedFrom: Array("venue-b".utf8))
        #expect(!other.publicKey.verify(signature: signature, message: message))
        #expect(!key.publicKey.verify(signature: Array(signature.prefix(63)), message: message))
    }

    @Test func aDerivedKeyIsTheSameForTheSameSeed() throws {
        let a = ECPrivateKey(derivedFrom: Array("seed".utf8))
        #expect(a.pem == ECPrivateKey(derivedFrom: Array("seed".utf8)).pem)
        #expect(a.pem != ECPrivateKey(derivedFrom: Array("seed2".utf8)).pem)
        #expect(a.pem.hasPrefix("-----BEGIN EC PRIVATE KEY-----\n"))
        // The PEM it prints reads back as the same key.
        let again = try ECPrivateKey(pem: a.pem)
        #expect(again.publicKey.pem == a.publicKey.pem)
        #expect(a.publicKey.pem.hasPrefix("-----BEGIN PUBLIC KEY-----"))
    }

    @Test func keysThatAreNotP256AreNamed() throws {
        #expect(throws: DigestError.self) { try ECPrivateKey(pem: "not a key") }
        #expect(throws: DigestError.self) {
            try ECPublicKey(pem: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
        }
        let rsa = try Self.python(
            """
            from cryptography.hazmat.primitives.asymmetric import rsa
            from cryptography.hazmat.primitives import serialization as s
            k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            print(k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()).decode(), end="")
            """)
        do {
            _ = try ECPrivateKey(pem: rsa)
            Issue.record("an RSA key was taken for ES256")
        } catch {
            #expect(error.description.contains("P-256"))
        }
    }

    /// Ballast signs, Python verifies; Python signs (PKCS#8 form of the same key), Ballast verifies.
    @Test func signaturesAgreeWithAnIndependentImplementation() throws {
        let key = ECPrivateKey(derivedFrom: Array("cross-check".utf8))
        let ours = try key.sign(message)
        let script = """
            import sys, base64
            from cryptography.hazmat.primitives import hashes, serialization as s
            from cryptography.hazmat.primitives.asymmetric import ec
            from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature, decode_dss_signature
            key = s.load_pem_private_key(sys.argv[1].encode(), password=None)
            msg = sys.argv[2].encode()
            raw = base64.b64decode(sys.argv[3])
            sig = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
            key.public_key().verify(sig, msg, ec.ECDSA(hashes.SHA256()))
            r, s_ = decode_dss_signature(key.sign(msg, ec.ECDSA(hashes.SHA256())))
            print(base64.b64encode(r.to_bytes(32, "big") + s_.to_bytes(32, "big")).decode())
            print(key.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()).decode(), end="")
            """
        let output = try Self.python(
            script, arguments: [key.pem, String(decoding: message, as: UTF8.self), Data(ours).base64EncodedString()])
        let lines = output.split(separator: "\n", maxSplits: 1).map(String.init)
        let theirs = try #require(Data(base64Encoded: lines[0]))
        #expect(key.publicKey.verify(signature: Array(theirs), message: message))
        let pkcs8 = try ECPrivateKey(pem: lines[1])
        #expect(lines[1].hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(pkcs8.publicKey.pem == key.publicKey.pem)
    }

    @Test func base64URLHasNoPaddingAndRefusesIt() {
        let bytes: [UInt8] = [0xFB, 0xFF, 0x01]
        #expect(Base64URL.encode(bytes) == "-_8B")
        #expect(Base64URL.encode([0xFB]) == "-w")
        #expect(Base64URL.decode("-w") == [0xFB])
        #expect(Base64URL.decode("-w==") == nil)
        #expect(Base64URL.decode("-_8B") == bytes)
    }

    /// Runs `script` with Python; its standard output, or an error with its standard error.
    static func python(_ script: String, arguments: [String] = []) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonFailed(message: String(decoding: errors, as: UTF8.self))
        }
        return String(decoding: output, as: UTF8.self)
    }

    struct PythonFailed: Error { let message: String }
}
