import Dispatch
import Foundation
import StitchAlgorithms
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN

import StitchTensor

/// SynthER (Lu, Ball, Teh & Parker-Holder, NeurIPS 2023, arXiv 2303.06614): a diffusion model of the dataset's
/// transitions, sampled to make more training data.
///
/// Data vector per transition: [s, a, r, s', terminal] from the Q-learning view (SynthER `utils.make_inputs`),
/// z-scored per column with ε = 1e-5 except the terminal flag (`normalizer_type='standard'`, `modelled_terminals`);
/// samples are un-normalised and terminals thresholded at 0.5 (docs/facts.md §2h).
public enum SynthER {
  /// Where the parts of a transition sit in the vector, and the z-score statistics.
  public struct Layout: Codable, Sendable, Equatable {
    public var observationDim: Int
    public var actionDim: Int
    public var mean: [Float]
    public var std: [Float]
    public var dimension: Int { 2 * observationDim + actionDim + 2 }
    public static let epsilon: Float = 1e-5
    public init(observationDim: Int, actionDim: Int, mean: [Float], std: [Float]) {
      self.observationDim = observationDim
      self.actionDim = actionDim
      self.mean = mean
      self.std = std
    }
  }

  /// Un-normalised transition vectors (rows × d) of a dataset.
  public static func vectors(_ ds: Dataset) -> [Float] {
    let od = ds.observationDim, ad = ds.actionDim, d = 2 * od + ad + 2
    var out = [Float](repeating: 0, count: ds.count * d)
    for i in 0..<ds.count {
      var k = i * d
      for j in 0..<od { out[k] = ds.observations[i * od + j]; k += 1 }
      for j in 0..<ad { out[k] = ds.actions[i * ad + j]; k += 1 }
      out[k] = ds.rewards[i]; k += 1
      for j in 0..<od { out[k] = ds.nextObservations[i * od + j]; k += 1 }
      out[k] = ds.terminals[i] ? 1 : 0
    }
    return out
  }

  /// Fits the z-score statistics (the terminal column keeps mean 0, std 1).
  public static func layout(fitting ds: Dataset) -> Layout {
    let rows = vectors(ds)
    let d = 2 * ds.observationDim + ds.actionDim + 2
    var mean = [Float](repeating: 0, count: d), std = [Float](repeating: 1, count: d)
    let n = Double(ds.count)
    for j in 0..<(d - 1) {
      var s = 0.0, s2 = 0.0
      for i in 0..<ds.count { let v = Double(rows[i * d + j]); s += v; s2 += v * v }
      let m = s / n
      mean[j] = Float(m)
      std[j] = Float(Swift.max(s2 / n - m * m, 0).squareRoot()) + Layout.epsilon
    }
    return Layout(observationDim: ds.observationDim, actionDim: ds.actionDim, mean: mean, std: std)
  }

  public static func normalize(_ rows: [Float], _ layout: Layout) -> [Float] {
    let d = layout.dimension
    return rows.indices.map { (rows[$0] - layout.mean[$0 % d]) / layout.std[$0 % d] }
  }

  /// Transitions from normalised sample vectors: un-normalised, terminals thresholded at 0.5. Each transition
  /// stands alone (synthetic data has no episodes): rows that do not terminate are marked as time-limit cuts, so
  /// nothing downstream treats consecutive rows as one trajectory.
  /// DPM-Solver-v3's empirical model statistics for `model` (`EmpiricalModelStatistics.estimate`), from `rows`
  /// rows of the real data drawn at random and normalised as for training, on a grid of `gridSize` intervals over
  /// the model's noise range. Costs 5·(gridSize + 1) denoiser evaluations of `rows` rows.
  public static func estimateStatistics(model: DiffusionModel, layout: Layout, real: Dataset, rows: Int = 1024,
                                        gridSize: Int = 500, seed: UInt64,
                                        progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> EmpiricalModelStatistics {
    let d = layout.dimension
    let all = vectors(real)
    var rng = RandomStream(seed: seed).child(named: "ems")
    var data: [Double] = []
    data.reserveCapacity(Swift.min(rows, real.count) * d)
    for _ in 0..<Swift.min(rows, real.count) {
      let i = rng.nextInt(below: real.count)
      for q in 0..<d { data.append(Double((all[i * d + q] - layout.mean[q]) / layout.std[q])) }
    }
    return try EmpiricalModelStatistics.estimate(model: model.denoiser(), schedule: model.schedule, data: data, dimension: d,
                                                 gridSize: gridSize, rng: &rng, progress: progress)
  }

  public static func dataset(fromNormalized rows: [Double], _ layout: Layout) -> Dataset {
    let d = layout.dimension, od = layout.observationDim, ad = layout.actionDim
    var ds = Dataset(observationDim: od, actionDim: ad)
    for r in 0..<(rows.count / d) {
      let v = (0..<d).map { Float(rows[r * d + $0]) * layout.std[$0] + layout.mean[$0] }
      let terminal = v[d - 1] > 0.5
      ds.append(observation: Array(v[0..<od]), action: Array(v[od..<(od + ad)]), reward: v[od + ad],
                nextObservation: Array(v[(od + ad + 1)..<(2 * od + ad + 1)]), terminal: terminal, timeout: !terminal)
    }
    return ds
  }

  /// Trains the diffusion model on a dataset (or continues `trainer` up to its configured steps).
  public static func train(_ ds: Dataset, configuration: DiffusionTrainingConfiguration, seed: UInt64,
                           progress: (Int, Float) -> Void = { _, _ in }, shouldStop: () -> Bool = { false }) throws -> (DiffusionTrainer, Layout) {
    let layout = layout(fitting: ds)
    var trainer = DiffusionTrainer(dimension: layout.dimension, configuration: configuration, seed: seed)
    try trainer.train(data: normalize(vectors(ds), layout), progress: progress, shouldStop: shouldStop)
    return (trainer, layout)
  }

  /// With `terminalsPossible` false (the real data has no terminal at all, e.g. Pendulum or HalfCheetah), sampled
  /// terminal flags are cleared: a model's stray terminal values above 0.5 would otherwise cut bootstrapping on
  /// transitions the task can never end with.
  /// Samples `count` transitions with `sampler` over `steps` steps (`spacing`, Karras by default as EDM, or
  /// `times` when given, e.g. from `searchSchedule`), in
  /// chunks of `chunk` rows spread over all cores; chunk k draws its noise from its own stream, so the result
  /// does not depend on scheduling.
  public static func generate(model: DiffusionModel, layout: Layout, count: Int, sampler: any DiffusionSampler, steps: Int,
                              spacing: StepSpacing = .karras, times explicitTimes: [Double]? = nil, seed: UInt64, chunk: Int = 2048,
                              terminalsPossible: Bool = true, progress: @escaping @Sendable (Int) -> Void = { _ in }) throws -> Dataset {
    let d = layout.dimension
    let chunks = (count + chunk - 1) / chunk
    let schedule = model.schedule
    let times = explicitTimes ?? spacing.times(steps, schedule: schedule)
    let root = RandomStream(seed: seed)
    let results = ChunkResults(chunks)
    let shared = SharedValue(model)
    DispatchQueue.concurrentPerform(iterations: chunks) { k in
      BLAS.threads = 1
      let rows = Swift.min(chunk, count - k * chunk)
      var rng = root.child(named: "synth-\(k)")
      var x = (0..<(rows * d)).map { _ in schedule.maxTime * rng.nextNormal() }
      do {
        // The chunks already use every core: their products stay whole (ProductLanes).
        try ProductLanes.with(1) { try sampler.sample(&x, times: times, schedule: schedule, model: shared.value.denoiser(), rng: &rng) }
        results.set(k, .success(x))
      } catch {
        results.set(k, .failure(error))
      }
      progress(rows)
    }
    var all: [Double] = []
    all.reserveCapacity(count * d)
    for r in results.values { all += try r!.get() }
    var ds = dataset(fromNormalized: all, layout)
    if !terminalsPossible {
      for i in 0..<ds.count where ds.terminals[i] { ds.terminals[i] = false; ds.timeouts[i] = true }
    }
    return ds
  }
}

final class ChunkResults: @unchecked Sendable {
  var values: [Result<[Double], any Error>?]
  let lock = NSLock()
  init(_ n: Int) { values = Array(repeating: nil, count: n) }
  func set(_ i: Int, _ r: Result<[Double], any Error>) { lock.lock(); values[i] = r; lock.unlock() }
}

extension DiffusionModel {
  /// Saves the model with its SynthER layout, atomically.
  public func write(layout: SynthER.Layout, to url: URL, extra: [String: String] = [:]) throws {
    var c = Checkpoint()
    store(into: &c)
    c.metadata["synther_layout"] = try Checkpoint.json(layout)
    for (k, v) in extra { c.metadata[k] = v }
    try c.write(to: url)
  }

  /// Loads a model written by `write(layout:to:)`.
  public static func read(from url: URL) throws -> (DiffusionModel, SynthER.Layout, [String: String]) {
    let c = try Checkpoint.read(from: url)
    guard let text = c.metadata["synther_layout"] else {
      throw Checkpoint.RestoreError.badMetadata("synther_layout (is \(url.path) a SynthER model from stitch synth?)")
    }
    return (try DiffusionModel(from: c), try JSONDecoder().decode(SynthER.Layout.self, from: Data(text.utf8)), c.metadata)
  }
}
