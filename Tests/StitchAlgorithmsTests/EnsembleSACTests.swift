import Foundation
import StitchData
import StitchNN
import StitchTensor
import StitchTestSupport
import Testing

@testable import StitchAlgorithms

@Suite struct EnsembleSACTests {
  static func smallCritics() -> EnsembleMLP {
    var rng = RandomStream(seed: 4)
    return EnsembleMLP(members: 3, inputSize: 5, hiddenSizes: [8, 8], outputSize: 1, rng: &rng)
  }

  /// ∇ₐQᵢ built from tape ops equals finite differences of Qᵢ in the action.
  @Test func actionGradientsMatchFiniteDifferences() throws {
    let critics = Self.smallCritics()
    let s = smoothTestInput([4, 3], seed: 1), a = smoothTestInput([4, 2], seed: 2)
    let g = EDAC.actionGradients(critics, s, a)
    #expect(g.shape == [3, 4, 2])
    let h: Float = 1e-3
    for k in 0..<2 {
      var plus = a, minus = a
      for r in 0..<4 { plus[flat: r * 2 + k] += h; minus[flat: r * 2 + k] -= h }
      let dq = (EnsembleSAC.q(critics, s, plus) - EnsembleSAC.q(critics, s, minus)) / (2 * h)  // [3, 4]
      for m in 0..<3 {
        for r in 0..<4 {
          let analytic = g[flat: (m * 4 + r) * 2 + k], numeric = dq[flat: m * 4 + r]
          #expect(Swift.abs(analytic - numeric) < 2e-3 + 2e-2 * Swift.abs(numeric), "member \(m) row \(r) dim \(k)")
        }
      }
    }
  }

  /// EDAC's second-order term: the gradient of the diversity loss with respect to the critics' weights, checked
  /// by finite differences of the loss itself.
  @Test func diversityLossHasCorrectWeightGradients() throws {
    let base = Self.smallCritics()
    let s = smoothTestInput([4, 3], seed: 1), a = smoothTestInput([4, 2], seed: 2)
    let weights = base.layers.map(\.weight)
    let result = try checkGradients(weights, step: 1e-3, absoluteTolerance: 3e-3, relativeTolerance: 3e-2) { ws in
      var c = base
      for i in ws.indices { c.layers[i].weight = ws[i] }
      return EDAC.diversity(c, s, a).reshaped([1])
    }
    #expect(result.passed, "\(result)")
  }

  /// The diversity penalty does its job: after the same training, the members' action gradients are less
  /// aligned with η = 1 (EDAC) than with η = 0 (SAC-N). Two action dimensions: with one, each normalised
  /// gradient is ±1 and the measure can only take a few values (both runs reached its maximum, all aligned).
  @Test func edacDiversifiesTheEnsembleMoreThanSACN() throws {
    var rng = RandomStream(seed: 77)
    var ds = Dataset(observationDim: 1, actionDim: 2)
    for _ in 0..<1000 {
      let a = (0..<2).map { _ in Swift.min(Swift.max(0.2 + 0.3 * Float(rng.nextNormal()), -1), 1) }
      let reward = -a.map { ($0 - 0.6) * ($0 - 0.6) }.reduce(0, +)
      ds.append(observation: [1], action: a, reward: reward, nextObservation: [1], terminal: true, timeout: false)
    }
    let task = TaskSpec(id: "bandit", observationDim: 1, actionDim: 2)
    func trainedDiversity(eta: Float) throws -> Float {
      var c = EDAC.defaultConfiguration
      c.critics = 4
      c.hiddenSizes = [32, 32]
      c.eta = eta
      var agent = EDAC(configuration: c, task: task, rng: RandomStream(seed: 3))
      var batch = Batch(size: 64, observationDim: 1, actionDim: 2)
      var batches = RandomStream(seed: 5)
      for _ in 0..<300 {
        UniformSampler(ds).sample(into: &batch, using: &batches)
        let m = try agent.update(on: batch)
        #expect(m.values.allSatisfy { $0.isFinite })
      }
      UniformSampler(ds).sample(into: &batch, using: &batches)
      return EDAC.diversity(agent.core.critics, batch.observations, batch.actions).scalar
    }
    let withPenalty = try trainedDiversity(eta: 1), without = try trainedDiversity(eta: 0)
    #expect(withPenalty < without, "mean pairwise cosine: EDAC \(withPenalty), SAC-N \(without)")
  }
}
