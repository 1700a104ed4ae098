import Foundation
import Testing
@testable import StitchAlgorithms

/// Two SAC-N and two EDAC updates against PyTorch computing CORL edac.py's arithmetic (Fixtures/
/// edac_update_oracle.safetensors, made by scripts/fixtures/make_edac_fixture.py): CORL's order (temperature,
/// actor, critics, targets), its log-density with the 1e-6 guard, and EDAC's diversity term through PyTorch's
/// double backward. The same networks, batches and draws give the same losses, temperature and parameters after
/// each update.
@Suite struct EnsembleSACOracleTests {
  @Test(arguments: ["sacn", "edac"]) func twoUpdatesMatchCORLsArithmeticInPyTorch(variant: String) throws {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/edac_update_oracle.safetensors", withExtension: nil))
    let t = try SafeTensors.read(url).0
    func tensor(_ name: String) throws -> Tensor { try #require(t[name], "fixture lacks \(name)") }
    var c = EDAC.defaultConfiguration
    c.critics = 3
    c.eta = variant == "edac" ? 1 : 0
    c.hiddenSizes = [8, 8, 8]
    c.targetUpdateRate = 0.05
    c.actorLearningRate = 1e-3
    c.criticLearningRate = 2e-3
    c.temperatureLearningRate = 3e-3
    var agent = EDAC(configuration: c, task: TaskSpec(id: "oracle", observationDim: 3, actionDim: 2), rng: RandomStream(seed: 0))
    var loaded = Checkpoint()
    loaded.tensors = t
    try loaded.restore(&agent.core.actor, from: "actor.")
    try loaded.restore(&agent.core.critics, from: "critic.")
    try loaded.restore(&agent.core.targetCritics, from: "target_critic.")
    try loaded.restore(&agent.core.logTemperature, from: "log_alpha")
    for k in 1...2 {
      var batch = Batch(size: 5, observationDim: 3, actionDim: 2)
      batch.observations = try tensor("batch\(k).observations")
      batch.actions = try tensor("batch\(k).actions")
      batch.rewards = try tensor("batch\(k).rewards").reshaped([5, 1])
      batch.nextObservations = try tensor("batch\(k).next_observations")
      batch.terminals = try tensor("batch\(k).terminals").reshaped([5, 1])
      let draws = EnsembleSAC.Draws(temperature: try tensor("\(variant).draw\(k).temperature"),
                                    actor: try tensor("\(variant).draw\(k).actor"), next: try tensor("\(variant).draw\(k).next"))
      let m = try agent.core.update(on: batch, draws: draws)
      let out = "\(variant).out\(k)."
      for name in ["critic_loss", "actor_loss", "alpha"] {
        CQLOracleTests.close(Tensor([Float(m[name] ?? .nan)]), try tensor(out + name), "update \(k) \(name)")
      }
      if variant == "edac" {
        CQLOracleTests.close(Tensor([Float(m["diversity_loss"] ?? .nan)]), try tensor(out + "diversity_loss"), "update \(k) diversity")
      }
      let after = "\(variant).after\(k)."
      for (name, p) in agent.core.actor.namedParameters { CQLOracleTests.close(p, try tensor(after + "actor." + name), "update \(k) actor.\(name)") }
      for (name, p) in agent.core.critics.namedParameters { CQLOracleTests.close(p, try tensor(after + "critic." + name), "update \(k) critic.\(name)") }
      for (name, p) in agent.core.targetCritics.namedParameters {
        CQLOracleTests.close(p, try tensor(after + "target_critic." + name), "update \(k) target_critic.\(name)")
      }
      CQLOracleTests.close(agent.core.logTemperature, try tensor(after + "log_alpha"), "update \(k) log_alpha")
    }
  }
}
