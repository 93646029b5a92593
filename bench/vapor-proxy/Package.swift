// swift-tools-version:6.0
import PackageDescription

// A benchmark reference (bench/README.md), a package of its own so the gateway's `swift build` builds the
// product only: Vapor and AsyncHTTPClient proxying a chat, with none of the gateway's work.
// bench/lib.sh builds it with `swift build -c release --package-path bench/vapor-proxy`.
let package = Package(
    name: "vapor-proxy-reference",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vapor-proxy-reference", targets: ["vapor-proxy-reference"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        .executableTarget(
            name: "vapor-proxy-reference",
            dependencies: [
                .product(name: "Vapor", package: "vapor"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
            ]
        ),
    ]
)
