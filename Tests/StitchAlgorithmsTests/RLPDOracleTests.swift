import Foundation
import StitchData
import StitchNN
import StitchTensor
import Testing

@testable import StitchAlgorithms

/// Two environment steps of RLPD at UTD 2 against its own JAX code (Fixtures/rlpd_update_oracle.safetensors,
/// made by scripts/fixtures/make_rlpd_fixture.py from ikostrikov/rlpd @ c90fd4b): per environment step two critic
/// steps (target from a random pair of the four LayerNorm target critics, minus the entropy backup; loss the mean
/// over members and rows; Polyak after each), then one actor step on the last minibatch (loss on the mean over all
/// critics) and one temperature step (α·(H − H̄)). The same networks, minibatches, draws and target subsets give
/// the same losses and the same parameters after each environment step.
@Suite struct RLPDOracleTests {
  @Test func twoEnvironmentStepsMatchRLPDsJAXCode() throws {
    let t = try Oracle.load("rlpd_update_oracle.safetensors")
    func tensor(_ name: String) throws -> Tensor { try Oracle.tensor(t, name) }
    var c = RLPD.defaultConfiguration
    c.critics = 4
    c.targetCritics = 2
    c.hiddenSizes = [8, 8]
    c.utd = 2
    c.targetUpdateRate = 0.05
    c.actorLearningRate = 1e-3
    c.criticLearningRate = 2e-3
    c.temperatureLearningRate = 3e-3
    c.initialTemperature = 0.7
    var agent = RLPD(configuration: c, task: TaskSpec(id: "oracle", observationDim: 3, actionDim: 2), rng: RandomStream(seed: 0))
    #expect(agent.targetEntropy == -1)
    var before: [String: Tensor] = [:]
    for (key, value) in t where key.hasPrefix("before.") { before[String(key.dropFirst(7))] = value }
    let loaded = Oracle.checkpoint(before)
    try loaded.restore(&agent.actor, from: "actor.")
    try loaded.restore(&agent.critics, from: "critic.")
    try loaded.restore(&agent.targetCritics, from: "target_critic.")
    try loaded.restore(&agent.logTemperature, from: "log_alpha")
    var subsetsSeen = Set<[Int]>()
    for k in 1...2 {
      for j in 0..<2 {
        let batch = try Oracle.batch(t, 0, size: 6, prefix: "batch\(k)_\(j).")
        let subset = try tensor("draw\(k)_\(j).subset").scalars.map { Int($0) }
        subsetsSeen.insert(subset.sorted())
        let draws = RLPD.Draws(next: try tensor("draw\(k)_\(j).next"), subset: subset, actor: j == 1 ? try tensor("draw\(k).actor") : nil)
        let m = try agent.update(on: batch, draws: draws)
        try Oracle.close(m, "critic_loss", t, "out\(k)_\(j).critic_loss")
        if j == 1 {
          for name in ["actor_loss", "entropy", "temperature_loss"] { try Oracle.close(m, name, t, "out\(k).\(name)") }
        } else {
          #expect(m["actor_loss"] == nil, "the actor steps only on the environment step's last critic step")
        }
      }
      try Oracle.compare(t, "after\(k).", [("actor.", agent.actor.namedParameters), ("critic.", agent.critics.namedParameters),
                                           ("target_critic.", agent.targetCritics.namedParameters)])
      Oracle.close(agent.logTemperature, try tensor("after\(k).log_alpha"), "step \(k) log_alpha")
    }
    #expect(subsetsSeen.count >= 2, "the fixture's target subsets vary")
  }

  /// Initialisation as the reference's: Xavier-uniform kernels (each member and each actor head over its own
  /// fan-in and fan-out: bound √(6/(in + out))), zero biases, LayerNorm scale 1 and offset 0, α₀; and the random
  /// target subsets are distinct members, each pair about equally often.
  @Test func initialisationAndSubsetsFollowTheReference() throws {
    let agent = RLPD(configuration: RLPD.defaultConfiguration, task: TaskSpec(id: "t", observationDim: 11, actionDim: 3), rng: RandomStream(seed: 1))
    func bound(_ w: Tensor) -> Float { w.scalars.map { Swift.abs($0) }.max()! }
    let first = agent.critics.layers[0].weight
    #expect(first.shape == [10, 256, 14])
    let limit = (6 / Float(14 + 256)).squareRoot()
    #expect(bound(first) <= limit && bound(first) > 0.98 * limit)
    // Xavier-uniform variance limit²/3.
    let variance = first.scalars.map { $0 * $0 }.reduce(0, +) / Float(first.count)
    #expect(Swift.abs(variance / (limit * limit / 3) - 1) < 0.02)
    #expect(agent.critics.layers.allSatisfy { $0.bias.scalars.allSatisfy { $0 == 0 } })
    #expect(agent.critics.norms.count == 2 && agent.critics.norms.allSatisfy { $0.scale.scalars.allSatisfy { $0 == 1 } && $0.offset.scalars.allSatisfy { $0 == 0 } })
    let heads = agent.actor.output.weight.scalars
    let headLimit = (6 / Float(256 + 3)).squareRoot()
    #expect(bound(Tensor(heads)) <= headLimit && bound(Tensor(heads)) > 0.9 * headLimit)
    #expect(agent.logTemperature.scalar == 0)
    var counts: [[Int]: Int] = [:]
    var rng = RandomStream(seed: 3)
    for _ in 0..<4500 {
      let subset = RLPD.targetSubset(of: 10, size: 2, using: &rng)
      #expect(subset.count == 2 && subset[0] != subset[1] && subset.allSatisfy { (0..<10).contains($0) })
      counts[subset.sorted(), default: 0] += 1
    }
    #expect(counts.count == 45, "every pair of 10 critics is drawn")
    // 4500 draws over 45 pairs: 100 each on average, standard deviation ≈ 10.
    #expect(counts.values.allSatisfy { $0 > 55 && $0 < 145 })
  }

  /// The target over a subset evaluates only the subset's members: the same values, bit for bit, as those rows of
  /// the whole ensemble's output (LayerNorm parameters made to differ per member so a mix-up would show).
  @Test func aSubsetOfTheEnsembleGivesThoseMembersRows() throws {
    var rng = RandomStream(seed: 9)
    var e = EnsembleMLP(members: 5, inputSize: 4, hiddenSizes: [6, 6], outputSize: 1, layerNorm: true, rng: &rng)
    for i in e.norms.indices {
      e.norms[i].scale = Tensor.uniform(e.norms[i].scale.shape, in: 0.5...1.5, using: &rng)
      e.norms[i].offset = Tensor.uniform(e.norms[i].offset.shape, in: -0.5...0.5, using: &rng)
    }
    let x = Tensor.normal([7, 4], using: &rng)
    let all = e(x).scalars
    let picked = [3, 0]
    let sub = e.selecting(members: picked)
    #expect(sub.members == 2 && sub.layerNorm)
    let out = sub(x).scalars
    for (k, m) in picked.enumerated() { #expect(Array(out[k * 7 ..< (k + 1) * 7]) == Array(all[m * 7 ..< (m + 1) * 7])) }
  }
}
