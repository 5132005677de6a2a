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

    /// Accept lists as kubectl and client-go write them, with the spaces HTTP allows.
    @Test(arguments: [
        (nil, ResponseShape.object),
        ("application/json", .object),
        ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json", .table),
        ("application/json ; as=Table ; v=v1beta1 ; g=meta.k8s.io", .table),
        ("application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io", .partialMetadata),
        ("application/json;as=Unknown;g=x, */*", .object),
        ("text/plain,\tapplication/yaml", .object),
    ] as [(String?, ResponseShape)])
    func acceptListsPickTheFirstServableShape(accept: String?, expected: ResponseShape) throws {
        #expect(try MediaTypes.shape(accept: accept) == expected)
    }

    @Test func anAcceptListWithNothingServableIsNotAcceptable() {
        #expect(throws: APIError.self) { try MediaTypes.shape(accept: "text/html, image/png") }
    }

    @Test(arguments: [
        ("application/yaml", true),
        ("text/plain, application/yaml ; q=0.9", true),
        ("application/yaml;as=Table;g=meta.k8s.io;v=v1", false),
        ("application/json, application/yaml", false),
        ("\t*/*", false),
    ])
    func yamlWhenItIsTheFirstServableType(accept: String, expected: Bool) {
        #expect(MediaTypes.prefersYAML(accept: accept) == expected)
    }
}
