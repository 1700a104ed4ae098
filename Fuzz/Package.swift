// swift-tools-version:6.0
//
// libFuzzer harnesses for Stitch's file readers (issue 21 §5; docs/fuzzing.md). A package of its own so that the
// sanitizer build (`-sanitize=fuzzer,address` on every Swift module) stays out of the main build: `scripts/fuzz`
// builds it with `swift build --package-path Fuzz -c release -Xswiftc -sanitize=fuzzer,address`.
// Each harness is an executable whose `LLVMFuzzerTestOneInput` hands the input to the same API `stitch` uses.
import PackageDescription

let harnesses = ["FuzzD4RL", "FuzzMinari", "FuzzSafeTensors", "FuzzConfig"]

let package = Package(
  name: "StitchFuzz",
  platforms: [.macOS(.v13)],
  dependencies: [.package(name: "Stitch", path: "..")],
  targets: [
    // What the harnesses share: libFuzzer's driver, the scratch file each input is written to, the HDF5 mutator.
    .target(name: "FuzzSupport", path: "Sources/FuzzSupport"),
  ] + harnesses.map { name in
    .executableTarget(
      name: name, dependencies: ["FuzzSupport", .product(name: "Stitch", package: "Stitch")], path: "Sources/\(name)")
  }
)
