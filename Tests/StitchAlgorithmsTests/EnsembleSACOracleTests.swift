import Foundation
import StitchData
import StitchNN
import StitchTensor
import Testing

@testable import StitchAlgorithms

/// Two SAC-N and two EDAC updates against PyTorch computing CORL edac.py's arithmetic (Fixtures/
/// edac_update_oracle.safetensors, made by scripts/fixtures/make_edac_fixture.py): CORL's order (temperature,
/// actor, critics, targets), its log-density with the 1e-6 guard, and EDAC's diversity term through PyTorch's
/// double backward. The same networks, batches and draws give the same losses, temperature and parameters after
/// each update.
@Suite struct EnsembleSACOracleTests {
  @Test(arguments: ["sacn", "edac"]) func twoUpdatesMatchCORLsArithmeticInPyTorch(variant: String) throws {
    let t = try Oracle.load("edac_update_oracle.safetensors")
    func tensor(_ name: String) throws -> Tensor { try Oracle.tensor(t, name) }
    var c = EDAC.defaultConfiguration
    c.critics = 3
    c.eta = variant == "edac" ? 1 : 0
    c.hiddenSizes = [8, 8, 8]
    c.targetUpdateRate = 0.05
    c.actorLearningRate = 1e-3
    c.criticLearningRate = 2e-3
    c.temperatureLearningRate = 3e-3
    var agent = EDAC(configuration: c, task: TaskSpec(id: "oracle", observationDim: 3, actionDim: 2), rng: RandomStream(seed: 0))
    let loaded = Oracle.checkpoint(t)
    try loaded.restore(&agent.core.actor, from: "actor.")
    try loaded.restore(&agent.core.critics, from: "critic.")
    try loaded.restore(&agent.core.targetCritics, from: "target_critic.")
    try loaded.restore(&agent.core.logTemperature, from: "log_alpha")
    for k in 1...2 {
      let batch = try Oracle.batch(t, k, size: 5)
      let draws = EnsembleSAC.Draws(temperature: try tensor("\(variant).draw\(k).temperature"),
                                    actor: try tensor("\(variant).draw\(k).actor"), next: try tensor("\(variant).draw\(k).next"))
      let m = try agent.core.update(on: batch, draws: draws)
      let out = "\(variant).out\(k)."
      for name in ["critic_loss", "actor_loss", "alpha"] + (variant == "edac" ? ["diversity_loss"] : []) {
        try Oracle.close(m, name, t, out + name)
      }
      try Oracle.compare(t, "\(variant).after\(k).", [("actor.", agent.core.actor.namedParameters), ("critic.", agent.core.critics.namedParameters),
                                                        ("target_critic.", agent.core.targetCritics.namedParameters)])
      Oracle.close(agent.core.logTemperature, try tensor("\(variant).after\(k).log_alpha"), "update \(k) log_alpha")
    }
  }
}
