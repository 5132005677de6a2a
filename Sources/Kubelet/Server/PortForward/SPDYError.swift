/// A SPDY connection that cannot go on: the peer broke the framing, or zlib failed.
enum SPDYError: Error, CustomStringConvertible {
    case protocolError(String)
    case compression(String)

    var description: String {
        switch self {
        case .protocolError(let m): return "SPDY protocol error: \(m)"
        case .compression(let m): return "SPDY header compression: \(m)"
        }
    }
}
