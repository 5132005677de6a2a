import Foundation
import KubeModel
import Testing

@testable import APIServer

@Suite struct BootstrapTokenTests {
    let token = BootstrapToken(id: "abcdef", secret: "0123456789abcdef")

    @Test func formatIsSixDotSixteenLowercaseAlphanumerics() {
        for _ in 0..<20 {
            let t = BootstrapToken.generate()
            #expect(BootstrapToken(t.description) == t)
            #expect(t.description.wholeMatch(of: /[a-z0-9]{6}\.[a-z0-9]{16}/) != nil)
        }
        for bad in ["abcdef.0123456789abcde", "ABCDEF.0123456789abcdef", "abcdef0123456789abcdef", "abc.def.0123456789abcdef", ""] {
            #expect(BootstrapToken(bad) == nil)
        }
    }

    @Test func validTokenAuthenticatesAsBootstrapUser() throws {
        let user = try #require(BootstrapToken.user(secret: token.secretObject(), presented: token))
        #expect(user.name == "system:bootstrap:abcdef")
        #expect(user.groups == ["system:bootstrappers", BootstrapToken.defaultNodeGroup])
    }

    @Test func wrongSecretExpiredOrNotForAuthenticationIsRefused() {
        let wrong = BootstrapToken(id: "abcdef", secret: "0123456789abcdee")
        #expect(BootstrapToken.user(secret: token.secretObject(), presented: wrong) == nil)
        let expired = token.secretObject(expiration: Date().addingTimeInterval(-60))
        #expect(BootstrapToken.user(secret: expired, presented: token) == nil)
        let future = token.secretObject(expiration: Date().addingTimeInterval(3600))
        #expect(BootstrapToken.user(secret: future, presented: token) != nil)
        var noAuth = token.secretObject()
        noAuth[path: ["data", "usage-bootstrap-authentication"]] = .string(Data("false".utf8).base64EncodedString())
        #expect(BootstrapToken.user(secret: noAuth, presented: token) == nil)
        var opaque = token.secretObject()
        opaque["type"] = "Opaque"
        #expect(BootstrapToken.user(secret: opaque, presented: token) == nil)
    }

    @Test func extraGroupsOutsideBootstrappersAreDropped() throws {
        let object = token.secretObject(extraGroups: ["system:masters", "system:bootstrappers:x"])
        let user = try #require(BootstrapToken.user(secret: object, presented: token))
        #expect(user.groups == ["system:bootstrappers", "system:bootstrappers:x"])
    }

    @Test func authenticatorReadsTheSecretFromTheStore() async throws {
        let store = try SQLiteStore(path: nil, historySize: 1000)
        _ = try await store.create(key: "/registry/core/secrets/kube-system/bootstrap-token-abcdef", object: token.secretObject())
        let auth = BootstrapTokenAuthenticator(store: store)
        #expect(await auth.authenticate(token: token.description)?.name == "system:bootstrap:abcdef")
        #expect(await auth.authenticate(token: "abcdef.0123456789abcdee") == nil)
        #expect(await auth.authenticate(token: "zzzzzz.0123456789abcdef") == nil)
        #expect(await auth.authenticate(token: "not-a-token") == nil)
    }

    @Test func anonymousMayOnlyGetClusterInfo() {
        #expect(Authenticator.anonymousUser(method: "GET", path: ClusterInfo.path)?.name == "system:anonymous")
        #expect(Authenticator.anonymousUser(method: "PUT", path: ClusterInfo.path) == nil)
        #expect(Authenticator.anonymousUser(method: "GET", path: "/api/v1/namespaces/kube-public/configmaps") == nil)
    }
}
