import Testing
@testable import KubeModel

/// Bounded, deterministic fuzzing of the decoders, selectors, patches and quantities: seed
/// corpora are mutated with a fixed-seed PRNG so a failure reproduces exactly. The tests assert
/// only that every input returns or throws (a crash or hang fails the run) plus cheap round-trip
/// invariants. Iteration counts keep the whole suite to seconds in a debug build.

/// SplitMix64: tiny, fast and deterministic across platforms (unlike `SystemRandomNumberGenerator`).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
}

/// Byte-level mutations: flips, random bytes, interesting tokens, deletions, truncation,
/// splices from other seeds, duplication and deep nesting.
struct Mutator {
    var rng: SplitMix64
    let corpus: [[UInt8]]
    let tokens: [[UInt8]]

    init(seed: UInt64, corpus: [String], tokens: [String]) {
        rng = SplitMix64(seed: seed)
        self.corpus = corpus.map { Array($0.utf8) }
        self.tokens = (tokens + ["{", "}", "[", "]", "\"", "\\", ",", ":", "null", "-", "1e999", "\\u", "\\ud800", "\u{0}", "\u{FF}",
                                 "9223372036854775808", "-0", "0.0e-400", "\n", " ", "'", "=", "!", "(", ")"]).map { Array($0.utf8) }
    }

    mutating func next() -> [UInt8] {
        var bytes = corpus[rng.below(corpus.count)]
        for _ in 0...rng.below(4) { mutate(&bytes) }
        return bytes
    }

    private mutating func mutate(_ b: inout [UInt8]) {
        let at = rng.below(b.count + 1)
        switch rng.below(9) {
        case 0 where !b.isEmpty: b[rng.below(b.count)] ^= UInt8(1 << rng.below(8))
        case 1 where !b.isEmpty: b[rng.below(b.count)] = UInt8(truncatingIfNeeded: rng.next())
        case 2: b.insert(contentsOf: tokens[rng.below(tokens.count)], at: at)
        case 3 where !b.isEmpty:
            let end = min(b.count, at + 1 + rng.below(16))
            if at < end { b.removeSubrange(at..<end) }
        case 4: b.removeSubrange(at..<b.count)
        case 5:
            let other = corpus[rng.below(corpus.count)]
            let from = rng.below(other.count + 1)
            b.insert(contentsOf: other[from..<min(other.count, from + rng.below(64))], at: at)
        case 6 where !b.isEmpty:
            let end = min(b.count, at + 1 + rng.below(32))
            if at < end { b.insert(contentsOf: Array(b[at..<end]), at: at) }
        case 7:
            // Deep nesting, beyond the parsers' depth limits some of the time.
            let depth = 1 + rng.below(3000)
            let open: [UInt8] = rng.below(2) == 0 ? Array("[".utf8) : Array("{\"a\":".utf8)
            b.insert(contentsOf: Array(repeating: open, count: depth).joined(), at: at)
        default: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
        }
    }
}

private let jsonSeeds = [
    #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx","ports":[{"containerPort":80}]}]}}"#,
    #"[1,-2,3.5,1e10,-0.25e-3,true,false,null,"\u00e9\ud83d\ude00\n\t\"\\/"]"#,
    #"{"a":{"b":{"c":[[],{},[{}],""]}},"n":9223372036854775807,"m":-9223372036854775808,"d":1.7976931348623157e308}"#,
    #"{"metadata":{"annotations":{"x":"y"},"resourceVersion":"12"},"data":{"k":"dmFsdWU="}}"#,
    "\"plain string\"", "0", "[]", "{}",
]

private let yamlSeeds = [
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: {app: web, tier: \"1\"}\ndata:\n  k: |\n    multi\n    line\n",
    "a: &x [1, 2, {b: yes, c: 0755}]\nb: *x\nc: !!str 12\n---\nd: ~\ne: 2001-12-14\nf: 1.5e3\n",
    "- name: c\n  image: nginx:1.25\n  args: [\"-p\", 80]\n  command:\n    - sh\n- ? complex\n  : value\n",
    "key: 'single ''quoted'''\nother: \"esc \\u00e9 \\t\"\nfolded: >\n  one\n  two\nempty:\n",
    "base: &b {x: 1}\nmerged:\n  <<: *b\n  y: 2\n",
]

private let selectorSeeds = [
    "app=web,tier!=db", "env in (prod, staging),!canary", "example.com/key notin (a,b)", "x,y=z", "a==b", "k > 10",
    "metadata.name=web,status.phase!=Running", "spec.nodeName=", "metadata.namespace==default", "a=b\\,c",
]

private let quantitySeeds = ["1", "100m", "1.5Gi", "2e3", "-1k", "0.001", "1Ei", "12345678901234567890", "5E-2", ".5", "+3M", "1n", "9Pi"]

private let deploymentJSON = """
    {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"},"finalizers":["a/b"]},
     "spec":{"replicas":2,"template":{"metadata":{"labels":{"app":"web"}},"spec":{
       "containers":[{"name":"app","image":"app:1","env":[{"name":"A","value":"1"}],"ports":[{"containerPort":80}]},{"name":"s","image":"s:1"}],
       "volumes":[{"name":"data","emptyDir":{}}],"tolerations":[{"key":"a","operator":"Exists"}]}}}}
    """

private let patchSeeds = [
    #"[{"op":"add","path":"/metadata/labels/x","value":"y"},{"op":"remove","path":"/spec/replicas"}]"#,
    #"[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"app:2"},{"op":"test","path":"/kind","value":"Deployment"}]"#,
    #"[{"op":"move","from":"/metadata/labels","path":"/metadata/annotations"},{"op":"copy","from":"/spec","path":"/status"},{"op":"add","path":"/metadata/finalizers/-","value":"c/d"}]"#,
    #"{"metadata":{"labels":{"app":null,"new":"x"}},"spec":{"replicas":3}}"#,
    #"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"app:2"},{"name":"s","$patch":"delete"}],"$setElementOrder/containers":[{"name":"s"},{"name":"app"}]}}}}"#,
    #"{"spec":{"template":{"spec":{"$retainKeys":["containers"],"volumes":[{"$patch":"replace"}],"tolerations":{"$patch":"delete"}}}},"metadata":{"$deleteFromPrimitiveList/finalizers":["a/b"]}}"#,
]

@Suite struct FuzzTests {
    @Test(.timeLimit(.minutes(5))) func jsonParserRoundTrips() async throws {
        var m = Mutator(seed: 0xC0FFEE, corpus: jsonSeeds, tokens: [#""\u0000""#, "1.0", "1E+2", "[null]"])
        for n in 0..<8_000 {
            await yieldEvery(n)
            let input = m.next()
            guard let value = try? JSONParser.parse(input) else { continue }
            // What the parser accepts, the writer writes back to the same value (a whole double
            // is written as an integer, which JSON does not tell apart).
            let again = try JSONParser.parse(JSONWriter.bytes(value))
            #expect(JSONPatch.jsonEqual(again, value), "\(String(decoding: input, as: UTF8.self))")
            // The duplicate-reporting parser reads the same value (the last of a repeated key).
            let (reporting, _) = try JSONParser.parseReportingDuplicates(input)
            #expect(JSONPatch.jsonEqual(reporting, value), "\(String(decoding: input, as: UTF8.self))")
        }
    }

    @Test(.timeLimit(.minutes(5))) func yamlDecoder() async {
        var m = Mutator(seed: 0xBADA55, corpus: yamlSeeds, tokens: ["*x", "&x ", "<<: *b", "- ", ": ", "? ", "!!binary ", "%YAML 1.1\n", "---\n", "|-\n", "\t"])
        for n in 0..<4_000 {
            await yieldEvery(n)
            let text = String(decoding: m.next(), as: UTF8.self)
            guard let docs = try? YAMLDecoding.documents(text) else { continue }
            // Whatever decodes also encodes, and the encoding decodes to the same value.
            for doc in docs {
                let encoded = YAMLEncoding.encode(doc)
                let back = try? YAMLDecoding.decode(encoded)
                #expect(back.map { JSONPatch.jsonEqual($0, doc) } == true, "\(text.debugDescription) -> \(encoded.debugDescription)")
            }
        }
    }

    @Test(.timeLimit(.minutes(5))) func selectors() async {
        var m = Mutator(seed: 0x5E1EC7, corpus: selectorSeeds, tokens: ["in", "notin", "(", ")", "!=", "==", ",", "/", "."])
        let labels = ["app": "web", "tier": "db", "env": "prod", "x": ""]
        for n in 0..<6_000 {
            await yieldEvery(n)
            let text = String(decoding: m.next(), as: UTF8.self)
            // Parse, print, parse: the printed form means the same selector.
            if let s = try? LabelSelector.parse(text) {
                let again = try? LabelSelector.parse(s.description)
                #expect(again == s, "\(text.debugDescription) -> \(s.description.debugDescription)")
                #expect(again?.matches(labels) == s.matches(labels))
            }
            if let f = try? FieldSelector.parse(text) {
                let again = try? FieldSelector.parse(f.description)
                #expect(again == f, "\(text.debugDescription) -> \(f.description.debugDescription)")
                #expect(again?.matches { labels[$0] } == f.matches { labels[$0] })
                #expect(again?.requiredValue(for: "metadata.name") == f.requiredValue(for: "metadata.name"))
            }
        }
        var j = Mutator(seed: 0x5E1EC8, corpus: [#"{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"env","operator":"In","values":["a","b"]},{"key":"x","operator":"DoesNotExist"}]}"#], tokens: ["Exists", "NotIn", "Gt"])
        for n in 0..<3_000 {
            await yieldEvery(n)
            guard let v = try? JSONParser.parse(j.next()) else { continue }
            // The selector a label-selector object stands for prints and parses back to itself
            // (but for a null selector, which selects nothing and has no text form, as in Go).
            if let s = try? LabelSelector.fromJSON(v), s != .nothing {
                let again = try? LabelSelector.parse(s.description)
                #expect(again.map { $0.matches(labels) } == s.matches(labels), "\(v) -> \(s.description.debugDescription)")
            }
        }
    }

    @Test(.timeLimit(.minutes(5))) func patches() async throws {
        let target = try JSONParser.parse(deploymentJSON)
        var m = Mutator(seed: 0x9A7C4, corpus: patchSeeds, tokens: [#""$patch":"merge""#, #""op":"#, #""path":"/""#, "~0", "~1", "/-", "/0"])
        for n in 0..<6_000 {
            await yieldEvery(n)
            guard let patch = try? JSONParser.parse(m.next()) else { continue }
            _ = try? JSONPatch.apply(patch, to: target)
            let merged = JSONMergePatch.apply(patch, to: target)
            _ = try? StrategicMergePatch.apply(patch, to: target, typeName: "io.k8s.api.apps.v1.Deployment")
            _ = try? StrategicMergePatch.apply(patch, to: target, typeName: "io.k8s.api.core.v1.Pod")
            // A created merge patch reproduces its target (null-free, since merge patches cannot set null).
            if case .object = merged, !containsNull(merged) {
                #expect(JSONMergePatch.apply(JSONMergePatch.create(from: target, to: merged), to: target) == merged)
            }
        }
    }

    @Test(.timeLimit(.minutes(5))) func quantities() async {
        var m = Mutator(seed: 0x0A17, corpus: quantitySeeds, tokens: ["Ki", "Mi", "e", "E", "m", "u", "n", ".", "+", "-", "99999999999999999999"])
        for n in 0..<6_000 {
            await yieldEvery(n)
            let text = String(decoding: m.next(), as: UTF8.self)
            guard let q = Quantity.parse(text) else { continue }
            _ = (q.value, q.milliValue, q.doubleValue, q < q)
            // The canonical form parses back, to the same amount while the mantissa fits the
            // parser's 18 significant digits (beyond, it rounds).
            let back = Quantity.parse(q.canonical)
            #expect(back != nil, "\(text) -> \(q.canonical)")
            if q.mantissa.magnitude < 100_000_000_000_000_000 { #expect(back == q, "\(text) -> \(q.canonical)") }
        }
    }
}

/// Gives the task pool's threads to the other tests now and then: a fuzz loop runs for tens of
/// seconds in a debug build, and the pool has one thread per core.
private func yieldEvery(_ n: Int) async {
    if n % 32 == 31 { await Task.yield() }
}

private func containsNull(_ v: JSONValue) -> Bool {
    switch v {
    case .null: return true
    case .array(let a): return a.contains(where: containsNull)
    case .object(let o): return o.values.contains(where: containsNull)
    default: return false
    }
}
