import Foundation
import Testing
import CHDF5

@testable import StitchData

/// The parallel chunked reader (libdeflate on all cores) against HDF5's own read of the same datasets, and against
/// the formulas the fixture was made from (scripts/fixtures/make_chunked_fixtures.py, written by h5py).
@Suite struct ChunkedReadTests {
  static func path(_ name: String) throws -> String {
    try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)).path
  }

  /// Whether `key` of `file` takes the fast path (nil: HDF5 reads it).
  static func fastPath(_ file: HDF5File, _ key: String) throws -> [Float]? {
    let d = H5Dopen2(file.id, key, stitch_H5P_DEFAULT())
    defer { H5Dclose(d) }
    let type = H5Dget_type(d)
    defer { H5Tclose(type) }
    return try file.readFloatsByChunks(d, key: key, shape: try file.shape(key), type: type)
  }

  @Test func everyGzipCaseMatchesHDF5BitForBitAndTheFormulas() throws {
    let file = try HDF5File.open(try Self.path("chunked.hdf5"))
    for key in ["obs64", "act32s", "rew32", "term_bool", "flag_u8"] {
      let fast = try #require(try Self.fastPath(file, key), "\(key) should take the chunked path")
      let reference = try file.readFloats(key, parallel: false)
      #expect(fast.map(\.bitPattern) == reference.values.map(\.bitPattern), "\(key)")
    }
    let obs = try file.readFloats("obs64")
    #expect(obs.shape == [1003, 5])
    for i in [0, 99, 100, 101, 555, 1002] {
      for j in 0..<5 { #expect(obs.values[i * 5 + j] == Float(Double(i) * 0.1 + Double(j) / 7)) }
    }
    let act = try file.readFloats("act32s")
    #expect(act.values[516 * 3 + 2] == Float(sin(516.0)) + 2)
    #expect(try file.readFloats("rew32").values[1000] == Float(1000.0 / 3.0))
    let term = try file.readFloats("term_bool").values
    #expect(term.count == 1003 && (0..<1003).allSatisfy { term[$0] == ($0 % 7 == 0 ? 1 : 0) })
    let flags = try file.readFloats("flag_u8").values
    #expect((0..<300).allSatisfy { flags[$0] == Float($0 % 256) })
  }

  @Test func unsupportedFiltersAndContiguousDatasetsFallBackToHDF5() throws {
    let file = try HDF5File.open(try Self.path("chunked.hdf5"))
    #expect(try Self.fastPath(file, "obs_f32") == nil)
    #expect(try Self.fastPath(file, "plain") == nil)
    #expect(try file.readFloats("obs_f32").values == (0..<800).map(Float.init))
    #expect(try file.readFloats("plain").values == (0..<200).map(Float.init))
  }

  @Test func aCorruptChunkIsAReadErrorNamingTheDataset() throws {
    let file = try HDF5File.open(try Self.path("chunked_corrupt.hdf5"))
    #expect(throws: HDF5Error.readFailed(file: file.path, key: "obs64")) { try file.readFloats("obs64") }
    // HDF5's own read of the same chunk fails too: the fast path reports what HDF5 would.
    #expect(throws: HDF5Error.self) { try file.readFloats("obs64", parallel: false) }
    // The other datasets of the file are intact.
    #expect(try file.readFloats("rew32").values.count == 1003)
  }
}
