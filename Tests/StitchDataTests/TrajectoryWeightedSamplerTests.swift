import Foundation
import Testing
@testable import StitchData

import StitchTensor

/// Return-weighted sampling (Hong et al. 2023, RW) against its closed form: P(row in episode i) =
/// Tᵢ·exp(G̃ᵢ/α) / Σⱼ Tⱼ·exp(G̃ⱼ/α) with G̃ min-max normalised returns.
@Suite struct TrajectoryWeightedSamplerTests {
  /// Three episodes: lengths 2, 3, 4 with returns 0, 1.5, 3 (exact in Float) (G̃ = 0, 0.5, 1).
  static func dataset() -> Dataset {
    var ds = Dataset(observationDim: 1, actionDim: 1)
    let episodes: [(length: Int, reward: Float)] = [(2, 0), (3, 0.5), (4, 0.75)]
    for (e, spec) in episodes.enumerated() {
      for t in 0..<spec.length {
        ds.append(observation: [Float(e)], action: [Float(t)], reward: spec.reward, nextObservation: [Float(e)],
                  terminal: false, timeout: t == spec.length - 1)
      }
    }
    return ds
  }

  @Test func episodeProbabilitiesMatchTheClosedForm() throws {
    let s = try TrajectoryWeightedSampler(Self.dataset(), temperature: 0.5)
    let w = [2 * exp(0.0 / 0.5), 3 * exp(0.5 / 0.5), 4 * exp(1.0 / 0.5)]
    let total = w.reduce(0, +)
    for (p, expected) in zip(s.episodeProbabilities, w.map { $0 / total }) {
      #expect(Swift.abs(p - expected) < 1e-12, "\(p) vs \(expected)")
    }
  }

  @Test func drawnFrequenciesMatchTheProbabilities() throws {
    let ds = Self.dataset()
    let s = try TrajectoryWeightedSampler(ds, temperature: 0.5)
    var batch = Batch(size: 1000, observationDim: 1, actionDim: 1)
    var rng = RandomStream(seed: 3)
    var counts = [Double](repeating: 0, count: 3), rows = [Double](repeating: 0, count: 4)
    let draws = 200
    for _ in 0..<draws {
      s.sample(into: &batch, using: &rng)
      let obs = batch.observations.scalars, act = batch.actions.scalars
      for k in 0..<batch.size {
        let e = Int(obs[k]); counts[e] += 1
        if e == 2 { rows[Int(act[k])] += 1 }
      }
    }
    let n = Double(draws * batch.size)
    for (c, p) in zip(counts, s.episodeProbabilities) {
      // 200k draws: the standard error of a frequency is below 0.0012; 5 standard errors.
      #expect(Swift.abs(c / n - p) < 0.006, "frequency \(c / n), probability \(p)")
    }
    // Rows within an episode are uniform.
    let inLast = rows.reduce(0, +)
    for r in rows { #expect(Swift.abs(r / inLast - 0.25) < 0.01) }
  }

  @Test func aHighTemperatureOrEqualReturnsSampleUniformly() throws {
    let hot = try TrajectoryWeightedSampler(Self.dataset(), temperature: 1e9)
    #expect(zip(hot.episodeProbabilities, [2.0 / 9, 3.0 / 9, 4.0 / 9]).allSatisfy { Swift.abs($0 - $1) < 1e-6 })
    var flat = Dataset(observationDim: 1, actionDim: 1)
    for t in 0..<4 { flat.append(observation: [0], action: [0], reward: 1, nextObservation: [0], terminal: t % 2 == 1, timeout: false) }
    let s = try TrajectoryWeightedSampler(flat, temperature: 0.1)
    #expect(s.episodeProbabilities == [0.5, 0.5])
  }

  @Test func aBadTemperatureOrAnEmptyDatasetIsAClearError() {
    for alpha in [0.0, -1, .nan, .infinity] {
      #expect { _ = try TrajectoryWeightedSampler(Self.dataset(), temperature: alpha) } throws: { "\($0)".contains("positive temperature") }
    }
    #expect { _ = try TrajectoryWeightedSampler(Dataset(observationDim: 1, actionDim: 1)) } throws: { "\($0)".contains("empty") }
  }

  /// The AW value fit is least squares with an intercept: an exactly linear target is reproduced.
  @Test func linearValueFitReproducesALinearTarget() {
    let x: [[Double]] = [[0, 1], [1, 0], [2, 3], [-1, 5], [4, -2]]
    let y = x.map { 2 + 3 * $0[0] - $0[1] }
    for (p, t) in zip(TrajectoryWeightedSampler.linearFit(x, y), y) { #expect(Swift.abs(p - t) < 1e-6, "\(p) vs \(t)") }
    // A constant observation dimension (collinear with the intercept) does not break the fit.
    let constant = x.map { [$0[0], 7.0] }
    let yc = constant.map { 1 - $0[0] }
    for (p, t) in zip(TrajectoryWeightedSampler.linearFit(constant, yc), yc) { #expect(Swift.abs(p - t) < 1e-6) }
  }

  /// AW: when returns are explained by the first observation, every advantage is 0 and sampling is uniform over
  /// transitions; two episodes from the same start differ by their advantage alone.
  @Test func advantageWeightingDiscountsEasyStarts() throws {
    var ds = Dataset(observationDim: 1, actionDim: 1)
    // Episode returns 2·s₀ exactly: starts 0, 1, 2, lengths 2, 2, 2 (reward s₀ per step).
    for s0 in [0, 1, 2] {
      for t in 0..<2 { ds.append(observation: [Float(s0)], action: [0], reward: Float(s0), nextObservation: [Float(s0)], terminal: false, timeout: t == 1) }
    }
    let aw = try TrajectoryWeightedSampler(ds, temperature: 0.1, weighting: .advantages)
    #expect(aw.episodeProbabilities.allSatisfy { Swift.abs($0 - 1.0 / 3) < 1e-6 }, "\(aw.episodeProbabilities)")
    let rw = try TrajectoryWeightedSampler(ds, temperature: 0.1)
    #expect(rw.episodeProbabilities[2] > 0.99)
    // Add a fourth episode from start 1 with return 4 (2 above the line's 2): now it has the top advantage.
    for t in 0..<2 { ds.append(observation: [1], action: [0], reward: 2, nextObservation: [1], terminal: false, timeout: t == 1) }
    let aw2 = try TrajectoryWeightedSampler(ds, temperature: 0.1, weighting: .advantages)
    #expect(aw2.episodeProbabilities[3] == aw2.episodeProbabilities.max(), "\(aw2.episodeProbabilities)")
  }
}
