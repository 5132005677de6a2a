// libyaml as vendored by the Yams package (KubeModel depends on Yams, which brings CYaml).
import CYaml

/// A YAML syntax or conversion error, worded like go-yaml (`yaml: line 3: ...`).
public struct YAMLParseError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    /// 1-based line of the problem, when known.
    public var line: Int?

    public init(_ message: String, line: Int? = nil) {
        self.message = message
        self.line = line
    }

    public var description: String { message }
}

/// YAML → `JSONValue` conversion with Kubernetes (`sigs.k8s.io/yaml`, go-yaml v2) semantics:
/// unquoted `yes/no/on/off/y/n` are booleans, `0755` is octal, timestamps stay strings,
/// non-string keys are stringified.
///
/// It drives libyaml's event stream (vendored by Yams) instead of Yams' `Node` tree: Yams hashes
/// mapping keys recursively, so an alias bomb used as a key burns exponential time before any
/// caller could count nodes. Here aliases are charged as they are met, nesting is bounded, and
/// no recursion depends on the input.
public enum YAMLDecoding {
    /// Most nodes that may be materialised through aliases (literal nodes are bounded by input size).
    public static let maxAliasedNodes = 100_000
    /// Deepest nesting allowed, counting nesting that aliases splice in.
    public static let maxDepth = 1000

    /// All documents of a `---` separated stream; empty (null) documents are skipped.
    public static func documents(_ text: String) throws -> [JSONValue] {
        var text = text
        return try text.withUTF8 { buf throws(YAMLParseError) in
            var composer = Composer()
            return try composer.run(buf).filter { !$0.isNull }
        }
    }

    /// A single document; an empty stream is `null`, more than one document is an error.
    public static func decode(_ text: String) throws -> JSONValue {
        let docs = try documents(text)
        guard docs.count <= 1 else {
            throw YAMLParseError("yaml: expected a single document in the stream but found \(docs.count)")
        }
        return docs.first ?? .null
    }
}

private struct Composer {
    private enum Key { case name(String), merge }

    private struct Frame {
        var isMapping: Bool
        var anchor: String?
        var depth: Int
        var items: [JSONValue] = []
        var members: [String: JSONValue] = [:]
        var merged: [String: JSONValue] = [:]
        var pendingKey: Key?
        var nodes = 1
        var height = 1  // containers below, including this one; scalars are 0
    }

    private struct Anchored { var value: JSONValue; var nodes: Int; var height: Int }

    private var stack: [Frame] = []
    private var anchors: [String: Anchored] = [:]
    private var aliased = 0
    private var docs: [JSONValue] = []

    mutating func run(_ buf: UnsafeBufferPointer<UInt8>) throws(YAMLParseError) -> [JSONValue] {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw YAMLParseError("yaml: out of memory") }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(&parser, buf.baseAddress, buf.count)
        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else { throw Self.error(from: parser) }
            defer { yaml_event_delete(&event) }
            let line = Int(event.start_mark.line) + 1
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return docs
            case YAML_DOCUMENT_START_EVENT:
                anchors = [:]  // anchors are scoped to one document
            case YAML_SCALAR_EVENT:
                let s = event.data.scalar
                let text = Self.string(s.value, Int(s.length))
                let tag = s.tag.map { String(cString: $0) }
                let plain = s.style == YAML_PLAIN_SCALAR_STYLE
                if expectsKey, tag == nil, plain, text == "<<" {
                    stack[stack.count - 1].pendingKey = .merge
                    continue
                }
                let value = try ScalarResolver.resolve(text, plain: plain, tag: tag, line: line)
                if let a = s.anchor { anchors[String(cString: a)] = Anchored(value: value, nodes: 1, height: 0) }
                try add(value, nodes: 1, height: 0, line: line)
            case YAML_ALIAS_EVENT:
                let name = String(cString: event.data.alias.anchor)
                guard let a = anchors[name] else { throw YAMLParseError("yaml: line \(line): unknown anchor '\(name)' referenced", line: line) }
                aliased += a.nodes
                guard aliased <= YAMLDecoding.maxAliasedNodes else {
                    throw YAMLParseError("yaml: document contains excessive aliasing", line: line)
                }
                try add(a.value, nodes: a.nodes, height: a.height, line: line)
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                let isMap = event.type == YAML_MAPPING_START_EVENT
                if expectsKey { throw YAMLParseError("yaml: line \(line): unsupported map key: keys must be scalars", line: line) }
                let anchorPtr = isMap ? event.data.mapping_start.anchor : event.data.sequence_start.anchor
                let depth = (stack.last?.depth ?? 0) + 1
                guard depth <= YAMLDecoding.maxDepth else { throw YAMLParseError("yaml: line \(line): exceeded max depth of \(YAMLDecoding.maxDepth)", line: line) }
                stack.append(Frame(isMapping: isMap, anchor: anchorPtr.map { String(cString: $0) }, depth: depth))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let f = stack.popLast() else { break }
                let value: JSONValue
                if f.isMapping {
                    // Explicit keys win over merged ones, as the YAML merge-key spec says.
                    value = .object(f.merged.merging(f.members) { _, explicit in explicit })
                } else {
                    value = .array(f.items)
                }
                if let a = f.anchor { anchors[a] = Anchored(value: value, nodes: f.nodes, height: f.height) }
                try add(value, nodes: f.nodes, height: f.height, line: line)
            default:
                break
            }
        }
    }

    private var expectsKey: Bool {
        guard let top = stack.last else { return false }
        return top.isMapping && top.pendingKey == nil
    }

    /// Places a finished value into the enclosing collection, or ends the document.
    private mutating func add(_ value: JSONValue, nodes: Int, height: Int, line: Int) throws(YAMLParseError) {
        guard !stack.isEmpty else {
            docs.append(value)
            return
        }
        let top = stack.count - 1
        guard stack[top].depth + height <= YAMLDecoding.maxDepth else {
            throw YAMLParseError("yaml: line \(line): exceeded max depth of \(YAMLDecoding.maxDepth)", line: line)
        }
        stack[top].nodes += nodes
        stack[top].height = max(stack[top].height, height + 1)
        if !stack[top].isMapping {
            stack[top].items.append(value)
            return
        }
        switch stack[top].pendingKey {
        case nil:
            stack[top].pendingKey = .name(try Self.keyString(value, line: line))
        case .name(let k)?:
            stack[top].members[k] = value
            stack[top].pendingKey = nil
        case .merge?:
            stack[top].pendingKey = nil
            // `<<: map` or `<<: [map1, map2]`; earlier maps in the list win.
            let sources: [JSONValue]
            switch value {
            case .object: sources = [value]
            case .array(let a): sources = a
            default: throw YAMLParseError("yaml: line \(line): map merge requires map or sequence of maps as the value", line: line)
            }
            for src in sources {
                guard let o = src.objectValue else {
                    throw YAMLParseError("yaml: line \(line): map merge requires map or sequence of maps as the value", line: line)
                }
                for (k, v) in o where stack[top].merged[k] == nil { stack[top].merged[k] = v }
            }
        }
    }

    /// JSON keys are strings; scalars are stringified as sigs.k8s.io/yaml does (`true`, `1`).
    private static func keyString(_ v: JSONValue, line: Int) throws(YAMLParseError) -> String {
        switch v {
        case .string(let s): return s
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double: return JSONWriter.string(v)
        case .array, .object:
            throw YAMLParseError("yaml: line \(line): unsupported map key: keys must be scalars", line: line)
        }
    }

    private static func string(_ p: UnsafeMutablePointer<yaml_char_t>?, _ n: Int) -> String {
        guard let p else { return "" }
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }

    private static func error(from parser: yaml_parser_t) -> YAMLParseError {
        var mark = parser.problem_mark
        if mark.line == 0 && mark.column == 0 { mark = parser.context_mark }
        let line = Int(mark.line) + 1
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown problem parsing YAML content"
        var msg = "yaml: line \(line): \(problem)"
        if let ctx = parser.context.map({ String(cString: $0) }) { msg += " (\(ctx))" }
        return YAMLParseError(msg, line: line)
    }
}
