import Foundation
import Testing

@testable import StitchData

/// Minari datasets made by minari 0.5.4 (scripts/fixtures/make_minari_fixtures.py) read exactly as
/// `minari.MinariDataset(...).iterate_episodes()` reports them (float64 values compared after Float32 storage).
@Suite struct MinariTests {
  struct Episode: Decodable {
    var id: Int; var length: Int; var observations: [[Double]]; var actions: [[Double]]; var rewards: [Double]
    var terminations: [Bool]; var truncations: [Bool]
  }
  struct Expected: Decodable {
    var dataset_id: String; var total_episodes: Int; var total_steps: Int; var episodes: [Episode]
    var ref_min_score: Double?; var ref_max_score: Double?
  }

  static func fixture(_ name: String) -> String {
    Bundle.module.url(forResource: "Fixtures/minari/\(name)", withExtension: nil)!.path
  }

  static let expected: [String: Expected] = {
    let data = try! Data(contentsOf: Bundle.module.url(forResource: "Fixtures/minari/expected.json", withExtension: nil)!)
    let object = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    var out: [String: Expected] = [:]
    for name in ["pendulum-small", "terminating-small"] {
      out[name] = try! JSONDecoder().decode(Expected.self, from: JSONSerialization.data(withJSONObject: object[name]!))
    }
    return out
  }()

  static func close(_ a: Float, _ b: Double) -> Bool { Swift.abs(Double(a) - b) <= 1e-6 * (1 + Swift.abs(b)) }

  @Test(arguments: ["pendulum-small", "terminating-small"])
  func everyColumnMatchesMinari(_ name: String) throws {
    let (ds, report) = try MinariFile.read(Self.fixture(name))
    let e = try #require(Self.expected[name])
    #expect(ds.count == e.total_steps)
    #expect(ds.episodes.count == e.total_episodes)
    #expect(ds.metadata["dataset"] == e.dataset_id)
    #expect(report.notes.isEmpty, "\(report.notes)")
    var row = 0
    for ep in e.episodes {
      for t in 0..<ep.length {
        for j in 0..<ds.observationDim {
          #expect(Self.close(ds.observations[row * ds.observationDim + j], ep.observations[t][j]))
          #expect(Self.close(ds.nextObservations[row * ds.observationDim + j], ep.observations[t + 1][j]))
        }
        for j in 0..<ds.actionDim { #expect(Self.close(ds.actions[row * ds.actionDim + j], ep.actions[t][j])) }
        #expect(Self.close(ds.rewards[row], ep.rewards[t]))
        #expect(ds.terminals[row] == ep.terminations[t])
        #expect(ds.timeouts[row] == (ep.truncations[t] && !ep.terminations[t]))
        row += 1
      }
    }
    if let lo = e.ref_min_score, let hi = e.ref_max_score {
      #expect(ds.metadata["ref_min_score"].flatMap(Double.init) == lo && ds.metadata["ref_max_score"].flatMap(Double.init) == hi)
    }
  }

  @Test func episodeBoundariesAreRespected() throws {
    let (ds, _) = try MinariFile.read(Self.fixture("terminating-small"))
    let e = try #require(Self.expected["terminating-small"])
    #expect(ds.episodes.map(\.length) == e.episodes.map(\.length))
    #expect(ds.terminals.filter { $0 }.count == e.episodes.filter { $0.terminations.last! }.count)
  }

  @Test func dictObservationsAreRefusedNamingTheKeys() {
    do {
      _ = try MinariFile.read(Self.fixture("dict-obs"))
      Issue.record("expected an error")
    } catch {
      let text = "\(error)"
      #expect(text.contains("Dict") && text.contains("position") && text.contains("velocity"), "\(text)")
    }
  }

  @Test func notAMinariFolderIsNamed() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-not-minari-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    #expect(throws: DatasetError.self) { try MinariFile.read(dir.path) }
    #expect(throws: DatasetError.self) { try MinariFile.read(dir.appendingPathComponent("missing").path) }
  }

  /// Minari → D4RL → Minari keeps every transition and episode.
  @Test func conversionRoundTrips() throws {
    let (ds, _) = try MinariFile.read(Self.fixture("terminating-small"))
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-convert-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let d4rl = dir.appendingPathComponent("x.hdf5").path
    try D4RLFile.write(ds, to: d4rl)
    let (back, _) = try DatasetFile.read(d4rl)
    let minari = dir.appendingPathComponent("minari-v0").path
    try MinariWriter.write(back, to: minari, datasetID: "stitch/test-v0")
    let (again, _) = try DatasetFile.read(minari)
    #expect(again.observations == ds.observations && again.nextObservations == ds.nextObservations)
    #expect(again.actions == ds.actions && again.rewards == ds.rewards)
    #expect(again.terminals == ds.terminals && again.timeouts == ds.timeouts)
    #expect(again.metadata["dataset"] == "stitch/test-v0")
  }

  @Test func sacoCountsUniqueStateActionPairs() {
    var ds = Dataset(observationDim: 1, actionDim: 1)
    for i in 0..<10 { ds.append(observation: [Float(i % 4)], action: [0], reward: 0, nextObservation: [0], terminal: false, timeout: i == 9) }
    var reference = ds
    for i in 0..<10 { reference.append(observation: [Float(10 + i)], action: [1], reward: 0, nextObservation: [0], terminal: false, timeout: i == 9) }
    #expect(DatasetQuality.uniqueStateActionPairs(ds) == 4)
    #expect(DatasetQuality.saco(ds, reference: reference) == 4.0 / 14.0)
  }
}
