// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Caravel",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "caravel", targets: ["caravel"]),
        .executable(name: "caravel-bench", targets: ["caravel-bench"]),
        .executable(name: "kubectl-lite", targets: ["kubectl-lite"]),
        .library(name: "KubeModel", targets: ["KubeModel"]),
        .library(name: "KubeClient", targets: ["KubeClient"]),
        .library(name: "APIServer", targets: ["APIServer"]),
        .library(name: "Controllers", targets: ["Controllers"]),
        .library(name: "Kubelet", targets: ["Kubelet"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket.git", from: "1.6.2"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
    ],
    targets: [
        .target(
            name: "KubeModel",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "KubeClient",
            dependencies: [
                "KubeModel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        // etcd v3's gRPC API (KV, Watch, Lease, Maintenance.Status), generated once and committed:
        // Sources/EtcdAPI/README.md says how. The build never runs the generator.
        .target(
            name: "EtcdAPI",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["README.md", "proto"]
        ),
        .target(
            name: "APIServer",
            dependencies: [
                "KubeModel",
                "KubeClient",
                "EtcdAPI",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                // The etcd connections' PING responder sits before NIO's HTTP/2 handler.
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .target(
            name: "Controllers",
            dependencies: [
                "KubeClient",
                "KubeModel",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Kubelet",
            dependencies: [
                "KubeClient",
                "KubeModel",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                "CZlib",
            ]
        ),
        // The system zlib: SPDY/3.1 header blocks of `kubectl port-forward`.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        // The per-container monitor (like conmon): sets up namespaces, mounts and cgroups, runs the
        // container's process, writes its output to the log file and its exit status to disk.
        // Glibc only, so it stays single-threaded and survives kubelet restarts.
        .executableTarget(name: "caravel-shim"),
        // The example app the manifests run (image `caravel/demo-app`): health, readiness and
        // startup endpoints, a CPU burner and Prometheus metrics.
        .executableTarget(
            name: "demo-app",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")]
        ),
        .executableTarget(
            name: "caravel",
            dependencies: [
                "APIServer",
                "CMalloc",
                "Controllers",
                "Kubelet",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "caravel-bench",
            dependencies: [
                "KubeClient",
                "KubeModel",
                // The ceilings: the store's SQLite settings and the server's TLS stack, without the API.
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // A native kubectl for everyday work; a plain Kubernetes client (never links the server).
        .executableTarget(
            name: "kubectl-lite",
            dependencies: [
                "KubeClient",
                "KubeModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // For tests only: the API server in-process, free ports, eventually(), a manual clock,
        // and a recording fake client for reconciler tests.
        .target(
            name: "KubeTesting",
            dependencies: [
                "APIServer",
                "KubeClient",
                "KubeModel",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "KubeModelTests", dependencies: ["KubeModel"]),
        .testTarget(name: "APIServerTests", dependencies: ["APIServer", "KubeClient", "KubeModel", "KubeTesting"]),
        .testTarget(name: "KubeClientTests", dependencies: ["KubeClient", "KubeModel", "KubeTesting"]),
        .testTarget(name: "KubeletTests", dependencies: ["Kubelet", "KubeClient", "KubeModel", "APIServer", "KubeTesting"]),
        .testTarget(name: "ControllersTests", dependencies: ["Controllers", "KubeClient", "KubeModel", "APIServer", "KubeTesting"]),
    ]
)
