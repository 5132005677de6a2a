import Foundation
import NIOCore
import NIOPosix

/// Sends names outside the cluster zone to the upstream resolvers (the node's resolv.conf
/// nameservers), each in turn until one answers. The client's packet goes out unchanged, so
/// its ID, flags and EDNS0 options reach the upstream as sent.
public struct DNSForwarder: Sendable {
    public let upstreams: [SocketAddress]
    let timeout: Duration

    /// Nameserver entries are IP addresses (port 53); `IP:PORT` and `[IPv6]:PORT` are also
    /// taken, for resolvers on other ports.
    public init(nameservers: [String], timeout: Duration = .seconds(2)) {
        upstreams = nameservers.compactMap(Self.address)
        self.timeout = timeout
    }

    static func address(_ entry: String) -> SocketAddress? {
        if let address = try? SocketAddress(ipAddress: entry, port: 53) { return address }
        var host = Substring(entry), port = 53
        if entry.hasPrefix("["), let close = entry.firstIndex(of: "]") {
            host = entry[entry.index(after: entry.startIndex)..<close]
            let rest = entry[entry.index(after: close)...]
            guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()) else { return nil }
            port = p
        } else if let colon = entry.lastIndex(of: ":"), let p = Int(entry[entry.index(after: colon)...]) {
            host = entry[..<colon]
            port = p
        } else {
            return nil
        }
        guard (1...65535).contains(port) else { return nil }
        return try? SocketAddress(ipAddress: String(host), port: port)
    }

    struct Timeout: Error {}

    /// The first upstream answer to `query`, nil when none answers. A UDP answer with the TC
    /// bit is retried over TCP when the client asked over TCP.
    public func forward(_ query: [UInt8], overTCP: Bool) async -> [UInt8]? {
        guard let id = DNSMessageReader.id(of: query) else { return nil }
        for upstream in upstreams {
            if overTCP, let answer = try? await withTimeout({ try await Self.exchangeTCP(query, upstream: upstream) }) {
                return answer
            }
            if !overTCP, let answer = try? await withTimeout({ try await Self.exchangeUDP(query, id: id, upstream: upstream) }) {
                return answer
            }
        }
        return nil
    }

    private func withTimeout(_ body: @escaping @Sendable () async throws -> [UInt8]) async throws -> [UInt8] {
        let limit = timeout
        return try await withThrowingTaskGroup(of: [UInt8].self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                throw Timeout()
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw Timeout() }
            return first
        }
    }

    /// One query from a fresh ephemeral port (its own source port per query, as resolvers do
    /// against spoofed answers); only an answer from the upstream with the query's ID counts.
    static func exchangeUDP(_ query: [UInt8], id: UInt16, upstream: SocketAddress) async throws -> [UInt8] {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: upstream.protocol == .inet6 ? "::" : "0.0.0.0", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(wrappingChannelSynchronously: channel)
                }
            }
        let underlying = channel.channel
        return try await withTaskCancellationHandler {
            try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(AddressedEnvelope(remoteAddress: upstream, data: ByteBuffer(bytes: query)))
                for try await envelope in inbound where envelope.remoteAddress == upstream {
                    let bytes = Array(envelope.data.readableBytesView)
                    if DNSMessageReader.id(of: bytes) == id { return bytes }
                }
                throw Timeout()
            }
        } onCancel: {
            underlying.close(promise: nil)
        }
    }

    /// One query over a TCP connection (two-byte length prefix, RFC 1035 §4.2.2).
    static func exchangeTCP(_ query: [UInt8], upstream: SocketAddress) async throws -> [UInt8] {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(to: upstream) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let underlying = channel.channel
        return try await withTaskCancellationHandler {
            try await channel.executeThenClose { inbound, outbound in
                var framed = ByteBuffer()
                framed.writeInteger(UInt16(clamping: query.count))
                framed.writeBytes(query)
                try await outbound.write(framed)
                var framer = DNSStreamFramer()
                for try await chunk in inbound {
                    framer.append(chunk)
                    if let message = try framer.next() { return message }
                }
                throw Timeout()
            }
        } onCancel: {
            underlying.close(promise: nil)
        }
    }
}

/// Splits a DNS-over-TCP byte stream into messages (each after a two-byte length).
struct DNSStreamFramer {
    private var buffer = ByteBuffer()

    mutating func append(_ bytes: ByteBuffer) {
        var copy = bytes
        buffer.writeBuffer(&copy)
        // Reclaim what has been read so a long-lived connection does not grow the buffer.
        buffer.discardReadBytes()
    }

    /// The next complete message, nil until one has arrived; a zero length is an error.
    mutating func next() throws -> [UInt8]? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) else { return nil }
        guard length > 0 else { throw DNSFormatError("zero-length TCP message") }
        guard buffer.readableBytes >= 2 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 2)
        return buffer.readBytes(length: Int(length))
    }
}
