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
        // One-way layers, each a module so the compiler keeps the direction:
        //   TensorCore -> NN -> SpecFormat -> Datasets -> Experiment -> Reports -> BNLabCLI -> bnlab
        // Charts (SVG drawing) stands alone and Reports uses it.
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
        // flush-to-zero / denormals-are-zero: the processor control bits Swift cannot set
        .target(name: "CFloatingPoint"),
        .target(name: "TensorCore", dependencies: ["COpenBLAS", "CFloatingPoint"]),
        .target(name: "NN", dependencies: ["TensorCore"]),
        .target(name: "SpecFormat", dependencies: ["TensorCore", "NN"]),
        .target(name: "Datasets", dependencies: ["TensorCore", "SpecFormat", "CZlib"]),
        .target(name: "Experiment", dependencies: ["TensorCore", "NN", "SpecFormat", "Datasets"]),
        .target(name: "Charts"),
        .target(name: "Reports", dependencies: ["SpecFormat", "Experiment", "Charts"]),
        // BNLabCLI gets `generatedBuildIdentity`, a hash of Package.swift and every file under Sources/,
        // written at build time by BuildIdentityPlugin (a build-tool plugin: a target of this package,
        // not a dependency) into .build/; journals are keyed by it, so a new build never resumes old cells.
        .target(name: "BNLabCLI", dependencies: ["TensorCore", "NN", "SpecFormat", "Datasets", "Experiment",
                                                 "Reports", "Charts"],
                plugins: ["BuildIdentityPlugin"]),
        .executableTarget(name: "BuildIdentityTool"),
        .plugin(name: "BuildIdentityPlugin", capability: .buildTool(), dependencies: ["BuildIdentityTool"]),
        .executableTarget(name: "bnlab", dependencies: ["BNLabCLI"]),

        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "TensorCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "HarnessTests", dependencies: ["SpecFormat", "Datasets", "Experiment", "Charts", "Reports",
                                                         "NN", "TensorCore"]),
        .testTarget(name: "BNLabCLITests", dependencies: ["BNLabCLI", "NN", "SpecFormat", "Datasets", "Experiment",
                                                          "Reports", "TensorCore"]),
    ],
    swiftLanguageModes: [.v6]
)
