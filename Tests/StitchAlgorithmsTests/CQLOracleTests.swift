import Foundation
import StitchData
import StitchNN
import StitchTensor
import Testing

@testable import StitchAlgorithms

/// One CQL update against PyTorch computing CORL cql.py's arithmetic (Fixtures/cql_update_oracle.safetensors,
/// made by scripts/fixtures/make_cql_fixture.py): the same networks, batch and random draws give the same actor,
/// critic and temperature losses, the same gradient for every parameter (the log-std scale and offset
/// included), and the same parameters after one Adam step of each optimiser and the Polyak update.
@Suite struct CQLOracleTests {
  @Test func oneUpdateMatchesCORLsArithmeticInPyTorch() throws {
    try checkOneUpdate(fixture: "cql_update_oracle.safetensors", lagrange: false)
  }

  /// CQL-Lagrange (cql.py with `cql_lagrange: true`): the penalty α'·α·(gapᵢ − τ) in the critics' loss and their
  /// gradients, the gradient of log α' and its Adam step at the critic rate (Fixtures/cql_lagrange_update_oracle,
  /// `make_cql_fixture.py --lagrange`: log α' = 0.7, τ = 0.3).
  @Test func oneLagrangeUpdateMatchesCORLsArithmeticInPyTorch() throws {
    try checkOneUpdate(fixture: "cql_lagrange_update_oracle.safetensors", lagrange: true)
  }

  /// Without importance sampling (`cql_importance_sample: false`): the log-sum-exp over the proposals and Q on the
  /// data, no density corrections (`make_cql_fixture.py --no-importance-sampling`).
  @Test func oneUpdateWithoutImportanceSamplingMatchesCORLsArithmeticInPyTorch() throws {
    try checkOneUpdate(fixture: "cql_plain_update_oracle.safetensors", lagrange: false, importanceSampling: false)
  }

  /// Cal-QL's calibration (CORL cal_ql.py `_q_loss`): the current- and next-state proposals' Q-values bounded
  /// below by the rows' returns-to-go before their density corrections (`make_cql_fixture.py --calibrated`, 70% of
  /// them below their bound), with the bound rates it logs; and the same update with the calibration switched off
  /// (CORL's online phase) is plain CQL again, the uncalibrated fixture's losses.
  @Test func oneCalibratedUpdateMatchesCalQLsArithmeticInPyTorch() throws {
    try checkOneUpdate(fixture: "cql_calibrated_update_oracle.safetensors", lagrange: false, calibrated: true)
  }

  func checkOneUpdate(fixture: String, lagrange: Bool, importanceSampling: Bool = true, calibrated: Bool = false) throws {
    let t = try Oracle.load(fixture)
    func tensor(_ name: String) throws -> Tensor { try Oracle.tensor(t, name) }
    var c = CQL.defaultConfiguration
    c.lagrange = lagrange
    c.importanceSampling = importanceSampling
    c.calibrated = calibrated
    c.targetActionGap = lagrange ? 0.3 : c.targetActionGap
    c.actorHiddenSizes = [8, 8, 8]
    c.criticHiddenSizes = [8, 8, 8]
    c.sampledActions = 3
    c.targetUpdateRate = 0.05
    c.policyLearningRate = 1e-3
    c.temperatureLearningRate = 1e-3
    c.criticLearningRate = 2e-3
    var agent = CQL(configuration: c, task: TaskSpec(id: "oracle", observationDim: 3, actionDim: 2), rng: RandomStream(seed: 0))
    let loaded = Oracle.checkpoint(t)
    try loaded.restore(&agent.actor, from: "actor.")
    try loaded.restore(&agent.critics, from: "critic.")
    try loaded.restore(&agent.targetCritics, from: "target_critic.")
    try loaded.restore(&agent.logTemperature, from: "log_alpha")
    if lagrange { agent.logConservative = try tensor("log_alpha_prime") }
    let batch = try Oracle.batch(t, 1, size: 5)
    let draws = CQL.Draws(policy: try tensor("draw.policy"), next: try tensor("draw.next"), random: try tensor("draw.random"),
                          current: try tensor("draw.current"), nextPolicy: try tensor("draw.next_policy"))

    let g = try agent.gradients(on: batch, draws: draws)
    if calibrated {
      #expect(batch.returnsToGo.scalars.contains { $0 != 0 }, "the fixture's returns-to-go reach the batch")
      Oracle.close(Tensor(g.boundRates ?? []), Tensor([try tensor("out.bound_rate_current").scalar, try tensor("out.bound_rate_next").scalar]), "bound rates")
      var off = agent
      off.phaseChanged(online: true)
      var plain = agent
      plain.calibrating = false
      let uncalibrated = try plain.gradients(on: batch, draws: draws)
      #expect(try off.gradients(on: batch, draws: draws).criticLoss == g.criticLoss, "calibrate_online defaults to true: still calibrated online")
      #expect(uncalibrated.criticLoss != g.criticLoss, "the bound changes the loss")
      var corlConfig = c
      corlConfig.calibrateOnline = false
      var corl = CQL(configuration: corlConfig, task: TaskSpec(id: "oracle", observationDim: 3, actionDim: 2), rng: RandomStream(seed: 0))
      try loaded.restore(&corl.actor, from: "actor.")
      try loaded.restore(&corl.critics, from: "critic.")
      try loaded.restore(&corl.targetCritics, from: "target_critic.")
      try loaded.restore(&corl.logTemperature, from: "log_alpha")
      corl.phaseChanged(online: true)
      #expect(try corl.gradients(on: batch, draws: draws).criticLoss == uncalibrated.criticLoss, "CORL's switch: uncalibrated online")
    }
    Oracle.close(Tensor([g.actorLoss]), try tensor("out.actor_loss"), "actor loss")
    Oracle.close(Tensor([g.criticLoss]), try tensor("out.critic_loss"), "critic loss")
    Oracle.close(g.logTemperature, try tensor("grad.log_alpha"), "grad log_alpha")
    if lagrange {
      let primeGrad = try #require(g.logConservative)
      Oracle.close(primeGrad, try tensor("grad.log_alpha_prime"), "grad log_alpha_prime")
    } else {
      #expect(g.logConservative == nil)
    }
    #expect(g.actor.namedParameters.count + g.critics.namedParameters.count == 10 + 8)
    try Oracle.compare(t, "grad.", [("actor.", g.actor.namedParameters), ("critic.", g.critics.namedParameters)])

    _ = try agent.update(on: batch, draws: draws)
    try Oracle.compare(t, "after.", [("actor.", agent.actor.namedParameters), ("critic.", agent.critics.namedParameters),
                                     ("target_critic.", agent.targetCritics.namedParameters)])
    Oracle.close(agent.logTemperature, try tensor("after.log_alpha"), "log_alpha after the step")
    if lagrange { Oracle.close(agent.logConservative, try tensor("after.log_alpha_prime"), "log_alpha_prime after the step") }
  }
}
