import Foundation
import StitchData
import StitchNN
import StitchTensor
import Testing

@testable import StitchAlgorithms

/// The dynamics ensemble against OfflineRL-Kit's, re-implemented in PyTorch by
/// scripts/fixtures/make_dynamics_fixture.py (E = 4, 2 elites, 4 × 8 Swish, obs 3, action 2): the forward pass
/// with both soft log-variance bounds, the training loss and its gradient, one Adam step, the holdout MSE, the
/// scaler with its std floor, the model step with MOPO's penalty, and the termination rules.
@Suite struct DynamicsEnsembleOracleTests {
  static let fixture = try! Oracle.load("dynamics_ensemble_oracle.safetensors")

  static func model() throws -> DynamicsEnsemble {
    var rng = RandomStream(seed: 0)
    var m = DynamicsEnsemble(members: 4, observationDim: 3, actionDim: 2, hiddenSizes: [8, 8, 8, 8], rng: &rng)
    try Oracle.checkpoint(fixture).restore(&m, from: "")
    return m
  }

  @Test func forwardLossGradientAndAdamStep() throws {
    let t = Self.fixture
    var m = try Self.model()
    let x = try Oracle.tensor(t, "learn.inputs"), y = try Oracle.tensor(t, "learn.targets")
    let (mean, logVariance) = m.meanAndLogVariance(x)
    Oracle.close(mean, try Oracle.tensor(t, "learn.mean"), "mean")
    Oracle.close(logVariance, try Oracle.tensor(t, "learn.logvar"), "logvar")
    Oracle.close(m.decayLoss().reshaped([1]), try Oracle.tensor(t, "learn.decay_loss"), "decay loss")
    let (loss, grad) = try valueWithGradient(at: m) { m in m.loss(scaledInputs: x, targets: y) }
    Oracle.close(Tensor([loss]), try Oracle.tensor(t, "learn.loss"), "loss")
    for (name, g) in grad.namedParameters { Oracle.close(g, try Oracle.tensor(t, "grad." + name), "grad." + name) }
    var adam = Adam(learningRate: 1e-3)
    adam.update(&m, along: grad)
    for (name, p) in m.namedParameters { Oracle.close(p, try Oracle.tensor(t, "after." + name), "after." + name, relative: 1e-4, absolute: 1e-6) }
  }

  @Test func holdoutMSEAndElites() throws {
    let t = Self.fixture
    let m = try Self.model()
    let mse = m.holdoutMSE(scaledInputs: try Oracle.tensor(t, "validate.inputs"), targets: try Oracle.tensor(t, "validate.targets"))
    Oracle.close(Tensor(shape: [4], scalars: mse.map(Float.init)), try Oracle.tensor(t, "validate.mse"), "holdout mse")
    let elites = (0..<4).sorted { mse[$0] < mse[$1] }.prefix(2).map(Float.init)
    #expect(elites == (try Oracle.tensor(t, "elites")).scalars)
  }

  @Test func scalerFloorsAConstantColumn() throws {
    let t = Self.fixture
    var m = try Self.model()
    m.fitScaler(try Oracle.tensor(t, "scaler.data").scalars)
    Oracle.close(Tensor(shape: [5], scalars: m.inputMean), try Oracle.tensor(t, "scaler.mean"), "scaler mean")
    Oracle.close(Tensor(shape: [5], scalars: m.inputStd), try Oracle.tensor(t, "scaler.std"), "scaler std")
    #expect(m.inputStd[2] == 1)
  }

  @Test func modelStepAndMOPOPenalty() throws {
    let t = Self.fixture
    var m = try Self.model()
    m.fitScaler(try Oracle.tensor(t, "scaler.data").scalars)
    let members = (try Oracle.tensor(t, "step.elite_index")).scalars.map { Int($0) }
    let (next, reward, penalty) = m.step(observations: try Oracle.tensor(t, "step.obs"), actions: try Oracle.tensor(t, "step.action"),
                                         noise: try Oracle.tensor(t, "step.noise"), memberOfRow: members)
    Oracle.close(Tensor(shape: [7, 3], scalars: next), try Oracle.tensor(t, "step.next_obs"), "next obs")
    Oracle.close(Tensor(shape: [7, 1], scalars: reward), try Oracle.tensor(t, "step.reward"), "reward")
    Oracle.close(Tensor(shape: [7], scalars: penalty), try Oracle.tensor(t, "step.penalty"), "penalty")
    let coefficient = (try Oracle.tensor(t, "step.penalty_coef")).scalars[0]
    let penalised = zip(reward, penalty).map { $0 - coefficient * $1 }
    Oracle.close(Tensor(shape: [7, 1], scalars: penalised), try Oracle.tensor(t, "step.penalized_reward"), "penalised reward")
  }

  /// Hopper: the intended rule (|s[1:]| < 100, Gymnasium's healthy_state_range), which OfflineRL-Kit's code
  /// writes without the lower bound (`term.hopper_done` differs from it exactly at s = −100 and −150). NaN rows
  /// are left out: rollouts stop the run on them instead. Walker2d: Gymnasium's rule has no ±100 range, so the
  /// fixture's rows that differ only in such an entry are compared against the rule without it.
  @Test func terminationRules() throws {
    let t = Self.fixture
    let hopper = try Oracle.tensor(t, "term.hopper_obs"), done = try Oracle.tensor(t, "term.hopper_done_abs100").scalars
    let reference = try Oracle.tensor(t, "term.hopper_done").scalars
    var compared = 0, differsFromReferenceCode = 0
    for r in 0..<hopper.shape[0] {
      let row = Array(hopper.scalars[(r * 11)..<((r + 1) * 11)])
      guard row.allSatisfy(\.isFinite) else { continue }
      #expect(Termination.hopper(row) == (done[r] != 0), "hopper row \(r): \(row)")
      if (done[r] != 0) != (reference[r] != 0) { differsFromReferenceCode += 1 }
      compared += 1
    }
    #expect(compared >= 12 && differsFromReferenceCode == 2)
    let walker = try Oracle.tensor(t, "term.walker2d_obs"), walkerDone = try Oracle.tensor(t, "term.walker2d_done").scalars
    compared = 0
    for r in 0..<walker.shape[0] {
      let row = Array(walker.scalars[(r * 17)..<((r + 1) * 17)])
      guard row.allSatisfy(\.isFinite) else { continue }
      if row.dropFirst(2).allSatisfy({ $0 > -100 && $0 < 100 }) {
        #expect(Termination.walker2d(row) == (walkerDone[r] != 0), "walker2d row \(r): \(row)")
        compared += 1
      }
    }
    #expect(compared >= 10)
    // Gymnasium's Walker2d checks only height and angle: a healthy pose with a large velocity entry goes on.
    var fast = [Float](repeating: 0, count: 17)
    fast[0] = 1.2
    fast[9] = 150
    #expect(!Termination.walker2d(fast))
    fast[0] = 0.8
    #expect(Termination.walker2d(fast))
    #expect(!Termination.terminates("HalfCheetah-v4") && Termination.rule(for: "HalfCheetah-v4")([Float](repeating: 500, count: 17)) == false)
  }
}
