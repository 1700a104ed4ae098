import Foundation
import Testing
import StitchData

import StitchTensor

/// D4RL-layout files made by h5py (scripts/fixtures/make_dataset_fixtures.py) read exactly as h5py/NumPy report.
@Suite struct D4RLFileTests {
  static func path(_ name: String) throws -> String {
    try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)).path
  }
  static func expected() throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: try path("expected.json")))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
  }

  func sum(_ x: [Float]) -> Double { x.reduce(0.0) { $0 + Double($1) } }
  func near(_ a: Double, _ b: Any?, _ what: String) {
    let e = (b as? Double) ?? Double((b as? Int) ?? -999_999)
    #expect(Swift.abs(a - e) <= 1e-9 * Swift.max(1, Swift.abs(e)), "\(what): \(a) vs \(e)")
  }

  @Test func float32FileWithNextObservations() throws {
    let (ds, report) = try D4RLFile.read(try Self.path("d4rl_small.hdf5"))
    let e = try #require(try Self.expected()["d4rl_small"] as? [String: Any])
    #expect(ds.invariantViolations().isEmpty)
    #expect(ds.count == e["count"] as? Int)
    #expect(ds.observationDim == 4 && ds.actionDim == 2)
    near(sum(ds.observations), e["obs_sum"], "observations")
    near(sum(ds.actions), e["act_sum"], "actions")
    near(sum(ds.rewards), e["rew_sum"], "rewards")
    near(sum(ds.nextObservations), e["next_sum"], "next_observations")
    #expect(ds.terminals.filter { $0 }.count == e["terminals"] as? Int)
    #expect(ds.timeouts.filter { $0 }.count == e["timeouts"] as? Int)
    // (JSON numbers may differ from the float32 values in the last bit of their float64 parse.)
    for (a, b) in zip(ds.observations.prefix(4), try #require(e["first_obs"] as? [Double])) { #expect(Swift.abs(Double(a) - b) < 1e-12) }
    #expect(ds.metadata["algorithm"] == "SAC")
    let returns = ds.episodes.map(\.totalReturn), expectedReturns = try #require(e["episode_returns"] as? [Double])
    #expect(returns.count == expectedReturns.count)
    for (a, b) in zip(returns, expectedReturns) { near(a, b, "episode return") }
    let stats = DatasetStatistics(ds)
    near(stats.returnStd, e["return_std"], "return std")
    for (a, b) in zip(stats.observationMean, try #require(e["obs_col_mean"] as? [Double])) { #expect(Swift.abs(a - b) < 1e-12) }
    for (a, b) in zip(stats.observationStd, try #require(e["obs_col_std"] as? [Double])) { #expect(Swift.abs(a - b) < 1e-12) }
    #expect(report.notes.isEmpty)
  }

  @Test func float64FileWithoutNextObservationsGetsTheQLearningView() throws {
    let (ds, report) = try D4RLFile.read(try Self.path("d4rl_float64_qlearning.hdf5"))
    let e = try #require(try Self.expected()["d4rl_float64_qlearning"] as? [String: Any])
    #expect(ds.count == e["count"] as? Int)
    // float64 columns are converted to float32 by HDF5 exactly as NumPy's astype(float32) does.
    near(sum(ds.observations), e["obs_sum"], "observations")
    near(sum(ds.nextObservations), e["next_sum"], "next_observations")
    near(sum(ds.rewards), e["rew_sum"], "rewards")
    near(sum(ds.actions), e["act_sum"], "actions")
    #expect(ds.terminals.filter { $0 }.count == e["terminals"] as? Int)
    #expect(report.notes.contains { $0.contains("qlearning_dataset") })
    #expect(ds.invariantViolations().isEmpty)
  }

  @Test func writtenFilesReadBackIdentically() throws {
    let (ds, _) = try D4RLFile.read(try Self.path("d4rl_small.hdf5"))
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-d4rl-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("copy.hdf5").path
    var copy = ds
    copy.metadata["policy"] = "test"
    try D4RLFile.write(copy, to: out)
    let (back, _) = try D4RLFile.read(out)
    #expect(back.observations == ds.observations && back.actions == ds.actions && back.rewards == ds.rewards)
    #expect(back.nextObservations == ds.nextObservations && back.terminals == ds.terminals && back.timeouts == ds.timeouts)
    #expect(back.metadata["policy"] == "test" && back.metadata["algorithm"] == "SAC")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["copy.hdf5"])
  }

  func message(_ name: String, _ options: LoadOptions = LoadOptions()) -> String {
    do { _ = try D4RLFile.read(try Self.path(name), options: options); return "no error" } catch { return "\(error)" }
  }

  @Test func badFilesGiveErrorsNamingTheProblem() throws {
    let missing = URL(fileURLWithPath: try Self.path("d4rl_small.hdf5")).deletingLastPathComponent().appendingPathComponent("no_such_file.hdf5").path
    do { _ = try D4RLFile.read(missing); Issue.record("expected an error") } catch {
      #expect("\(error)".contains("no such file") && "\(error)".contains("no_such_file.hdf5"))
    }
    #expect(message("not_hdf5.hdf5").contains("not an HDF5 file"))
    let truncated = message("d4rl_truncated.hdf5")
    #expect(truncated.contains("truncated or corrupt") || truncated.contains("failed"), "\(truncated)")
    #expect(message("d4rl_missing_actions.hdf5").contains("'actions' is missing"))
    let lengths = message("d4rl_bad_lengths.hdf5")
    #expect(lengths.contains("lengths disagree") && lengths.contains("rewards 9"), "\(lengths)")
    #expect(message("d4rl_wrong_rank.hdf5").contains("rank 2"))
    let nonfinite = message("d4rl_nonfinite.hdf5")
    #expect(nonfinite.contains("2 transitions") && nonfinite.contains("row 3"), "\(nonfinite)")
    #expect(message("d4rl_small.hdf5", LoadOptions(expectedObservationDim: 11)).contains("does not match the environment's 11"))
    #expect(message("d4rl_small.hdf5", LoadOptions(expectedActionDim: 3)).contains("action width 2"))
  }

  @Test func nonFiniteRowsCanBeDroppedAndNeverEndingEpisodesAreTruncated() throws {
    let (ds, report) = try D4RLFile.read(try Self.path("d4rl_nonfinite.hdf5"), options: LoadOptions(dropNonFinite: true))
    #expect(ds.count == 18 && report.droppedNonFinite == 2)
    #expect(ds.rewards.allSatisfy(\.isFinite) && ds.observations.allSatisfy(\.isFinite))
    let (never, r2) = try D4RLFile.read(try Self.path("d4rl_never_ends.hdf5"))
    #expect(never.timeouts.last == true)
    #expect(r2.notes.contains { $0.contains("never ends") })
  }

  /// The interleaved row table (what offline samplers gather from) gives exactly the columns' values in all six
  /// batch tensors, including next actions at episode ends, for every row of the file.
  @Test func interleavedRowsMatchTheColumns() throws {
    let (ds, _) = try D4RLFile.read(try Self.path("d4rl_small.hdf5"))
    let rows = TransitionRows(ds)
    #expect(rows.stride % 16 == 0 && rows.stride >= 2 * 4 + 2 * 2 + 2)
    let indices = Array((0..<ds.count).reversed())
    var fromRows = Batch(size: indices.count, observationDim: 4, actionDim: 2)
    var fromColumns = Batch(size: indices.count, observationDim: 4, actionDim: 2)
    rows.gather(indices, into: &fromRows)
    UniformSampler.gather(ds, indices, into: &fromColumns, od: 4, ad: 2)
    #expect(fromRows.observations.scalars == fromColumns.observations.scalars)
    #expect(fromRows.nextObservations.scalars == fromColumns.nextObservations.scalars)
    #expect(fromRows.actions.scalars == fromColumns.actions.scalars)
    #expect(fromRows.nextActions.scalars == fromColumns.nextActions.scalars)
    #expect(fromRows.rewards.scalars == fromColumns.rewards.scalars)
    #expect(fromRows.terminals.scalars == fromColumns.terminals.scalars)
    // Spot-check against the file's columns directly (row 0 of the batch is the file's last row).
    let last = ds.count - 1
    #expect(Array(fromRows.nextObservations.scalars[0..<4]) == Array(ds.nextObservations[(last * 4)..<(last * 4 + 4)]))
    #expect(Array(fromRows.nextActions.scalars[0..<2]) == Array(ds.actions[(last * 2)..<(last * 2 + 2)]))
  }

  @Test func samplersFillPreallocatedBatchesDeterministically() throws {
    let (ds, _) = try D4RLFile.read(try Self.path("d4rl_small.hdf5"))
    var batch = Batch(size: 8, observationDim: 4, actionDim: 2)
    var rng = RandomStream(seed: 3)
    UniformSampler(ds).sample(into: &batch, using: &rng)
    var rng2 = RandomStream(seed: 3)
    var indices: [Int] = []
    for _ in 0..<8 { indices.append(rng2.nextInt(below: ds.count)) }
    for (row, i) in indices.enumerated() {
      #expect(Array(batch.observations.scalars[(row * 4)..<(row * 4 + 4)]) == Array(ds.observations[(i * 4)..<(i * 4 + 4)]))
      #expect(batch.rewards.scalars[row] == ds.rewards[i])
      #expect(batch.terminals.scalars[row] == (ds.terminals[i] ? 1 : 0))
    }
    var buffer = ReplayBuffer(capacity: 3, observationDim: 1, actionDim: 1)
    for k in 0..<5 { buffer.add(observation: [Float(k)], action: [0], reward: Float(k), nextObservation: [0], terminal: false) }
    #expect(buffer.count == 3)
    #expect(Set(buffer.storage.rewards) == [2, 3, 4])
    var small = Batch(size: 64, observationDim: 1, actionDim: 1)
    buffer.sample(into: &small, using: &rng)
    #expect(Set(small.rewards.scalars).isSubset(of: [2, 3, 4]))
    var mixedBatch = Batch(size: 10, observationDim: 1, actionDim: 1)
    var offline = Dataset(observationDim: 1, actionDim: 1)
    for _ in 0..<4 { offline.append(observation: [-1], action: [0], reward: -1, nextObservation: [0], terminal: false, timeout: false) }
    MixedSource(first: UniformSampler(offline), second: buffer, firstFraction: 0.3).sample(into: &mixedBatch, using: &rng)
    // The dataset's 3 rows come first, then the buffer's 7.
    #expect(mixedBatch.rewards.scalars.prefix(3).allSatisfy { $0 == -1 })
    #expect(mixedBatch.rewards.scalars.dropFirst(3).allSatisfy { [2, 3, 4].contains($0) })
    // An empty buffer gives the whole batch to the dataset (an online phase before its first transition).
    let empty = ReplayBuffer(capacity: 8, observationDim: 1, actionDim: 1)
    MixedSource(first: UniformSampler(offline), second: empty, firstFraction: 0.3).sample(into: &mixedBatch, using: &rng)
    #expect(mixedBatch.rewards.scalars.allSatisfy { $0 == -1 })
  }
}
