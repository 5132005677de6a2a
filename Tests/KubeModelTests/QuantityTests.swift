import Testing
import KubeModel

@Suite struct QuantityTests {
    @Test(arguments: [
        ("100m", "100m", Int64(100)), ("0.5", "500m", 500), ("1", "1", 1000), ("1000m", "1", 1000),
        ("1.5", "1500m", 1500), ("2k", "2k", 2_000_000), ("1000", "1k", 1_000_000), ("1e3", "1e3", 1_000_000),
        ("1Ki", "1Ki", 1_024_000), ("1.5Gi", "1536Mi", 1_610_612_736_000), ("128974848", "128974848", 128_974_848_000),
        ("129e6", "129e6", 129_000_000_000), ("123Mi", "123Mi", 128_974_848_000), ("512", "512", 512_000),
        ("0.5Ki", "512", 512_000), ("-1", "-1", -1000), ("+2", "2", 2000), ("0", "0", 0), ("1n", "1n", 1),
        ("1u", "1u", 1), (".5", "500m", 500), ("5.", "5", 5000), ("1M", "1M", 1_000_000_000),
    ])
    func parses(_ input: String, _ canonical: String, _ milli: Int64) throws {
        let q = try #require(Quantity.parse(input))
        #expect(q.canonical == canonical)
        #expect(q.milliValue == milli)
    }

    @Test(arguments: ["", "abc", "1.2.3", "1Kb", "m", "1e", "1 Gi", ".", "--1", "1ee3"])
    func rejects(_ input: String) {
        #expect(Quantity.parse(input) == nil)
    }

    @Test func comparesByValue() throws {
        let a = try #require(Quantity.parse("1"))
        let b = try #require(Quantity.parse("1000m"))
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(try #require(Quantity.parse("500m")) < a)
        #expect(try #require(Quantity.parse("1Gi")) > (try #require(Quantity.parse("1G"))))
        #expect(try #require(Quantity.parse("-1")) < (try #require(Quantity.parse("0"))))
    }

    @Test func roundsUpBelowNano() throws {
        let q = try #require(Quantity.parse("0.0000000001"))
        #expect(q.canonical == "1n")
        #expect(try #require(Quantity.parse("1.5m")).milliValue == 2)
        #expect(try #require(Quantity.parse("8Ei")).milliValue == Int64.max)
    }
}
