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

  /// FuzzD4RL: a mutated B-tree/heap length made libhdf5 ask malloc for 0x0700000000000051 bytes while opening the
  /// file's objects (H5C_protect). ASan aborts on such a request by default; plain malloc returns null, which libhdf5
  /// checks, so `stitch` refuses the file. The harness now runs with allocator_may_return_null=1 (scripts/fuzz).
  @Test func corruptMetadataLengthIsRefused() throws {
    let file = try Self.path("d4rl_huge_metadata_length.hdf5")
    do {
      _ = try DatasetFile.read(file)
      Issue.record("a file with a corrupt metadata length loaded")
    } catch {
      #expect("\(error)".contains(file), "\(error)")
      #expect(error is HDF5Error, "\(error)")
    }
  }
}
