import Testing
@testable import APIServer

/// Content-Type values as clients send them, reduced to the media type.
@Suite struct MediaTypesTests {
    @Test(arguments: [
        ("application/json", "application/json"),
        ("application/json; charset=utf-8", "application/json"),
        ("application/apply-patch+yaml;charset=utf-8", "application/apply-patch+yaml"),
        (" application/yaml ", "application/yaml"),
        ("", ""),
    ])
    func parametersAreDropped(value: String, expected: String) {
        #expect(MediaTypes.withoutParameters(value) == expected)
    }
}
