import StitchTensor

/// Draws minibatches of transitions uniformly with replacement (the sampler of TD3+BC, IQL, CQL in CORL).
public struct UniformSampler: Sendable {
  public let dataset: Dataset
  /// The dataset's transitions as interleaved rows (built here once; see `TransitionRows`).
  public let rows: TransitionRows

  public init(_ dataset: Dataset) {
    self.dataset = dataset
    rows = TransitionRows(dataset)
  }

  /// Overwrites `batch` with `batch.size` transitions drawn uniformly from the dataset.
  public func sample(into batch: inout Batch, using rng: inout RandomStream) {
    sample(into: &batch, rows: 0..<batch.size, using: &rng)
  }

  /// Overwrites only the given rows of `batch` with uniformly drawn transitions.
  public func sample(into batch: inout Batch, rows: Range<Int>, using rng: inout RandomStream) {
    let n = dataset.count
    var indices = [Int](repeating: 0, count: rows.count)
    for k in 0..<rows.count { indices[k] = rng.nextInt(below: n) }
    self.rows.gather(indices, into: &batch, offset: rows.lowerBound)
  }

  /// Copies the given rows of `ds` into `batch` in place, straight from the columns (for a replay buffer that
  /// grows, where an interleaved copy would have to be kept in step; offline samplers use `TransitionRows`).
  ///
  /// Column by column, one `memcpy`-sized copy per row: the rows of a 1M-transition dataset are random DRAM
  /// accesses, and a short loop body of independent copies lets the CPU keep many of those loads in flight
  /// (measured in benchmarks/RESULTS.md, data section).
  public static func gather(_ ds: Dataset, _ indices: [Int], into batch: inout Batch, offset: Int = 0, od: Int, ad: Int) {
    func copy(_ source: [Float], _ width: Int, _ target: inout Tensor, next: Bool = false) {
      source.withUnsafeBufferPointer { src in
        target.withUnsafeMutableBufferPointer { dst in
          guard let s = src.baseAddress, let d = dst.baseAddress else { return }
          for (row, i) in indices.enumerated() {
            (d + (offset + row) * width).update(from: s + i * width, count: width)
          }
        }
      }
    }
    // Touch every row's cache lines first in one tight loop of independent loads, so the DRAM misses of all rows
    // overlap instead of being paid one copy at a time.
    var sink: Float = 0
    ds.observations.withUnsafeBufferPointer { o in ds.nextObservations.withUnsafeBufferPointer { n in ds.actions.withUnsafeBufferPointer { a in
      for i in indices {
        sink += o[i * od] + o[i * od + od - 1] + n[i * od] + n[i * od + od - 1] + a[i * ad]
      }
    } } }
    batch.scratch = sink
    batch.returnsToGo.withUnsafeMutableBufferPointer { pg in
      if let rtg = ds.returnsToGo {
        for (row, i) in indices.enumerated() { pg[offset + row] = rtg[i] }
      } else {
        for row in indices.indices { pg[offset + row] = 0 }
      }
    }
    copy(ds.observations, od, &batch.observations)
    copy(ds.nextObservations, od, &batch.nextObservations)
    copy(ds.actions, ad, &batch.actions)
    ds.rewards.withUnsafeBufferPointer { r in ds.terminals.withUnsafeBufferPointer { t in ds.timeouts.withUnsafeBufferPointer { e in
      ds.actions.withUnsafeBufferPointer { a in
        batch.rewards.withUnsafeMutableBufferPointer { pr in batch.terminals.withUnsafeMutableBufferPointer { pt in
          batch.nextActions.withUnsafeMutableBufferPointer { pna in batch.nextActionsKnown.withUnsafeMutableBufferPointer { pk in
            (ds.nextActions ?? []).withUnsafeBufferPointer { column in
              for (row, i) in indices.enumerated() {
                pr[offset + row] = r[i]
                pt[offset + row] = t[i] ? 1 : 0
                // As `TransitionRows` (one rule for both paths).
                let next = TransitionRows.nextAction(ds, i, actions: a.baseAddress!, column: ds.nextActions == nil ? nil : column.baseAddress)
                (pna.baseAddress! + (offset + row) * ad).update(from: next.source, count: ad)
                pk[offset + row] = next.known ? 1 : 0
              }
            }
          } }
        } }
      }
    } } }
  }
}
