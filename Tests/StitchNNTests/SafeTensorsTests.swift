import Foundation
import Testing

import StitchNN

@Suite struct SafeTensorsTests {
  /// Metadata JSON must not depend on the process's hash seed (a struct's keys came out in hash order before,
  /// so checkpoints of identical runs differed in their bytes): keys are sorted.
  @Test func checkpointMetadataJSONHasSortedKeys() throws {
    struct Record: Encodable { var zeta = 1, alpha = [2.5], mid = "m", beta = true, omega: Float = 0.5 }
    #expect(try Checkpoint.json(Record()) == #"{"alpha":[2.5],"beta":true,"mid":"m","omega":0.5,"zeta":1}"#)
  }

  @Test func readsWhatThePythonPackageWrote() throws {
    let (t, meta) = try SafeTensors.read(try OracleTests.fixture("python_written.safetensors"))
    #expect(meta == ["format": "pt", "note": "hello"])
    #expect(t["f32"]?.shape == [2, 3] && t["f32"]?.scalars == [0, 0.25, 0.5, 0.75, 1, 1.25])
    #expect(t["f64"]?.scalars == [1.5, -2.25])
    #expect(t["f16"]?.scalars == [0.5, -1, 2])
    #expect(t["i64"]?.shape == [2, 1] && t["i64"]?.scalars == [3, -7])
    #expect(t["scalar"]?.shape == [] && t["scalar"]?.scalar == 3.25)
    #expect(t["empty"]?.shape == [0, 4])
  }

  /// stitch_written.safetensors was produced by this encoder and checked with the Python package
  /// (`make_nn_fixtures.py --verify`, output recorded in the fixture script's docstring); the encoder must keep
  /// producing exactly those bytes.
  @Test func writesBytesThePythonPackageReads() throws {
    let data = try SafeTensors.encode(SafeTensorsTests.sample, metadata: ["made_by": "stitch"])
    let committed = try Data(contentsOf: try OracleTests.fixture("stitch_written.safetensors"))
    #expect(data == committed)
    let back = try SafeTensors.decode(data)
    #expect(back.tensors["a"]!.isIdentical(to: SafeTensorsTests.sample["a"]!))
    #expect(back.metadata["made_by"] == "stitch")
  }

  static let sample: [String: Tensor] = [
    "a": Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]),
    "b.weight": Tensor([0.5, -0.25, 1e-3]),
  ]

  @Test func corruptFilesGiveNamedErrors() throws {
    let good = try SafeTensors.encode(SafeTensorsTests.sample)
    func message(_ data: Data) -> String {
      do { _ = try SafeTensors.decode(data); return "no error" } catch { return "\(error)" }
    }
    #expect(message(Data([1, 2, 3])).contains("truncated"))
    #expect(message(good.prefix(20)).contains("truncated"))
    #expect(message(good.dropLast(4)).contains("outside"))
    var badJSON = good
    badJSON[9] = UInt8(ascii: "#")
    #expect(message(badJSON).contains("not a JSON object"))
    let header = #"{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#
    var wrongSize = Data()
    var n = UInt64(header.utf8.count).littleEndian
    withUnsafeBytes(of: &n) { wrongSize.append(contentsOf: $0) }
    wrongSize.append(contentsOf: Array(header.utf8) + [UInt8](repeating: 0, count: 8))
    #expect(message(wrongSize).contains("'x'"))
    #expect(message(wrongSize).contains("needs 12 bytes"))
  }

  @Test func atomicWriteAndReadBack() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-st-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("c.safetensors")
    try SafeTensors.write(SafeTensorsTests.sample, to: url)
    try SafeTensors.write(SafeTensorsTests.sample, metadata: ["v": "2"], to: url)
    let (t, meta) = try SafeTensors.read(url)
    #expect(meta["v"] == "2" && t.count == 2)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["c.safetensors"])
    #expect(throws: SafeTensors.FormatError.self) { try SafeTensors.read(dir.appendingPathComponent("missing")) }
  }
}
