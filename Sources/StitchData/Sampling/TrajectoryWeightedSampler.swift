import Foundation
import StitchTensor

/// Return-weighted trajectory sampling (RW) from Hong, Kumar, Agrawal et al., "Harnessing Mixed Offline
/// Reinforcement Learning Datasets via Trajectory Weighting" (ICLR 2023), §4.2.
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
  /// The episodes sampled from, in row order.
  public let episodes: [Dataset.Episode]
  /// Probability of drawing each episode (Tᵢ·exp(G̃ᵢ/α), normalised).
  public let episodeProbabilities: [Double]
  private let alias: AliasTable

  /// - Throws: `DatasetError.invalid` when the dataset is empty or α is not a positive finite number.
  public init(_ dataset: Dataset, temperature: Double = 0.1) throws {
    guard temperature.isFinite, temperature > 0 else {
      throw DatasetError.invalid(file: dataset.metadata["source"] ?? "dataset", problem: "return-weighted sampling needs a positive temperature α, got \(temperature)")
    }
    let episodes = dataset.episodes
    guard !episodes.isEmpty else { throw DatasetError.invalid(file: dataset.metadata["source"] ?? "dataset", problem: "return-weighted sampling needs at least one episode; the dataset is empty") }
    self.dataset = dataset
    self.temperature = temperature
    self.episodes = episodes
    self.episodeProbabilities = Self.probabilities(returns: episodes.map(\.totalReturn), lengths: episodes.map(\.length), temperature: temperature)
    self.alias = AliasTable(episodeProbabilities)
  }

  /// Tᵢ·exp((G̃ᵢ − 1)/α) normalised to sum 1 (shifting by the maximum G̃ = 1 keeps exp from overflowing for small α).
  static func probabilities(returns: [Double], lengths: [Int], temperature: Double) -> [Double] {
    let lo = returns.min()!, hi = returns.max()!
    let span = hi - lo
    let weights = zip(returns, lengths).map { g, t -> Double in
      let normalised = span > 0 ? (g - lo) / span : 0
      return Double(t) * exp((normalised - (span > 0 ? 1 : 0)) / temperature)
    }
    let total = weights.reduce(0, +)
    return weights.map { $0 / total }
  }

  /// Overwrites `batch` with `batch.size` transitions drawn by return weight.
  public func sample(into batch: inout Batch, using rng: inout RandomStream) {
    var indices = [Int](repeating: 0, count: batch.size)
    for k in 0..<batch.size {
      let e = episodes[alias.draw(&rng)]
      indices[k] = e.start + rng.nextInt(below: e.length)
    }
    UniformSampler.gather(dataset, indices, into: &batch, od: dataset.observationDim, ad: dataset.actionDim)
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
