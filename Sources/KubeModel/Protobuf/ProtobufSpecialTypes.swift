/// Messages whose JSON form is not an object: times, durations, quantities, int-or-string,
/// embedded raw JSON, and meta/v1 FieldsV1.
extension ProtobufDecoder {
    /// Result of a special-type decode; `value` nil means the field is absent in JSON.
    struct Special {
        var value: JSONValue?
    }

    private static let meta = "k8s.io.apimachinery.pkg.apis.meta.v1"

    /// Nil when `name` is an ordinary message.
    func decodeSpecial(_ name: String, _ reader: ProtobufReader, depth: Int, dropZero: Bool) throws(KubeProtobufError) -> Special? {
        switch name {
        case "\(Self.meta).Time":
            // Go writes nothing for the zero Time, whose JSON is null; only seconds are kept.
            let (fields, any) = try readNumbers(reader, [1: .int64, 2: .int32])
            guard any else { return Special(value: Self.value(.null, absentIf: dropZero)) }
            return Special(value: .string(try Self.rfc3339(seconds: fields[1] ?? 0, nanos: nil)))
        case "\(Self.meta).MicroTime":
            let (fields, any) = try readNumbers(reader, [1: .int64, 2: .int32])
            guard any else { return Special(value: Self.value(.null, absentIf: dropZero)) }
            return Special(value: .string(try Self.rfc3339(seconds: fields[1] ?? 0, nanos: fields[2] ?? 0)))
        case "\(Self.meta).Duration":
            let (fields, _) = try readNumbers(reader, [1: .int64])
            let ns = fields[1] ?? 0
            return Special(value: Self.value(.string(Self.goDuration(ns)), absentIf: dropZero && ns == 0))
        case "k8s.io.apimachinery.pkg.api.resource.Quantity", "k8s.io.apimachinery.pkg.api.resource.QuantityValue":
            let s = try readString(reader, field: 1)
            if s.isEmpty { return Special(value: Self.value(.string("0"), absentIf: dropZero)) }
            return Special(value: .string(s))
        case "k8s.io.apimachinery.pkg.util.intstr.IntOrString":
            return Special(value: try decodeIntOrString(reader, dropZero: dropZero))
        case "k8s.io.apimachinery.pkg.runtime.RawExtension", "\(Self.meta).FieldsV1":
            return Special(value: try decodeRawJSON(reader, depth: depth, dropZero: dropZero))
        default:
            return nil
        }
    }

    /// Varint fields of a small message, by number; `any` tells whether it had any field at all.
    private func readNumbers(_ reader: ProtobufReader, _ types: [Int: ProtobufScalar]) throws(KubeProtobufError) -> (values: [Int: Int64], any: Bool) {
        var r = reader
        var out: [Int: Int64] = [:]
        var any = false
        while !r.isAtEnd {
            let (f, w) = try r.readTag()
            any = true
            guard let t = types[f] else {
                try r.skip(w)
                continue
            }
            if case .int(let v) = try decodeScalar(&r, wire: w, type: t) { out[f] = v }
        }
        return (out, any)
    }

    private func readString(_ reader: ProtobufReader, field: Int) throws(KubeProtobufError) -> String {
        var r = reader
        var s = ""
        while !r.isAtEnd {
            let (f, w) = try r.readTag()
            guard f == field else {
                try r.skip(w)
                continue
            }
            if case .string(let v) = try decodeScalar(&r, wire: w, type: .string) { s = v }
        }
        return s
    }

    /// {type = 1 (0 int, 1 string), intVal = 2, strVal = 3}. Go's zero value is the int 0.
    private func decodeIntOrString(_ reader: ProtobufReader, dropZero: Bool) throws(KubeProtobufError) -> JSONValue? {
        var r = reader
        var type: Int64 = 0, intVal: Int64 = 0
        var strVal = ""
        while !r.isAtEnd {
            let (f, w) = try r.readTag()
            switch f {
            case 1: if case .int(let v) = try decodeScalar(&r, wire: w, type: .int64) { type = v }
            case 2: if case .int(let v) = try decodeScalar(&r, wire: w, type: .int32) { intVal = v }
            case 3: if case .string(let v) = try decodeScalar(&r, wire: w, type: .string) { strVal = v }
            default: try r.skip(w)
            }
        }
        switch type {
        case 0: return Self.value(.int(intVal), absentIf: dropZero && intVal == 0)
        case 1: return Self.value(.string(strVal), absentIf: dropZero && strVal.isEmpty)
        default: throw KubeProtobufError("invalid IntOrString type \(type)")
        }
    }

    /// RawExtension / FieldsV1: field 1 holds JSON bytes, or for RawExtension possibly a nested
    /// Kubernetes protobuf document.
    private func decodeRawJSON(_ reader: ProtobufReader, depth: Int, dropZero: Bool) throws(KubeProtobufError) -> JSONValue? {
        var r = reader
        var raw: Range<Int>? = nil
        while !r.isAtEnd {
            let (f, w) = try r.readTag()
            if f == 1, w == .lengthDelimited { raw = try r.readLengthDelimited() } else { try r.skip(w) }
        }
        guard let raw, !raw.isEmpty else { return Self.value(.null, absentIf: dropZero) }
        let bytes = r.slice(raw)
        if bytes.starts(with: KubeProtobuf.magic) {
            return try decodeDocument(Array(bytes), depth: depth + 1)
        }
        let remaining = KubeProtobuf.maxDepth - depth
        guard remaining > 0 else { throw KubeProtobufError("protobuf message nesting exceeds \(KubeProtobuf.maxDepth) levels") }
        do { return try JSONParser.parse(bytes, maxDepth: remaining) } catch {
            throw KubeProtobufError("invalid embedded JSON: \(error.description)")
        }
    }

    /// RFC 3339 in UTC, `2006-01-02T15:04:05Z`, or with 6 fractional digits when `nanos` is given.
    /// Years outside 0...9999 are rejected, as Go's JSON encoding of times does.
    static func rfc3339(seconds: Int64, nanos: Int64?) throws(KubeProtobufError) -> String {
        // 0000-01-01T00:00:00Z ... 9999-12-31T23:59:59Z
        guard seconds >= -62_167_219_200, seconds <= 253_402_300_799 else {
            throw KubeProtobufError("timestamp \(seconds) is outside the years 0 to 9999")
        }
        let days = seconds >= 0 ? seconds / 86_400 : -((-seconds + 86_399) / 86_400)
        let secOfDay = seconds - days * 86_400
        // Civil date from days since 1970-01-01 (proleptic Gregorian; Howard Hinnant's method).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        var s = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T"
        s += pad(secOfDay / 3600, 2) + ":" + pad(secOfDay / 60 % 60, 2) + ":" + pad(secOfDay % 60, 2)
        if let nanos {
            guard nanos >= 0, nanos < 1_000_000_000 else { throw KubeProtobufError("invalid nanoseconds \(nanos)") }
            s += "." + pad(nanos / 1000, 6)
        }
        return s + "Z"
    }

    private static func pad(_ v: Int64, _ width: Int) -> String {
        let d = String(v)
        return String(repeating: "0", count: max(0, width - d.count)) + d
    }

    /// Go's `time.Duration.String()` (`GoDuration.format`).
    static func goDuration(_ ns: Int64) -> String { GoDuration.format(nanoseconds: ns) }
}
