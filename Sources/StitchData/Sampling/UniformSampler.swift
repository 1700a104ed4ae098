import StitchTensor

/// Draws minibatches of transitions uniformly with replacement (the sampler of TD3+BC, IQL, CQL in CORL).
public struct UniformSampler: Sendable {
  public let dataset: Dataset

  public init(_ dataset: Dataset) { self.dataset = dataset }

  /// Overwrites `batch` with `batch.size` transitions drawn uniformly from the dataset.
  public func sample(into batch: inout Batch, using rng: inout RandomStream) {
    let n = dataset.count, od = dataset.observationDim, ad = dataset.actionDim, b = batch.size
    var indices = [Int](repeating: 0, count: b)
    for k in 0..<b { indices[k] = rng.nextInt(below: n) }
    Self.gather(dataset, indices, into: &batch, od: od, ad: ad)
  }

  /// Copies the given rows of `ds` into `batch` in place.
  static func gather(_ ds: Dataset, _ indices: [Int], into batch: inout Batch, od: Int, ad: Int) {
    ds.observations.withUnsafeBufferPointer { o in ds.actions.withUnsafeBufferPointer { a in
      ds.rewards.withUnsafeBufferPointer { r in ds.nextObservations.withUnsafeBufferPointer { n in ds.terminals.withUnsafeBufferPointer { t in
        batch.observations.withUnsafeMutableBufferPointer { po in batch.actions.withUnsafeMutableBufferPointer { pa in
          batch.rewards.withUnsafeMutableBufferPointer { pr in batch.nextObservations.withUnsafeMutableBufferPointer { pn in
            batch.terminals.withUnsafeMutableBufferPointer { pt in
              for (row, i) in indices.enumerated() {
                Batch.fill(row: row, from: i, o, a, r, n, t, od: od, ad: ad, po, pa, pr, pn, pt)
              }
            }
            batch.nextActions.withUnsafeMutableBufferPointer { pna in
              for (row, i) in indices.enumerated() {
                let j = i + 1 < ds.count && !ds.terminals[i] && !ds.timeouts[i] ? i + 1 : i
                for k in 0..<ad { pna[row * ad + k] = a[j * ad + k] }
              }
            }
          } }
        } }
      } } }
    } }
  }
}
