import StitchTensor

/// Anything minibatches are drawn from: a dataset sampler, a replay buffer, a mix of two sources, and (next) a
/// buffer of model rollouts, which is a `ReplayBuffer` filled by the model instead of the environment.
///
/// Sources are values that a training recipe composes (docs/architecture.md): `MixedSource(first: dataset,
/// second: replay, firstFraction: 0.5)` is RLPD's and Cal-QL's symmetric sampling, and SynthER's real/synthetic
/// mix is the same type over two dataset samplers. Each source fills a range of a batch's rows, so a mix writes
/// both parts in place, in order, with no copies.
public protocol BatchSource: Sendable {
  /// Transitions the source holds (a mix skips an empty source).
  var count: Int { get }
  /// Overwrites `rows` of `batch` with transitions drawn from this source.
  func sample(into batch: inout Batch, rows: Range<Int>, using rng: inout RandomStream)
}

extension BatchSource {
  /// Overwrites the whole batch.
  public func sample(into batch: inout Batch, using rng: inout RandomStream) {
    sample(into: &batch, rows: 0..<batch.size, using: &rng)
  }
}

/// Draws each minibatch from two sources in a fixed proportion: the first `round(firstFraction · B)` rows from
/// `first`, the rest from `second` (drawn in that order from the same random stream). When one source is empty the
/// whole batch comes from the other, so an online phase mixing a dataset with a replay buffer can start before the
/// buffer holds anything.
///
/// One convention for every mix (it replaces the former `MixedSampler`, whose ratio was the first source's share,
/// and `MixedDatasetSampler`, whose ratio was the *second* source's): SynthER's `--synthetic-ratio r` is
/// `MixedSource(first: real, second: synthetic, firstFraction: 1 − r)`, computed as before, so its batches are
/// bit-identical.
public struct MixedSource<First: BatchSource, Second: BatchSource>: BatchSource {
  public var first: First
  public var second: Second
  /// Fraction of each batch drawn from `first`, in [0, 1].
  public let firstFraction: Double

  public init(first: First, second: Second, firstFraction: Double) {
    self.first = first
    self.second = second
    self.firstFraction = Swift.min(Swift.max(firstFraction, 0), 1)
  }

  public var count: Int { first.count + second.count }

  public func sample(into batch: inout Batch, rows: Range<Int>, using rng: inout RandomStream) {
    let n = rows.count
    let fromFirst = second.count == 0 ? n : (first.count == 0 ? 0 : Int((firstFraction * Double(n)).rounded()))
    let split = rows.lowerBound + fromFirst
    if fromFirst > 0 { first.sample(into: &batch, rows: rows.lowerBound..<split, using: &rng) }
    if fromFirst < n { second.sample(into: &batch, rows: split..<rows.upperBound, using: &rng) }
  }
}

extension UniformSampler: BatchSource {
  public var count: Int { dataset.count }
}

extension TrajectoryWeightedSampler: BatchSource {
  public var count: Int { dataset.count }
}

extension ReplayBuffer: BatchSource {}

/// Draws each row uniformly from the union of two sources, as if `second`'s rows were appended to `first`'s:
/// row i of a batch comes from `first` with probability |first| / (|first| + |second|). CORL's fine-tuning scripts
/// (IQL, CQL, AWAC, SPOT) keep one replay buffer that starts as the dataset and grows with the online rows; this is
/// that buffer without copying the dataset into it, so a checkpoint holds only the online rows.
///
/// The same distribution as drawing every row's index uniformly in [0, |first| + |second|): each row first picks its
/// source (one draw in [0, |first| + |second|), below |first| meaning `first`), then each source draws its rows
/// uniformly, `first`'s rows written first and `second`'s after them (rows of a minibatch are exchangeable, and
/// gathering each source's rows in one pass keeps the fast paths of both).
public struct AppendedSource<First: BatchSource, Second: BatchSource>: BatchSource {
  public var first: First
  public var second: Second

  public init(first: First, second: Second) {
    self.first = first
    self.second = second
  }

  public var count: Int { first.count + second.count }

  public func sample(into batch: inout Batch, rows: Range<Int>, using rng: inout RandomStream) {
    let n1 = first.count, total = count
    precondition(total > 0, "cannot sample from two empty sources")
    var fromFirst = 0
    for _ in rows where rng.nextInt(below: total) < n1 { fromFirst += 1 }
    let split = rows.lowerBound + fromFirst
    if fromFirst > 0 { first.sample(into: &batch, rows: rows.lowerBound..<split, using: &rng) }
    if split < rows.upperBound { second.sample(into: &batch, rows: split..<rows.upperBound, using: &rng) }
  }
}
