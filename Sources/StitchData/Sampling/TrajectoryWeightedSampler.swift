import Foundation

import StitchTensor

/// Return-weighted (RW) and advantage-weighted (AW) trajectory sampling from Hong, Kumar, Agrawal et al.,
/// "Harnessing Mixed Offline Reinforcement Learning Datasets via Trajectory Weighting" (ICLR 2023), §4.2.
///
/// AW replaces the return Gᵢ by the episode's advantage Aᵢ = Gᵢ − V̂(s₀ᵢ), where V̂ is the least-squares linear
/// regression of the episodes' returns on their initial observations (with an intercept), so that episodes are
/// not favoured merely for starting in easier states; Aᵢ is then min-max normalised and weighted exactly as Gᵢ.
///
/// Every transition of episode i gets the weight exp(G̃ᵢ / α), where G̃ᵢ = (Gᵢ − min G) / (max G − min G) is the
/// episode's undiscounted return min-max normalised over the dataset's episodes, and α is a temperature (the
/// paper's and its code's default α = 0.1). Transition probabilities are those weights normalised over all rows
/// (a softmax over transitions), so an episode is drawn with probability ∝ Tᵢ·exp(G̃ᵢ/α) (Tᵢ its length) and a
/// row uniformly within it. α → ∞ gives back uniform sampling; small α concentrates on the best episodes.
/// When every episode has the same return the normalised returns are all 0 and sampling is uniform.
///
/// Sampling draws the episode from a Walker alias table (O(1) per draw, built once in O(episodes)) and then a
/// row uniformly inside it, which is exactly the per-transition softmax above. Any algorithm can use it: the
/// trainer takes it in place of `UniformSampler` (`stitch train --return-weighted ALPHA`).
public struct TrajectoryWeightedSampler: Sendable {
  public let dataset: Dataset
  /// α, the temperature.
  public let temperature: Double
  /// What each episode is weighted by.
  public enum Weighting: String, Sendable, Codable { case returns, advantages }
  public let weighting: Weighting
  /// The episodes sampled from, in row order.
  public let episodes: [Dataset.Episode]
  /// Probability of drawing each episode (Tᵢ·exp(G̃ᵢ/α), normalised).
  public let episodeProbabilities: [Double]
  private let alias: AliasTable
  private let rows: TransitionRows

  /// - Throws: `DatasetError.invalid` when the dataset is empty or α is not a positive finite number.
  public init(_ dataset: Dataset, temperature: Double = 0.1, weighting: Weighting = .returns) throws {
    guard temperature.isFinite, temperature > 0 else {
      throw DatasetError.invalid(file: dataset.metadata["source"] ?? "dataset", problem: "return-weighted sampling needs a positive temperature α, got \(temperature)")
    }
    let episodes = dataset.episodes
    guard !episodes.isEmpty else { throw DatasetError.invalid(file: dataset.metadata["source"] ?? "dataset", problem: "return-weighted sampling needs at least one episode; the dataset is empty") }
    self.dataset = dataset
    self.temperature = temperature
    self.weighting = weighting
    self.episodes = episodes
    var scores = episodes.map(\.totalReturn)
    if weighting == .advantages {
      let od = dataset.observationDim
      let starts = episodes.map { e in (0..<od).map { Double(dataset.observations[e.start * od + $0]) } }
      let fitted = Self.linearFit(starts, scores)
      scores = zip(scores, fitted).map { $0 - $1 }
    }
    self.episodeProbabilities = Self.probabilities(returns: scores, lengths: episodes.map(\.length), temperature: temperature)
    self.alias = AliasTable(episodeProbabilities)
    self.rows = TransitionRows(dataset)
  }

  /// Tᵢ·exp((G̃ᵢ − 1)/α) normalised to sum 1 (shifting by the maximum G̃ = 1 keeps exp from overflowing for small α).
  static func probabilities(returns: [Double], lengths: [Int], temperature: Double) -> [Double] {
    let lo = returns.min()!, hi = returns.max()!
    // A spread at rounding level (e.g. advantages of returns the value fit explains exactly) is no spread: min-max
    // normalising it would turn rounding noise into weights.
    let magnitude = returns.map { Swift.abs($0) }.max()!
    let span = hi - lo > 1e-7 * Swift.max(magnitude, 1) ? hi - lo : 0
    let weights = zip(returns, lengths).map { g, t -> Double in
      let normalised = span > 0 ? (g - lo) / span : 0
      return Double(t) * exp((normalised - (span > 0 ? 1 : 0)) / temperature)
    }
    let total = weights.reduce(0, +)
    return weights.map { $0 / total }
  }

  /// Least-squares predictions of `y` from the rows of `x` plus an intercept (normal equations solved by Cholesky,
  /// with a 1e-12 relative ridge on the slopes so that constant or collinear observation dimensions do not break it).
  static func linearFit(_ x: [[Double]], _ y: [Double]) -> [Double] {
    let n = x.count, d = (x.first?.count ?? 0) + 1
    // Centre the features (the intercept is then the mean of y), which also conditions the system.
    let means = (0..<(d - 1)).map { j in x.reduce(0) { $0 + $1[j] } / Double(n) }
    let yMean = y.reduce(0, +) / Double(n)
    let m = d - 1
    guard m > 0 else { return Array(repeating: yMean, count: n) }
    var a = [Double](repeating: 0, count: m * m), b = [Double](repeating: 0, count: m)
    for (row, target) in zip(x, y) {
      let c = (0..<m).map { row[$0] - means[$0] }
      for i in 0..<m {
        b[i] += c[i] * (target - yMean)
        for j in 0...i { a[i * m + j] += c[i] * c[j] }
      }
    }
    let scale = (0..<m).map { a[$0 * m + $0] }.max() ?? 0
    for i in 0..<m { a[i * m + i] += 1e-12 * Swift.max(scale, 1) }
    // Cholesky A = L Lᵀ (lower triangle), then two triangular solves.
    var l = [Double](repeating: 0, count: m * m)
    for i in 0..<m {
      for j in 0...i {
        var sum = a[i * m + j]
        for k in 0..<j { sum -= l[i * m + k] * l[j * m + k] }
        l[i * m + j] = i == j ? Swift.max(sum, 1e-300).squareRoot() : sum / l[j * m + j]
      }
    }
    var z = [Double](repeating: 0, count: m)
    for i in 0..<m { var sum = b[i]; for k in 0..<i { sum -= l[i * m + k] * z[k] }; z[i] = sum / l[i * m + i] }
    var w = [Double](repeating: 0, count: m)
    for i in stride(from: m - 1, through: 0, by: -1) { var sum = z[i]; for k in (i + 1)..<m { sum -= l[k * m + i] * w[k] }; w[i] = sum / l[i * m + i] }
    return x.map { row in yMean + (0..<m).reduce(0) { $0 + w[$1] * (row[$1] - means[$1]) } }
  }

  /// Overwrites `rows` of `batch` (all of it by default, `BatchSource`) with transitions drawn by return weight.
  public func sample(into batch: inout Batch, rows range: Range<Int>, using rng: inout RandomStream) {
    var indices = [Int](repeating: 0, count: range.count)
    for k in 0..<range.count {
      let e = episodes[alias.draw(&rng)]
      indices[k] = e.start + rng.nextInt(below: e.length)
    }
    rows.gather(indices, into: &batch, offset: range.lowerBound)
  }
}

/// Walker's alias method (Vose's construction): draws index i with probability pᵢ in O(1).
struct AliasTable: Sendable {
  let threshold: [Double]
  let alias: [Int]

  init(_ p: [Double]) {
    let n = p.count
    var scaled = p.map { $0 * Double(n) }
    var threshold = [Double](repeating: 1, count: n), alias = Array(0..<n)
    var small = scaled.indices.filter { scaled[$0] < 1 }, large = scaled.indices.filter { scaled[$0] >= 1 }
    while let s = small.popLast(), let l = large.last {
      threshold[s] = scaled[s]
      alias[s] = l
      scaled[l] -= 1 - scaled[s]
      if scaled[l] < 1 { large.removeLast(); small.append(l) }
    }
    // Left-overs (rounding) keep threshold 1: they are drawn as themselves.
    self.threshold = threshold
    self.alias = alias
  }

  func draw(_ rng: inout RandomStream) -> Int {
    let i = rng.nextInt(below: threshold.count)
    return rng.nextDouble() < threshold[i] ? i : alias[i]
  }
}
