import Foundation
import Testing
@testable import StitchAlgorithms

/// One CQL update against PyTorch computing CORL cql.py's arithmetic (Fixtures/cql_update_oracle.safetensors,
/// made by scripts/fixtures/make_cql_fixture.py): the same networks, batch and random draws give the same actor,
/// critic and temperature losses, the same gradient for every parameter (the log-std scale and offset
/// included), and the same parameters after one Adam step of each optimiser and the Polyak update.
@Suite struct CQLOracleTests {
  static func close(_ a: Tensor, _ b: Tensor, _ what: String, relative: Float = 2e-4, absolute: Float = 2e-6) {
    #expect(a.shape == b.shape, "\(what): shape \(a.shape) vs \(b.shape)")
    let worst = zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) / (absolute + relative * Swift.abs($1)) }.max() ?? 0
    #expect(worst <= 1, "\(what): worst error ratio \(worst) (Stitch \(a.scalars.prefix(4)), PyTorch \(b.scalars.prefix(4)))")
  }

  @Test func oneUpdateMatchesCORLsArithmeticInPyTorch() throws {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/cql_update_oracle.safetensors", withExtension: nil))
    let (t, _) = try SafeTensors.read(url)
    func tensor(_ name: String) throws -> Tensor { try #require(t[name], "fixture lacks \(name)") }
    var c = CQL.defaultConfiguration
    c.actorHiddenSizes = [8, 8, 8]
    c.criticHiddenSizes = [8, 8, 8]
    c.sampledActions = 3
    c.targetUpdateRate = 0.05
    c.policyLearningRate = 1e-3
    c.temperatureLearningRate = 1e-3
    c.criticLearningRate = 2e-3
    var agent = CQL(configuration: c, task: TaskSpec(id: "oracle", observationDim: 3, actionDim: 2), rng: RandomStream(seed: 0))
    var loaded = Checkpoint()
    loaded.tensors = t
    try loaded.restore(&agent.actor, from: "actor.")
    try loaded.restore(&agent.critics, from: "critic.")
    try loaded.restore(&agent.targetCritics, from: "target_critic.")
    try loaded.restore(&agent.logTemperature, from: "log_alpha")
    var batch = Batch(size: 5, observationDim: 3, actionDim: 2)
    batch.observations = try tensor("batch.observations")
    batch.actions = try tensor("batch.actions")
    batch.rewards = try tensor("batch.rewards").reshaped([5, 1])
    batch.nextObservations = try tensor("batch.next_observations")
    batch.terminals = try tensor("batch.terminals").reshaped([5, 1])
    let draws = CQL.Draws(policy: try tensor("draw.policy"), next: try tensor("draw.next"), random: try tensor("draw.random"),
                          current: try tensor("draw.current"), nextPolicy: try tensor("draw.next_policy"))

    let g = try agent.gradients(on: batch, draws: draws)
    Self.close(Tensor([g.actorLoss]), try tensor("out.actor_loss"), "actor loss")
    Self.close(Tensor([g.criticLoss]), try tensor("out.critic_loss"), "critic loss")
    Self.close(g.logTemperature, try tensor("grad.log_alpha"), "grad log_alpha")
    var count = 0
    for (name, grad) in g.actor.namedParameters { Self.close(grad, try tensor("grad.actor." + name), "grad actor.\(name)"); count += 1 }
    for (name, grad) in g.critics.namedParameters { Self.close(grad, try tensor("grad.critic." + name), "grad critic.\(name)"); count += 1 }
    #expect(count == 10 + 8)

    _ = try agent.update(on: batch, draws: draws)
    for (name, p) in agent.actor.namedParameters { Self.close(p, try tensor("after.actor." + name), "actor.\(name) after the step") }
    for (name, p) in agent.critics.namedParameters { Self.close(p, try tensor("after.critic." + name), "critic.\(name) after the step") }
    for (name, p) in agent.targetCritics.namedParameters {
      Self.close(p, try tensor("after.target_critic." + name), "target_critic.\(name) after the Polyak update")
    }
    Self.close(agent.logTemperature, try tensor("after.log_alpha"), "log_alpha after the step")
  }
}
