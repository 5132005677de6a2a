import Glibc

/// Version 4 UUIDs as Kubernetes writes them (lowercase, hyphenated), for object uids and
/// audit IDs. Foundation's `UUID()` on Linux opens, reads and closes `/dev/urandom` for each
/// one, five system calls; the API server takes two for every create, so this reads its
/// sixteen bytes from the system generator (`getrandom`) and formats them itself.
public enum RandomUUID {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// A fresh random UUID, such as `3f2b8c1e-9a4d-4e7f-b2c6-0d5e8f1a2b3c`.
    public static func string() -> String {
        // One 16-byte read: the standard generator asks the system for 8 bytes at a time.
        var words: (UInt64, UInt64) = (0, 0)
        // getentropy(3) is one getrandom(2) call of the whole length.
        if withUnsafeMutableBytes(of: &words, { getentropy($0.baseAddress, $0.count) }) != 0 {
            var generator = SystemRandomNumberGenerator()
            words = (generator.next(), generator.next())
        }
        return string(high: words.0, low: words.1)
    }

    /// The UUID of these 128 bits with the version (4) and variant (RFC 4122) bits set.
    static func string(high: UInt64, low: UInt64) -> String {
        let high = (high & ~0xF000) | 0x4000
        let low = (low & ~(0xC << 60)) | (0x8 << 60)
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var at = 0
            for nibble in 0..<32 {
                if nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20 {
                    buffer[at] = UInt8(ascii: "-")
                    at += 1
                }
                let word = nibble < 16 ? high : low
                buffer[at] = hexDigits[Int((word >> UInt64(60 - 4 * (nibble % 16))) & 0xF)]
                at += 1
            }
            return at
        }
    }
}
