import Foundation
import StitchData
import StitchTensor
import StitchTestSupport
import Testing
@testable import StitchAlgorithms
@testable import StitchTraining

/// MOBILE's Bellman-inconsistency penalty (`compute_lcb`): the spread over elites of their sampled Bellman
/// targets, zero on the dataset rows.
@Suite struct MOBILETests {
  static let task = TaskSpec(id: "Pendulum-v1", observationDim: 3, actionDim: 1)
  static let dataset: Dataset = try! DatasetMaker.make("pendulum-random", size: 200, seed: 2)

  static func agent(_ overrides: [String]) throws -> MOBILE {
    let config = try ConfigResolver.resolve(MOBILE.defaultConfiguration, overrides: ModelBasedFixtures.pendulum + overrides)
    var a = MOBILE(configuration: config, task: task, rng: RandomStream(seed: 4))
    try a.prepare(dataset: dataset, normalizer: ObservationNormalizer(identity: 3), rewardScale: 1)
    return a
  }

  static func batch(_ rows: Int) -> Batch {
    var b = Batch(size: rows, observationDim: 3, actionDim: 1)
    var rng = RandomStream(seed: 9)
    UniformSampler(dataset).sample(into: &b, using: &rng)
    return b
  }

  /// Elites whose predictions agree (every member a copy of one) have a far smaller penalty than distinct ones:
  /// what is left is the spread of the sampled next states and actions alone.
  @Test func penaltyMeasuresDisagreement() throws {
    var distinct = try Self.agent([])
    var model = try #require(distinct.rollouts.model)
    // Next-state noise out of the way (σ ≈ e^−9.5): the penalty is then the elites' disagreement on s′ and the
    // spread of the policy's draws a′.
    model.maxLogVariance = Tensor(shape: model.maxLogVariance.shape, scalars: [Float](repeating: -18, count: model.maxLogVariance.scalars.count))
    model.minLogVariance = Tensor(shape: model.minLogVariance.shape, scalars: [Float](repeating: -20, count: model.minLogVariance.scalars.count))
    // Elites that disagree: member e's predicted Δs shifted by 2e in every dimension.
    let last = model.network.layers.count - 1
    var bias = model.network.layers[last].bias.scalars
    let width = bias.count / model.members
    for e in 0..<model.members { for j in 0..<3 { bias[e * width + j] += 2 * Float(e) } }
    model.network.layers[last].bias = Tensor(shape: model.network.layers[last].bias.shape, scalars: bias)
    var same = model
    for i in 0..<same.network.layers.count {
      let w = same.network.layers[i].weight, b = same.network.layers[i].bias
      let wm = w.scalars.count / model.members, bm = b.scalars.count / model.members
      let e = model.elites[0]
      same.network.layers[i].weight = Tensor(shape: w.shape, scalars: (0..<model.members).flatMap { _ in w.scalars[(e * wm)..<((e + 1) * wm)] })
      same.network.layers[i].bias = Tensor(shape: b.shape, scalars: (0..<model.members).flatMap { _ in b.scalars[(e * bm)..<((e + 1) * bm)] })
    }
    let b = Self.batch(64)
    var copy = distinct
    let uDistinct = distinct.bellmanInconsistency(model, observations: b.observations, actions: b.actions, rows: 0..<64)
    let uSame = copy.bellmanInconsistency(same, observations: b.observations, actions: b.actions, rows: 0..<64)
    let meanDistinct = uDistinct.reduce(0, +) / 64, meanSame = uSame.reduce(0, +) / 64
    #expect(uDistinct.count == 64 && uDistinct.allSatisfy { $0 >= 0 && $0.isFinite })
    print("MOBILE penalty: distinct elites \(meanDistinct), identical \(meanSame)")
    #expect(meanSame < meanDistinct / 2)
  }

  /// The update penalises only model rows, by β·u, and reports the mean penalty; β = 0 leaves rewards alone.
  @Test func updateReportsThePenaltyOnModelRows() throws {
    var a = try Self.agent(["penalty_coefficient=2"])
    let m = try a.update(on: Self.batch(16))
    let penalty = try #require(m["bellman_penalty_mean"])
    #expect(penalty > 0 && penalty.isFinite)
    var none = try Self.agent(["penalty_coefficient=0"])
    let m0 = try none.update(on: Self.batch(16))
    #expect(m0["bellman_penalty_mean"] == nil)
  }
}
