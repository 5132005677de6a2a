import Testing
import KubeModel

@Suite struct NameValidationTests {
    @Test func dns1123Subdomain() {
        #expect(NameValidation.isDNS1123Subdomain("example.com").isEmpty)
        #expect(NameValidation.isDNS1123Subdomain("a").isEmpty)
        #expect(NameValidation.isDNS1123Subdomain("my-app.v1").isEmpty)
        let errs = NameValidation.isDNS1123Subdomain("Foo")
        #expect(errs == ["a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"])
        #expect(!NameValidation.isDNS1123Subdomain("").isEmpty)
        #expect(!NameValidation.isDNS1123Subdomain("a..b").isEmpty)
        #expect(!NameValidation.isDNS1123Subdomain("-a").isEmpty)
        #expect(NameValidation.isDNS1123Subdomain(String(repeating: "a", count: 254)).first == "must be no more than 253 characters")
    }

    @Test func dns1123Label() {
        #expect(NameValidation.isDNS1123Label("123-abc").isEmpty)
        #expect(!NameValidation.isDNS1123Label("a.b").isEmpty)
        #expect(NameValidation.isDNS1123Label("a_b") == ["a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"])
        #expect(NameValidation.isDNS1123Label(String(repeating: "a", count: 64)) == ["must be no more than 63 characters"])
    }

    @Test func dns1035Label() {
        #expect(NameValidation.isDNS1035Label("my-svc").isEmpty)
        #expect(!NameValidation.isDNS1035Label("1svc").isEmpty)
        #expect(!NameValidation.isDNS1035Label("svc-").isEmpty)
    }

    @Test func qualifiedNames() {
        #expect(NameValidation.isQualifiedName("app").isEmpty)
        #expect(NameValidation.isQualifiedName("app.kubernetes.io/name").isEmpty)
        #expect(NameValidation.isQualifiedName("My_Key.1").isEmpty)
        #expect(NameValidation.isQualifiedName("/name") == ["prefix part must be non-empty"])
        #expect(NameValidation.isQualifiedName("a/b/c").first?.hasPrefix("a qualified name must consist") == true)
        #expect(NameValidation.isQualifiedName("Example.com/x").first?.hasPrefix("prefix part a lowercase RFC 1123 subdomain") == true)
        #expect(NameValidation.isQualifiedName("").contains("name part must be non-empty"))
        #expect(NameValidation.isQualifiedName("-x").first?.hasPrefix("name part must consist") == true)
    }

    @Test func labelValues() {
        #expect(NameValidation.isValidLabelValue("").isEmpty)
        #expect(NameValidation.isValidLabelValue("v1.2_3-x").isEmpty)
        #expect(!NameValidation.isValidLabelValue("has space").isEmpty)
        #expect(NameValidation.isValidLabelValue(String(repeating: "a", count: 64)) == ["must be no more than 63 characters"])
    }

    @Test func ports() {
        #expect(NameValidation.isValidPortNumber(80).isEmpty)
        #expect(NameValidation.isValidPortNumber(0) == ["must be between 1 and 65535, inclusive"])
        #expect(NameValidation.isValidPortNumber(65536).count == 1)
        #expect(NameValidation.isValidPortName("http").isEmpty)
        #expect(NameValidation.isValidPortName("http-alt2").isEmpty)
        #expect(NameValidation.isValidPortName("123") == ["must contain at least one letter (a-z)"])
        #expect(NameValidation.isValidPortName("a--b") == ["must not contain consecutive hyphens"])
        #expect(NameValidation.isValidPortName("-ab") == ["must not begin or end with a hyphen"])
        #expect(NameValidation.isValidPortName("HTTP").contains("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"))
        #expect(NameValidation.isValidPortName("abcdefghijklmnop").contains("must be no more than 15 characters"))
    }

    @Test func identifiersAndKeys() {
        #expect(NameValidation.isCIdentifier("MY_VAR1").isEmpty)
        #expect(!NameValidation.isCIdentifier("1VAR").isEmpty)
        #expect(NameValidation.isEnvVarName("my.env-name").isEmpty)
        #expect(!NameValidation.isEnvVarName("A=B").isEmpty)
        #expect(!NameValidation.isEnvVarName("").isEmpty)
        #expect(NameValidation.isConfigMapKey("config.yaml").isEmpty)
        #expect(NameValidation.isConfigMapKey(".") == ["must not be '.'"])
        #expect(NameValidation.isConfigMapKey("..a") == ["must not start with '..'"])
        #expect(NameValidation.isConfigMapKey("a/b").first?.hasPrefix("a valid config key must consist") == true)
    }

    @Test func labelsAndAnnotations() {
        #expect(NameValidation.validateLabels(["app": "web", "tier": ""], path: "metadata.labels").isEmpty)
        let bad = NameValidation.validateLabels(["bad key": "ok", "k": "bad value"], path: "metadata.labels")
        #expect(bad.count == 2)
        #expect(bad.allSatisfy { $0.field == "metadata.labels" && $0.kind == .invalid })
        #expect(bad.contains { $0.value == "\"bad key\"" })
        #expect(NameValidation.validateLabels(["k": 1], path: "metadata.labels").first?.kind == .typeInvalid)
        #expect(NameValidation.validateLabels("x", path: "metadata.labels").first?.kind == .typeInvalid)
        #expect(NameValidation.validateAnnotations(["Example.com/Key": "x"], path: "metadata.annotations").isEmpty)
        let big = JSONValue.object(["k": .string(String(repeating: "x", count: 256 * 1024))])
        let errs = NameValidation.validateAnnotations(big, path: "metadata.annotations")
        #expect(errs.first?.kind == .tooLong)
        #expect(errs.first?.message == "metadata.annotations: Too long: must have at most 262144 bytes")
    }

    @Test func objectNames() {
        let e = NameValidation.validateObjectName("Bad", path: "metadata.name", rule: .dns1123Subdomain)
        #expect(e.first?.message.hasPrefix("metadata.name: Invalid value: \"Bad\": a lowercase RFC 1123 subdomain") == true)
        #expect(NameValidation.validateObjectName("a.b", path: "metadata.name", rule: .dns1123Label).count == 1)
        #expect(NameValidation.validateObjectName("1a", path: "metadata.name", rule: .dns1035Label).count == 1)
        #expect(NameValidation.validateObjectName("a:b", path: "metadata.name", rule: .pathSegment).isEmpty)
        #expect(NameValidation.validateObjectName("..", path: "metadata.name", rule: .pathSegment).first?.detail == "may not be '..'")
        #expect(NameValidation.validateObjectName("a/b", path: "metadata.name", rule: .pathSegment).first?.detail == "may not contain '/'")
    }
}
