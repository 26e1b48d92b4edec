// swift-tools-version:6.0
// Ballast: keeps crypto portfolios on target across exchanges, proves what each
// trade cost, and leaves an audit trail. Dependencies point down this file:
// executable → use cases → domain, venues, simulator → adapters → C libraries.
import PackageDescription

/// One set of compiler settings for every Swift target.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
]

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let mustache = Target.Dependency.product(name: "Mustache", package: "swift-mustache")
let toml = Target.Dependency.product(name: "TOMLKit", package: "TOMLKit")

let package = Package(
    name: "Ballast",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ballast", targets: ["ballast"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
    ],
    targets: [
        // MARK: Executable

        /// The `ballast` command: parses, validates, wires dependencies, maps errors to exit codes.
        .executableTarget(
            name: "ballast",
            dependencies: ["BallastKit", "BallastLab", "Simulator", argumentParser, logging],
            swiftSettings: swiftSettings),

        // MARK: Lab

        /// Above the use cases: the simulated-venue demo wiring, benchmarks, crash campaigns and
        /// replay. Production modules do not link the simulator.
        .target(
            name: "BallastLab",
            dependencies: [
                "BallastKit", "BallastCore", "Venues", "Postgres", "Simulator", "Digest", "Workbook", "CurlHTTP",
                "Transport", logging, toml,
            ],
            swiftSettings: swiftSettings),

        // MARK: Use cases

        /// Pull, reconcile, measure, propose, execute, report and run, over the adapters.
        .target(
            name: "BallastKit",
            dependencies: [
                "BallastCore", "Venues", "Postgres", "CurlHTTP", "Workbook", "Transport", "Digest",
                logging, mustache, toml,
            ],
            resources: [.copy("Migrations")],
            swiftSettings: swiftSettings),

        // MARK: Domain

        /// Pure domain: exact decimals, venue rules, portfolios, drift, costs, routing, keys.
        .target(name: "BallastCore", dependencies: ["Digest"], swiftSettings: swiftSettings),

        /// Venue dialects: request building, signing, decoding, rate-limit governor.
        .target(
            name: "Venues", dependencies: ["BallastCore", "Transport", "Digest", logging],
            swiftSettings: swiftSettings),

        /// Simulated venues speaking a venue dialect on loopback: matching, latency, faults, replay.
        .target(
            name: "Simulator", dependencies: ["BallastCore", "Digest", "LoopbackHTTP", logging],
            swiftSettings: swiftSettings),

        // MARK: Adapters (the only modules that touch C)

        /// A small HTTP/1.1 server, plain or TLS, with socket-level faults, for simulated venues and tests.
        .target(name: "LoopbackHTTP", dependencies: ["CSSL"], swiftSettings: swiftSettings),
        /// HTTP request and response values and the transport protocol venues talk through.
        .target(name: "Transport", swiftSettings: swiftSettings),
        /// PostgreSQL over libpq: binds, rows, transactions, COPY, named SQLSTATEs.
        .target(name: "Postgres", dependencies: ["CLibPQ", logging], swiftSettings: swiftSettings),
        /// HTTP over libcurl with per-request timings.
        .target(name: "CurlHTTP", dependencies: ["CCurl", "Transport"], swiftSettings: swiftSettings),
        /// xlsx workbooks over libxlsxwriter.
        .target(name: "Workbook", dependencies: ["CXlsxWriter"], swiftSettings: swiftSettings),
        /// SHA-256 and HMAC-SHA256 over OpenSSL's libcrypto.
        .target(name: "Digest", dependencies: ["CCrypto"], swiftSettings: swiftSettings),

        // MARK: C libraries

        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CXlsxWriter", pkgConfig: "xlsxwriter", providers: [.apt(["libxlsxwriter-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSSL", pkgConfig: "libssl", providers: [.apt(["libssl-dev"])]),

        // MARK: Test support

        /// Shared by tests: the private PostgreSQL, a loopback HTTP server, openpyxl read-back.
        .target(
            name: "BallastTesting",
            dependencies: ["Postgres", "BallastKit", "Venues", "Transport", "LoopbackHTTP", logging],
            swiftSettings: swiftSettings),

        // MARK: Tests

        .testTarget(name: "BallastCoreTests", dependencies: ["BallastCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "VenuesTests", dependencies: ["Venues", "BallastCore", "Transport", "BallastTesting"],
            swiftSettings: swiftSettings),
        .testTarget(name: "DigestTests", dependencies: ["Digest"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SimulatorTests",
            dependencies: ["Simulator", "Venues", "CurlHTTP", "Transport", "BallastCore", "BallastTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PostgresTests", dependencies: ["Postgres", "BallastTesting", logging],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CurlHTTPTests", dependencies: ["CurlHTTP", "Transport", "LoopbackHTTP", "BallastTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "WorkbookTests", dependencies: ["Workbook", "BallastTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "BallastKitTests",
            dependencies: [
                "BallastKit", "BallastLab", "BallastCore", "Postgres", "Simulator", "BallastTesting", logging,
            ],
            swiftSettings: swiftSettings),
    ]
)
