import Foundation
import Testing

import StitchTensor

/// Inputs that reached a trap in the safetensors reader through the fuzz harness FuzzSafeTensors (Fuzz/,
/// docs/fuzzing.md), each now a clear error naming the file and the tensor.
@Suite struct SafeTensorsFuzzRegressionTests {
  static func url(_ name: String) throws -> URL {
    try #require(Bundle.module.url(forResource: "Fixtures/fuzz/\(name)", withExtension: nil))
  }

  /// A header whose shape [2^62, 4] (F32, no data) overflowed `shape.reduce(1, *)`: an arithmetic-overflow trap.
  @Test func shapeWhoseElementCountOverflowsIsRefused() throws {
    let url = try Self.url("safetensors_shape_overflow.safetensors")
    #expect(throws: SafeTensors.FormatError.io("\(url.path): safetensors tensor 'a': shape [4611686018427387904, 4] has too many elements")) {
      _ = try SafeTensors.read(url)
    }
  }
}
