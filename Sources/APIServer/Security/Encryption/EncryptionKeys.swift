import Crypto
import Foundation
import KubeModel

/// Failures of the at-rest encryption: a bad key file, or a value that does not decrypt.
public struct EncryptionError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// One AES-256 key and the id written in front of every ciphertext it made.
public struct EncryptionKey: Sendable {
    public var id: String
    public var key: SymmetricKey

    public init(id: String, key: SymmetricKey) {
        self.id = id
        self.key = key
    }
}

/// The keys of at-rest encryption, as kube's `aesgcm` provider lists them: the first
/// encrypts, every one decrypts, so a rotation adds a key first and old ones can go once
/// nothing is encrypted with them any more. Kept in `DIR/encryption-keys.json` (0600):
/// `{"keys":[{"id":"k2","secret":"<base64 of 32 bytes>"}, ...]}`.
public struct EncryptionKeys: Sendable {
    /// Newest first; never empty.
    public private(set) var keys: [EncryptionKey]

    /// Fails on an empty list or duplicate ids: either would make ciphertexts ambiguous.
    public init(_ keys: [EncryptionKey]) throws {
        guard !keys.isEmpty else { throw EncryptionError("no encryption keys") }
        guard Set(keys.map(\.id)).count == keys.count else { throw EncryptionError("duplicate encryption key ids") }
        for k in keys where k.key.bitCount != 256 || k.id.isEmpty || k.id.contains(":") {
            throw EncryptionError("encryption key \(k.id) must have a non-empty id without ':' and 256 bits")
        }
        self.keys = keys
    }

    /// The key new ciphertexts are made with.
    public var primary: EncryptionKey { keys[0] }

    public func key(id: String) -> EncryptionKey? { keys.first { $0.id == id } }

    /// A fresh random key, one id past the highest `kN` in use.
    public static func generate(after existing: [EncryptionKey] = []) -> EncryptionKey {
        let n = existing.compactMap { k in k.id.hasPrefix("k") ? Int(k.id.dropFirst()) : nil }.max() ?? 0
        return EncryptionKey(id: "k\(n + 1)", key: SymmetricKey(size: .bits256))
    }

    /// Reads the key file, creating it with one new key on first start. With `rotate`, a new
    /// key is put first and the file rewritten; the caller then re-encrypts what is stored.
    public static func loadOrCreate(path: String, rotate: Bool = false) throws -> EncryptionKeys {
        var keys: [EncryptionKey] = []
        if FileManager.default.fileExists(atPath: path) {
            keys = try parse(Data(contentsOf: URL(fileURLWithPath: path)))
        }
        guard keys.isEmpty || rotate else { return try EncryptionKeys(keys) }
        keys.insert(generate(after: keys), at: 0)
        let result = try EncryptionKeys(keys)
        try SecureFile.writeAtomically(path, result.fileText(), mode: 0o600)
        return result
    }

    static func parse(_ data: Data) throws -> [EncryptionKey] {
        let doc: JSONValue
        do { doc = try JSONParser.parse(data) } catch { throw EncryptionError("encryption key file is not JSON: \(error)") }
        guard let list = doc["keys"]?.arrayValue else { throw EncryptionError("encryption key file has no \"keys\" list") }
        return try list.map { entry in
            guard let id = entry["id"]?.stringValue, let secret = entry["secret"]?.stringValue,
                  let bytes = Data(base64Encoded: secret), bytes.count == 32
            else { throw EncryptionError("encryption key entries need an \"id\" and a base64 32-byte \"secret\"") }
            return EncryptionKey(id: id, key: SymmetricKey(data: bytes))
        }
    }

    func fileText() -> String {
        let list: [JSONValue] = keys.map { k in
            let secret = k.key.withUnsafeBytes { Data($0).base64EncodedString() }
            return ["id": .string(k.id), "secret": .string(secret)]
        }
        return String(decoding: JSONWriter.bytes(["keys": .array(list)]), as: UTF8.self) + "\n"
    }
}
