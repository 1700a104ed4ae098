import Foundation
import Testing
@testable import StitchData

import StitchTensor

/// Episode boundaries, next actions, the file's own flags, dataset identities and the replay buffer's resume
/// check (issue 21 §3.2, 3.4, 3.6, 3.8).
@Suite struct LoadingDefectsTests {
  /// Two episodes of three rows (1-wide observations and actions): rows 0-2 end with a timeout, rows 3-5 with a
  /// terminal; values are the row number, so each row is recognisable.
  func twoEpisodes() -> Dataset {
    var ds = Dataset(observationDim: 1, actionDim: 1)
    for i in 0..<6 {
      ds.append(observation: [Float(i)], action: [Float(10 + i)], reward: 1, nextObservation: [Float(i) + 0.5],
                terminal: i == 5, timeout: i == 2)
    }
    return ds
  }

  /// A dropped row ends its episode: dropping the timeout row of the first episode must not merge it with the
  /// second (before the fix, rows 0-1 ran on into rows 3-5 as one episode); dropping a middle row cuts its episode.
  @Test func aDroppedRowEndsItsEpisode() throws {
    var ds = twoEpisodes()
    ds.rewards[2] = .nan
    var report = LoadReport()
    try D4RLFile.dropOrRefuseNonFinite(&ds, path: "test", options: LoadOptions(dropNonFinite: true), report: &report)
    #expect(ds.count == 5)
    #expect(ds.episodes.map(\.length) == [2, 3], "\(ds.episodes)")
    #expect(ds.timeouts == [false, true, false, false, false] && ds.terminals == [false, false, false, false, true])
    #expect(report.episodesCutAtDroppedRows == 1)

    var middle = twoEpisodes()
    middle.observations[4] = .infinity
    var report2 = LoadReport()
    try D4RLFile.dropOrRefuseNonFinite(&middle, path: "test", options: LoadOptions(dropNonFinite: true), report: &report2)
    #expect(middle.episodes.map(\.length) == [3, 1, 1], "\(middle.episodes)")
    #expect(middle.timeouts == [false, false, true, true, false])
    // The row before the gap has no next action in the data any more.
    var batch = Batch(size: 1, observationDim: 1, actionDim: 1)
    TransitionRows(middle).gather([3], into: &batch)
    #expect(batch.nextActionsKnown.scalars == [0] && batch.nextActions.scalars == [13])
  }

  /// Writes a D4RL file without next_observations (so it is read as d4rl.qlearning_dataset's view).
  static func writeWithoutNext(_ ds: Dataset, to path: String) throws {
    let file = try HDF5File.create(path)
    try ds.observations.withUnsafeBufferPointer { try file.writeFloats("observations", shape: [ds.count, ds.observationDim], values: $0) }
    try ds.actions.withUnsafeBufferPointer { try file.writeFloats("actions", shape: [ds.count, ds.actionDim], values: $0) }
    try ds.rewards.withUnsafeBufferPointer { try file.writeFloats("rewards", shape: [ds.count], values: $0) }
    try file.writeBools("terminals", values: ds.terminals)
    try file.writeBools("timeouts", values: ds.timeouts)
  }

  /// The Q-learning view keeps CORL rebrac.py's `next_actions` (the file's actions[i + 1]): the row before a
  /// dropped timeout row gets that row's action as its next action, known, not its own (before the fix).
  @Test func theRowBeforeADroppedTimeoutKeepsItsNextAction() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-qview-\(UUID().uuidString).hdf5").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try Self.writeWithoutNext(twoEpisodes(), to: path)
    let (ds, _) = try D4RLFile.read(path)
    // Rows 0, 1 (the timeout row 2 dropped; row 1 now ends the episode), 3, 4 (the last row dropped).
    #expect(ds.observations == [0, 1, 3, 4] && ds.timeouts == [false, true, false, true])
    #expect(ds.nextActions == [11, 12, 14, 15])
    var batch = Batch(size: 4, observationDim: 1, actionDim: 1)
    TransitionRows(ds).gather([0, 1, 2, 3], into: &batch)
    #expect(batch.nextActions.scalars == [11, 12, 14, 15])
    #expect(batch.nextActionsKnown.scalars == [1, 1, 1, 1])
    // The column path (replay buffers) follows the same rule.
    var columns = Batch(size: 4, observationDim: 1, actionDim: 1)
    UniformSampler.gather(ds, [0, 1, 2, 3], into: &columns, od: 1, ad: 1)
    #expect(columns.nextActions.scalars == batch.nextActions.scalars && columns.nextActionsKnown.scalars == batch.nextActionsKnown.scalars)
    // Written with next_observations, the column travels along.
    let again = path + ".copy.hdf5"
    defer { try? FileManager.default.removeItem(atPath: again) }
    try D4RLFile.write(ds, to: again)
    #expect(try D4RLFile.read(again).0.nextActions == ds.nextActions)
    // An action transform reaches both columns.
    var scaled = ds
    scaled.transformActions { for i in $0.indices { $0[i] *= 2 } }
    #expect(scaled.actions == [20, 22, 26, 28] && scaled.nextActions == [22, 24, 28, 30])
  }

  /// Where the data holds no next action — a terminal row, a cut episode's last row, every row of a synthetic
  /// dataset (each row its own episode) — the batch says so (known 0) instead of passing the stand-in silently.
  @Test func rowsWithoutANextActionAreMarked() {
    var batch = Batch(size: 6, observationDim: 1, actionDim: 1)
    TransitionRows(twoEpisodes()).gather(Array(0..<6), into: &batch)
    #expect(batch.nextActions.scalars == [11, 12, 12, 14, 15, 15])
    #expect(batch.nextActionsKnown.scalars == [1, 1, 0, 1, 1, 0])
    #expect(batch.terminals.scalars == [0, 0, 0, 0, 0, 1])
    var synthetic = Dataset(observationDim: 1, actionDim: 1)
    for i in 0..<4 { synthetic.append(observation: [Float(i)], action: [Float(i)], reward: 0, nextObservation: [0], terminal: i == 3, timeout: i != 3) }
    var b = Batch(size: 4, observationDim: 1, actionDim: 1)
    TransitionRows(synthetic).gather([0, 1, 2, 3], into: &b)
    #expect(b.nextActionsKnown.scalars == [0, 0, 0, 0])
  }

  /// `dataset info`'s counts: the file's own flags, and the loader's closing of an unfinished last episode apart
  /// (the loaded dataset has one timeout more than the file).
  @Test func theFilesFlagsAreCountedApartFromTheFixUp() throws {
    let (ds, report) = try D4RLFile.read(try D4RLFileTests.path("d4rl_never_ends.hdf5"))
    #expect(report.closedUnfinishedEpisodes == 1)
    #expect(report.fileTimeouts == ds.timeouts.filter { $0 }.count - 1)
    #expect(report.fileTerminals == ds.terminals.filter { $0 }.count)
    let (_, finished) = try D4RLFile.read(try D4RLFileTests.path("d4rl_small.hdf5"))
    #expect(finished.closedUnfinishedEpisodes == 0)
  }

  /// The identity a run folder records: same data, same identity wherever it lies; one changed value or flag, a
  /// different one.
  @Test func identitiesTellDatasetsApart() {
    let a = DatasetIdentity(twoEpisodes(), path: "a.hdf5")
    #expect(a.rows == 6 && a.hash.count == 16 && a.hash.allSatisfy(\.isHexDigit))
    #expect(a.sameData(as: DatasetIdentity(twoEpisodes(), path: "elsewhere/b.hdf5")))
    var changed = twoEpisodes()
    changed.rewards[4] = Float(bitPattern: changed.rewards[4].bitPattern ^ 1)
    #expect(!a.sameData(as: DatasetIdentity(changed, path: "a.hdf5")))
    var flags = twoEpisodes()
    flags.timeouts[2] = false
    flags.timeouts[3] = true
    #expect(!a.sameData(as: DatasetIdentity(flags, path: "a.hdf5")))
    // Run folders keep the hash: it must not change between versions, or old runs could not resume.
    #expect(a.hash == DatasetIdentity.pinnedTwoEpisodesHash, "the dataset hash changed: \(a.hash)")
  }

  /// `checkUnfinishedEpisode` refuses an `episode_steps` the buffer's last transitions cannot be, naming the field.
  @Test func theReplayBufferChecksTheUnfinishedEpisode() throws {
    var buffer = ReplayBuffer(capacity: 10, observationDim: 1, actionDim: 1)
    // An episode of 3 that terminated, then 2 steps of one still running.
    for i in 0..<5 {
      buffer.add(observation: [Float(i)], action: [0], reward: 0, nextObservation: [Float(i + 1)], terminal: i == 2)
    }
    try buffer.checkUnfinishedEpisode(steps: 2, source: "ckpt.safetensors")
    func problem(_ steps: Int) -> String {
      do { try buffer.checkUnfinishedEpisode(steps: steps, source: "ckpt.safetensors"); return "" } catch { return "\(error)" }
    }
    #expect(problem(3).contains("ckpt.safetensors: episode_steps = 3") && problem(3).contains("ends an episode"))
    #expect(problem(1).contains("does not end an episode, so the episode is longer"))
    #expect(problem(6).contains("holds only 5 transitions"))
    #expect(problem(-1).contains("cannot be negative"))
    // Transitions that do not chain (a damaged buffer) are not one episode.
    var broken = ReplayBuffer(capacity: 10, observationDim: 1, actionDim: 1)
    broken.add(observation: [0], action: [0], reward: 0, nextObservation: [1], terminal: false)
    broken.add(observation: [5], action: [0], reward: 0, nextObservation: [6], terminal: false)
    #expect(throws: DatasetError.self) { try broken.checkUnfinishedEpisode(steps: 2, source: "x") }
  }
}

extension DatasetIdentity {
  /// The hash of `LoadingDefectsTests.twoEpisodes()`, recorded when the hash was introduced.
  static let pinnedTwoEpisodesHash = "17adeea57bff5256"
}
