import Foundation
import StitchData
import StitchNN
import StitchTensor
import Testing

@testable import StitchAlgorithms

/// WSRL against its own JAX code (Fixtures/wsrl_update_oracle.safetensors, made by
/// scripts/fixtures/make_wsrl_fixture.py from zhouzypaul/wsrl @ 891ee35): two offline updates of its CQL (max
/// backup over 3 next actions, the min over two target critics drawn with replacement, the CQL term on a second
/// draw of two critics, actor and temperature from the same parameters) and then two online `update_high_utd`
/// calls of its SAC at UTD 2 (two critic steps on the halves of a 12-row batch, each with the actor's and the
/// temperature's zero-gradient Adam steps, then one actor and temperature step on all 12 rows with the critics'
/// zero-gradient step), on 4 LayerNorm critics that share their output layer.
@Suite struct WSRLOracleTests {
  static func configuration() -> WSRL.Configuration {
    var c = WSRL.defaultConfiguration
    c.critics = 4
    c.targetCritics = 2
    c.hiddenSizes = [8, 8]
    c.sampledActions = 3
    c.targetUpdateRate = 0.05
    c.actorLearningRate = 1e-3
    c.criticLearningRate = 2e-3
    c.temperatureLearningRate = 3e-3
    c.initialTemperature = 0.7
    c.utd = 2
    return c
  }

  @Test func offlineCQLAndOnlineHighUTDUpdatesMatchWSRLsJAXCode() throws {
    let t = try Oracle.load("wsrl_update_oracle.safetensors")
    func tensor(_ name: String) throws -> Tensor { try Oracle.tensor(t, name) }
    func indices(_ name: String) throws -> [Int] { try tensor(name).scalars.map { Int($0) } }
    var agent = WSRL(configuration: Self.configuration(), task: TaskSpec(id: "oracle", observationDim: 3, actionDim: 2), rng: RandomStream(seed: 0))
    #expect(agent.targetEntropy == -2)
    var before: [String: Tensor] = [:]
    for (key, value) in t where key.hasPrefix("before.") { before[String(key.dropFirst(7))] = value }
    let loaded = Oracle.checkpoint(before)
    try loaded.restore(&agent.actor, from: "actor.")
    try loaded.restore(&agent.critics, from: "critic.")
    try loaded.restore(&agent.targetCritics, from: "target_critic.")
    try loaded.restore(&agent.temperatureParameter, from: "temperature")
    func compare(_ prefix: String) throws {
      try Oracle.compare(t, prefix, [("actor.", agent.actor.namedParameters), ("critic.", agent.critics.namedParameters),
                                     ("target_critic.", agent.targetCritics.namedParameters)])
      Oracle.close(agent.temperatureParameter, try tensor(prefix + "temperature"), prefix + "temperature")
    }
    for k in 1...2 {
      let p = "off\(k)."
      let batch = try Oracle.batch(t, 0, size: 6, prefix: p + "batch.")
      let draws = WSRL.OfflineDraws(next: try tensor(p + "next"), subset: try indices(p + "subset"), random: try tensor(p + "random"),
                                    current: try tensor(p + "current"), nextProposals: try tensor(p + "next_proposals"),
                                    conservativeSubset: try indices(p + "conservative_subset"), actor: try tensor(p + "actor"),
                                    temperature: try tensor(p + "temperature"))
      let m = try agent.offlineUpdate(on: batch, draws: draws)
      for name in ["critic_loss", "td_loss", "cql_loss", "cql_ood_values", "actor_loss", "entropy", "temperature_loss"] {
        try Oracle.close(m, name, t, p + "out.\(name)")
      }
      try compare("after_off\(k).")
    }
    agent.phaseChanged(online: true)
    for k in 1...2 {
      let p = "on\(k)."
      let batch = try Oracle.batch(t, 0, size: 12, prefix: p + "batch.")
      let draws = WSRL.OnlineDraws(next: [try tensor(p + "next0"), try tensor(p + "next1")],
                                   subsets: [try indices(p + "subset0"), try indices(p + "subset1")],
                                   actor: try tensor(p + "actor"), temperature: try tensor(p + "temperature"))
      let m = try agent.onlineUpdate(on: batch, draws: draws)
      let meanCriticLoss = (try tensor(p + "out.critic_loss0").scalar + (try tensor(p + "out.critic_loss1")).scalar) / 2
      Oracle.close(Tensor([Float(m["critic_loss"] ?? .nan)]), Tensor([meanCriticLoss]), p + "critic_loss (mean of the critic steps)")
      for name in ["actor_loss", "entropy", "temperature_loss"] { try Oracle.close(m, name, t, p + "out.\(name)") }
      try compare("after_on\(k).")
    }
  }

  /// The zero-gradient Adam steps are what moves the actor during the critic steps: without them the online
  /// update's actor parameters differ from the reference's (the check above would fail).
  @Test func anIdleAdamStepMovesParametersByTheirMomentum() throws {
    var adam = Adam(learningRate: 0.1)
    var x = Tensor([1, 2])
    adam.update(&x, along: Tensor([0.5, -0.5]))
    let afterOne = x.scalars
    adam.idleStep(&x)
    // m = 0.9·0.05 = 0.045, v = 0.999·0.00025; step size 0.1/(1 − 0.81) · m / (√v/√(1 − 0.998001) + 1e-8).
    let m = 0.9 * 0.05, v = 0.999 * 0.00025
    let expected = 0.1 / (1 - 0.81) * m / ((v).squareRoot() / (1 - 0.998001).squareRoot() + 1e-8)
    #expect(Swift.abs(Double(afterOne[0] - x.scalars[0]) - expected) < 1e-5)
    #expect(Swift.abs(Double(x.scalars[1] - afterOne[1]) - expected) < 1e-5)
    #expect(adam.step == 2)
  }

  /// The initialisation is the reference's: orthogonal kernels with gain √2 (W·Wᵀ = 2·I for a wide kernel), the
  /// last hidden layer's with gain 0.01, zero biases, one shared critic head, softplus(raw) = λ₀.
  @Test func initialisationFollowsTheReference() throws {
    let agent = WSRL(configuration: WSRL.defaultConfiguration, task: TaskSpec(id: "t", observationDim: 11, actionDim: 3), rng: RandomStream(seed: 1))
    func gram(_ w: [Float], rows: Int, cols: Int) -> (diagonal: Float, offDiagonal: Float) {
      var d: Float = 0, o: Float = 0
      for i in 0..<min(rows, 4) { for j in 0..<min(rows, 4) {
        var s: Float = 0
        for k in 0..<cols { s += w[i * cols + k] * w[j * cols + k] }
        if i == j { d = max(d, Swift.abs(s)) } else { o = max(o, Swift.abs(s)) }
      } }
      return (d, o)
    }
    // A tall first kernel [256, 14]: orthonormal columns, so Wᵀ·W = 2·I: check through the columns.
    let first = agent.critics.layers[0].weight
    #expect(first.shape == [10, 256, 14])
    let member0 = Array(first.scalars[0 ..< 256 * 14])
    var columns = [Float](repeating: 0, count: 14 * 256)
    for i in 0..<256 { for j in 0..<14 { columns[j * 256 + i] = member0[i * 14 + j] } }
    let g = gram(columns, rows: 14, cols: 256)
    #expect(Swift.abs(g.diagonal - 2) < 1e-4 && g.offDiagonal < 1e-4)
    let last = agent.critics.layers[1].weight.scalars
    let gl = gram(Array(last[0 ..< 256 * 256]), rows: 256, cols: 256)
    #expect(Swift.abs(gl.diagonal - 1e-4) < 1e-7 && gl.offDiagonal < 1e-7, "the last hidden layer has gain 0.01")
    #expect(agent.critics.head.weight.shape == [1, 256])
    let head = agent.critics.head.weight.scalars.map { $0 * $0 }.reduce(0, +)
    #expect(Swift.abs(head - 2) < 1e-4)
    #expect(agent.critics.layers.allSatisfy { $0.bias.scalars.allSatisfy { $0 == 0 } })
    #expect(agent.actor.norms.count == 2 && agent.actor.norms.allSatisfy { $0.epsilon == 1e-6 })
    #expect(Swift.abs(agent.temperature - 1) < 1e-6)
    #expect(agent.targetEntropy == -3)
  }

  /// A subset with a repeated member sends that member the gradient twice, and evaluates as the full ensemble's rows.
  @Test func aSubsetOfTheSharedHeadEnsembleIsDifferentiable() throws {
    var rng = RandomStream(seed: 4)
    let e = SharedHeadEnsemble(members: 3, inputSize: 4, hiddenSizes: [5, 5], rng: &rng)
    let x = Tensor.normal([6, 4], using: &rng)
    let all = e(x).scalars
    let sub = e.selecting(members: [2, 2])
    // Equal to round-off: the shared head's product has other shapes for 2 members than for 3, and a backend may
    // sum in another order for each (oneDNN does; OpenBLAS happens not to).
    for (s, a) in zip(sub(x).scalars[0..<6], all[12..<18]) { #expect(Swift.abs(s - a) <= 1e-6 * Swift.max(1, Swift.abs(a))) }
    let (_, grad) = try valueWithGradient(at: e) { q in q.selecting(members: [2, 2])(x).sum() }
    let (_, once) = try valueWithGradient(at: e) { q in q.selecting(members: [2])(x).sum() }
    let w = grad.layers[0].weight.scalars, w1 = once.layers[0].weight.scalars
    let per = 5 * 4
    #expect(w[0 ..< 2 * per].allSatisfy { $0 == 0 }, "members not chosen get no gradient")
    for i in 2 * per ..< 3 * per { #expect(Swift.abs(w[i] - 2 * w1[i]) <= 1e-6 * Swift.max(1, Swift.abs(w[i]))) }
  }
}
