import Foundation
import StitchData
import StitchNN
import StitchTensor
import Testing

@testable import StitchAlgorithms

/// MOBILE's Bellman-inconsistency penalty against OfflineRL-Kit's `compute_lcb` and `sample_next_obss`, followed
/// statement by statement by scripts/fixtures/make_mobile_fixture.py (4 members with the unsorted elites [2, 0],
/// 3 samples, an actor and two target critics of 8 × 8, the reference's own draws for the next states and the
/// policy's reparameterised sample).
@Suite struct MOBILEPenaltyOracleTests {
  @Test func penaltyMatchesTheReference() throws {
    let t = try Oracle.load("mobile_penalty_oracle.safetensors")
    let c = Oracle.checkpoint(t)
    var rng = RandomStream(seed: 0)
    var model = DynamicsEnsemble(members: 4, observationDim: 3, actionDim: 2, hiddenSizes: [8, 8, 8, 8], rng: &rng)
    try c.restore(&model, from: "model.")
    model.elites = try Oracle.tensor(t, "model.elites").scalars.map { Int($0) }
    model.inputMean = try Oracle.tensor(t, "scaler.mean").scalars
    model.inputStd = try Oracle.tensor(t, "scaler.std").scalars
    var actor = MLP(inputSize: 3, hiddenSizes: [8, 8], outputSize: 4, rng: &rng)
    try c.restore(&actor, from: "actor.")
    var critics = CriticEnsemble(members: 2, observationDim: 3, actionDim: 2, hiddenSizes: [8, 8], rng: &rng)
    try c.restore(&critics, from: "critic.")
    // The reference draws noise for [Δs, r]; the reward's is unused. Stitch takes the observation part.
    let full = try Oracle.tensor(t, "state_noise").scalars
    let stateNoise = (0..<(full.count / 4)).flatMap { k in full[(k * 4)..<(k * 4 + 3)] }
    let penalty = MOBILE.bellmanInconsistency(model: model, rawObservations: try Oracle.tensor(t, "obs").scalars,
                                              actions: try Oracle.tensor(t, "action").scalars, samples: 3, stateNoise: stateNoise,
                                              actionNoise: try Oracle.tensor(t, "action_noise"), actor: actor, logStdMin: -5,
                                              targetCritics: critics, normalise: { $0 })
    Oracle.close(Tensor(shape: [5], scalars: penalty), try Oracle.tensor(t, "penalty"), "penalty", relative: 1e-3, absolute: 1e-6)
  }
}
