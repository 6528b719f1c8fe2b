// swift-tools-version:6.0
// bnlab: reproduces the BatchNorm small-batch failure and measures its remedies.
// No Swift package dependencies: the toolchain and two system libraries, OpenBLAS and zlib
// (Debian's libopenblas-dev and zlib1g-dev), each through a .systemLibrary target.
import PackageDescription

let package = Package(
    name: "bnlab",
    products: [
        .executable(name: "bnlab", targets: ["bnlab"]),
    ],
    targets: [
        // core -> layers -> harness -> command line
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(name: "TensorCore", dependencies: ["COpenBLAS"]),
        .target(name: "NN", dependencies: ["TensorCore"]),
        .target(name: "Harness", dependencies: ["TensorCore", "NN", "CZlib"]),
        .target(name: "BNLabCLI", dependencies: ["Harness", "NN", "TensorCore"]),
        .executableTarget(name: "bnlab", dependencies: ["BNLabCLI"]),

        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "TensorCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "HarnessTests", dependencies: ["Harness", "NN", "TensorCore"]),
        .testTarget(name: "BNLabCLITests", dependencies: ["BNLabCLI", "Harness"]),
    ],
    swiftLanguageModes: [.v5]
)
