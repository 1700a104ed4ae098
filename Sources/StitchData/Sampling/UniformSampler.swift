import StitchTensor

/// Draws minibatches of transitions uniformly with replacement (the sampler of TD3+BC, IQL, CQL in CORL).
public struct UniformSampler: Sendable {
  public let dataset: Dataset

  public init(_ dataset: Dataset) { self.dataset = dataset }

  /// Overwrites `batch` with `batch.size` transitions drawn uniformly from the dataset.
  public func sample(into batch: inout Batch, using rng: inout RandomStream) {
    sample(into: &batch, rows: 0..<batch.size, using: &rng)
  }

  /// Overwrites only the given rows of `batch` with uniformly drawn transitions.
  public func sample(into batch: inout Batch, rows: Range<Int>, using rng: inout RandomStream) {
    let n = dataset.count, od = dataset.observationDim, ad = dataset.actionDim
    var indices = [Int](repeating: 0, count: rows.count)
    for k in 0..<rows.count { indices[k] = rng.nextInt(below: n) }
    Self.gather(dataset, indices, into: &batch, offset: rows.lowerBound, od: od, ad: ad)
  }

  /// Copies the given rows of `ds` into `batch` in place.
  static func gather(_ ds: Dataset, _ indices: [Int], into batch: inout Batch, offset: Int = 0, od: Int, ad: Int) {
    ds.observations.withUnsafeBufferPointer { o in ds.actions.withUnsafeBufferPointer { a in
      ds.rewards.withUnsafeBufferPointer { r in ds.nextObservations.withUnsafeBufferPointer { n in ds.terminals.withUnsafeBufferPointer { t in
        batch.observations.withUnsafeMutableBufferPointer { po in batch.actions.withUnsafeMutableBufferPointer { pa in
          batch.rewards.withUnsafeMutableBufferPointer { pr in batch.nextObservations.withUnsafeMutableBufferPointer { pn in
            batch.terminals.withUnsafeMutableBufferPointer { pt in
              for (row, i) in indices.enumerated() {
                Batch.fill(row: offset + row, from: i, o, a, r, n, t, od: od, ad: ad, po, pa, pr, pn, pt)
              }
            }
            batch.nextActions.withUnsafeMutableBufferPointer { pna in
              for (row, i) in indices.enumerated() {
                let j = i + 1 < ds.count && !ds.terminals[i] && !ds.timeouts[i] ? i + 1 : i
                for k in 0..<ad { pna[(offset + row) * ad + k] = a[j * ad + k] }
              }
            }
          } }
        } }
      } } }
    } }
  }
}

/// Draws each minibatch from two datasets in a fixed proportion: the first `round((1 − ratio)·B)` rows from
/// `real`, the rest from `synthetic` (SynthER's mixed replay, `diffusion_sample_ratio`; ratio 1 trains on
/// synthetic data only, as SynthER's offline experiments do).
public struct MixedDatasetSampler: Sendable {
  public let real: UniformSampler
  public let synthetic: UniformSampler
  public let ratio: Double

  public init(real: Dataset, synthetic: Dataset, ratio: Double) {
    self.real = UniformSampler(real)
    self.synthetic = UniformSampler(synthetic)
    self.ratio = Swift.min(Swift.max(ratio, 0), 1)
  }

  public func sample(into batch: inout Batch, using rng: inout RandomStream) {
    let fromReal = Int(((1 - ratio) * Double(batch.size)).rounded())
    if fromReal > 0 { real.sample(into: &batch, rows: 0..<fromReal, using: &rng) }
    if fromReal < batch.size { synthetic.sample(into: &batch, rows: fromReal..<batch.size, using: &rng) }
  }
}
