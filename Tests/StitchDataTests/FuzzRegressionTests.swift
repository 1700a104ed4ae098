import Foundation
import Testing
@testable import StitchData

/// Inputs the fuzz harnesses found (Fuzz/, docs/fuzzing.md), each read through the public API: a clear error that
/// names the file and the dataset instead of a crash.
@Suite struct FuzzRegressionTests {
  static func path(_ name: String) throws -> String {
    try #require(Bundle.module.url(forResource: "Fixtures/fuzz/\(name)", withExtension: nil)).path
  }

  /// FuzzD4RL: d4rl_never_ends.hdf5 with its 'actions' object header mutated to the compact layout with no data
  /// stored. libhdf5 1.10 copied the 80 missing bytes from a null pointer (SEGV in H5D__contig_read via
  /// H5VM_memcpyvv); `checkStorage` now refuses it before H5Dread.
  @Test func compactDatasetWithoutItsDataIsRefused() throws {
    let file = try Self.path("d4rl_compact_without_data.hdf5")
    do {
      _ = try DatasetFile.read(file)
      Issue.record("a dataset with missing data loaded")
    } catch let error as HDF5Error {
      guard case .malformed(let f, let key, let detail) = error else { Issue.record("unexpected error \(error)"); return }
      #expect(f == file && key == "actions")
      #expect(detail.contains("stores 0 bytes for 20 elements"), "\(detail)")
      #expect("\(error)".contains(file) && "\(error)".contains("'actions'"))
    }
  }
}
