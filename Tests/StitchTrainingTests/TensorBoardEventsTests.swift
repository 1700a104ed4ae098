import Foundation
import Testing

@testable import StitchTraining

/// TensorBoard event files: Stitch's encoder against a file written by TensorBoard's own `RecordWriter` and
/// protobuf classes (Fixtures/tensorboard_events.tfevents, scripts/fixtures/make_tensorboard_fixture.py), and a run
/// folder's events as its metrics log writes them.
@Suite struct TensorBoardEventsTests {
  static func fixture() throws -> Data {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/tensorboard_events", withExtension: "tfevents"))
    return try Data(contentsOf: url)
  }

  /// The same events (file version, three scalars at two steps, a restart marker at step 3000, one more scalar),
  /// encoded by Stitch, are TensorBoard's bytes exactly; and Stitch's reader decodes TensorBoard's file to them.
  @Test func encodingMatchesTensorBoardsWriterByteForByte() throws {
    let reference = try Self.fixture()
    var ours = TensorBoardEvents.record(TensorBoardEvents.versionEvent(wallTime: 1_700_000_000))
    ours.append(TensorBoardEvents.record(TensorBoardEvents.scalarEvent(wallTime: 1_700_000_001.5, step: 1000, tag: "critic_loss", value: 0.8125)))
    ours.append(TensorBoardEvents.record(TensorBoardEvents.scalarEvent(wallTime: 1_700_000_001.5, step: 1000, tag: "q_mean", value: -12.25)))
    ours.append(TensorBoardEvents.record(TensorBoardEvents.scalarEvent(wallTime: 1_700_000_002, step: 5000, tag: "normalized_score", value: 37.296875)))
    ours.append(TensorBoardEvents.record(TensorBoardEvents.restartEvent(wallTime: 1_700_000_010, step: 3000)))
    ours.append(TensorBoardEvents.record(TensorBoardEvents.scalarEvent(wallTime: 1_700_000_011, step: 4000, tag: "critic_loss", value: 1e-3)))
    #expect(ours == reference, "\(ours.count) bytes against TensorBoard's \(reference.count)")
    let events = try TensorBoardEvents.read(reference)
    #expect(events.count == 6)
    #expect(events[0].fileVersion == "brain.Event:2" && events[0].wallTime == 1_700_000_000)
    #expect(events[1].step == 1000 && events[1].scalars == ["critic_loss": 0.8125])
    #expect(events[3].scalars == ["normalized_score": 37.296875])
    #expect(events[4].sessionStart && events[4].step == 3000)
    #expect(events[5].scalars == ["critic_loss": 1e-3])
  }

  /// A corrupted byte fails the record's CRC, naming the record; a truncated file fails too.
  @Test func corruptionIsCaught() throws {
    var bad = try Self.fixture()
    bad[bad.startIndex + 60] ^= 0x01
    #expect { _ = try TensorBoardEvents.read(bad) } throws: { "\($0)".contains("CRC mismatch") }
    #expect { _ = try TensorBoardEvents.read(try Self.fixture().dropLast(3)) } throws: { "\($0)".contains("truncated") }
  }

  /// The metrics log writes every finite metric as a scalar at its step; a resumed log starts a new file with the
  /// restart marker at the step after the resume step.
  @Test func aRunsMetricsLogWritesItsScalars() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-tb-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    do {
      let log = try MetricsLog(folder: folder)
      try log.append(step: 10, ["critic_loss": 2.5, "alpha": .nan])
      try log.append(step: 20, ["normalized_score": 41.5])
    }
    let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains("tfevents") }
    #expect(files.count == 1)
    let events = try TensorBoardEvents.read(Data(contentsOf: folder.appendingPathComponent(files[0])))
    #expect(events.map(\.step) == [0, 10, 20])
    #expect(events[1].scalars == ["critic_loss": 2.5], "NaN is left out")
    #expect(events[2].scalars == ["normalized_score": 41.5])
    sleep(1)  // a second file gets another name (its creation second)
    _ = try MetricsLog(folder: folder, resumeStep: 10)
    let second = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains("tfevents") && $0 != files[0] }
    #expect(second.count == 1)
    let restarted = try TensorBoardEvents.read(Data(contentsOf: folder.appendingPathComponent(second[0])))
    #expect(restarted.count == 2 && restarted[1].sessionStart && restarted[1].step == 11, "TensorBoard drops steps ≥ 11, the log keeps ≤ 10")
  }
}
