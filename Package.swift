// swift-tools-version:6.0
//
// Stitch: data-driven (offline) reinforcement learning in Swift.
// Layout and conventions: see README.md and docs/architecture.md.
import PackageDescription

/// Swift settings shared by every Swift target.
let swiftSettings: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
  name: "Stitch",
  platforms: [.macOS(.v13)],
  products: [
    .library(name: "Stitch", targets: ["Stitch"]),
    .executable(name: "stitch", targets: ["stitch"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
  ],
  targets: [
    // MARK: - Public API
    .target(name: "StitchTensor", dependencies: ["COpenBLAS", "CForkJoin", "CGemm"], swiftSettings: swiftSettings),
    .target(name: "StitchNN", dependencies: ["StitchTensor"], swiftSettings: swiftSettings),
    .target(name: "StitchData", dependencies: ["StitchTensor", "CHDF5", "COpenBLAS", "CDeflate"], swiftSettings: swiftSettings),
    .target(
      name: "StitchEnvironments", dependencies: ["CMuJoCo"],
      resources: [.copy("Resources")], swiftSettings: swiftSettings),
    // The algorithms' math: one file per method (Offline/, Online/), the pieces they share (Core/), and what an
    // algorithm needs to declare (TaskSpec, its configuration's checks). No loops, files or environments.
    .target(
      name: "StitchAlgorithms", dependencies: ["StitchTensor", "StitchNN", "StitchData"], swiftSettings: swiftSettings),
    // The training engine: phases and trainers, run folders, metrics, configuration resolution and presets,
    // plots, reports' inputs; dataset making (behaviour policies, DatasetMaker) and SynthER's data generation.
    .target(
      name: "StitchTraining",
      dependencies: ["StitchAlgorithms", "StitchTensor", "StitchNN", "StitchData", "StitchEnvironments", "StitchDiffusion"],
      resources: [.copy("Resources")], swiftSettings: swiftSettings),
    .target(name: "StitchDiffusion", dependencies: ["StitchTensor", "StitchNN"], swiftSettings: swiftSettings),
    .target(
      name: "Stitch",
      dependencies: [
        "StitchTensor", "StitchNN", "StitchData", "StitchEnvironments", "StitchAlgorithms", "StitchTraining",
        "StitchDiffusion",
      ],
      swiftSettings: swiftSettings),
    .target(
      name: "StitchCLI",
      dependencies: ["Stitch", .product(name: "ArgumentParser", package: "swift-argument-parser")],
      swiftSettings: swiftSettings),
    .executableTarget(name: "stitch", dependencies: ["StitchCLI", "StitchTensor"], swiftSettings: swiftSettings),

    // MARK: - System libraries (Debian packages; see scripts/bootstrap)
    .systemLibrary(
      name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
    .systemLibrary(name: "CMuJoCo", providers: [.apt(["libmujoco-dev"])]),
    .systemLibrary(name: "CDeflate", providers: [.apt(["libdeflate-dev"])]),

    // MARK: - Implementation details
    // A two-lane fork-join in C (atomics and a parked helper thread): see Sources/CForkJoin/include/fork_join.h.
    .target(name: "CForkJoin"),
    // A blocking sgemm driver over OpenBLAS's Haswell micro-kernel, for CPUs where it beats the kernel OpenBLAS
    // picks (see Sources/CGemm/include/stitch_gemm.h).
    .target(name: "CGemm", linkerSettings: [.linkedLibrary("dl")]),
    .target(
      name: "StitchTestSupport", dependencies: ["StitchTensor", "StitchNN"], path: "Tests/StitchTestSupport",
      swiftSettings: swiftSettings),

    // MARK: - Unit test bundles
    .testTarget(
      name: "StitchTensorTests", dependencies: ["StitchTensor", "CGemm", "COpenBLAS", "StitchTestSupport"],
      resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
    .testTarget(
      name: "StitchEnvironmentsTests", dependencies: ["StitchEnvironments", "StitchTestSupport"],
      resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
    .testTarget(
      name: "StitchDiffusionTests", dependencies: ["StitchDiffusion", "StitchTestSupport"], swiftSettings: swiftSettings),
    .testTarget(
      name: "StitchDataTests", dependencies: ["StitchData", "StitchTestSupport"],
      resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
    .testTarget(
      name: "StitchNNTests", dependencies: ["StitchNN", "StitchTestSupport"],
      resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
    .testTarget(
      name: "StitchAlgorithmsTests", dependencies: ["StitchAlgorithms", "StitchTestSupport"],
      resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
    .testTarget(
      name: "StitchTrainingTests", dependencies: ["StitchTraining", "StitchTestSupport"],
      resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
    .testTarget(
      name: "StitchCLITests", dependencies: ["StitchCLI", "StitchTestSupport"], swiftSettings: swiftSettings),
  ]
)
