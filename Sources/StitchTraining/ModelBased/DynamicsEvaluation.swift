import Foundation
import StitchAlgorithms
import StitchData
import StitchEnvironments
import StitchNN

import StitchTensor

/// How good a dynamics model is on a dataset (`stitch dynamics eval`):
/// - per target dimension ([Δs…, r]) the elites' mean MSE and Gaussian NLL ½(log 2π + lv + (y − μ)²e^{−lv}) on
///   the evaluation rows (the training holdout when the dataset is the one the model was trained on, else every
///   row);
/// - the k-step open-loop error: from start rows whose next k − 1 rows continue the same episode, the model
///   (each elite's mean prediction, averaged over the elites, fed back as its own input) and the simulator (set to
///   the row's `infos/qpos`, `infos/qvel`, stepped with the dataset's actions) are rolled k steps; the RMS over
///   observation dimensions of their difference, beside the "no change" baseline (the start observation against
///   the simulator's). Without simulator states the dataset's own successors stand in for the simulator (the same
///   actions from the same states; `truth` says which).
public struct DynamicsEvaluation: Sendable {
  public var rows: Int
  public var rowsAreHoldout: Bool
  /// Per target dimension (observation dims, then reward).
  public var mse: [Double]
  public var nll: [Double]
  /// Per k = 1…H: model RMS error, no-change RMS error, starts used.
  public var openLoop: [(k: Int, model: Double, noChange: Double, starts: Int)]
  public var truth: String

  /// - Parameters:
  ///   - holdout: the rows to evaluate one-step errors on (nil: all).
  ///   - horizon: H for the open-loop error; `starts` start rows drawn with `seed`.
  ///   - ds: the dataset with actions in [−1, 1] (as the model was trained); `scaling` maps them back for the
  ///     simulator.
  public static func evaluate(_ model: DynamicsEnsemble, dataset ds: Dataset, environment: String, scaling: ActionScaling, holdout: [Int]?,
                              horizon: Int, starts: Int, seed: UInt64) throws -> DynamicsEvaluation {
    guard ds.observationDim == model.observationDim, ds.actionDim == model.actionDim else {
      throw DynamicsError("the model predicts \(model.observationDim)-wide observations from \(model.actionDim)-wide actions; the dataset has \(ds.observationDim) and \(ds.actionDim)")
    }
    guard horizon >= 1 else { throw DynamicsError("--horizon must be at least 1, got \(horizon)") }
    let od = ds.observationDim, ad = ds.actionDim, d = model.targetDim
    let evalRows = holdout ?? Array(0..<ds.count)
    let (inputs, targets) = DynamicsTraining.inputsAndTargets(ds)
    var mse = [Double](repeating: 0, count: d), nll = [Double](repeating: 0, count: d)
    let chunk = 4096
    var start = 0
    while start < evalRows.count {
      let rows = Array(evalRows[start..<Swift.min(start + chunk, evalRows.count)])
      var x = [Float](), y = [Float]()
      for r in rows { x += inputs[(r * (od + ad))..<((r + 1) * (od + ad))]; y += targets[(r * d)..<((r + 1) * d)] }
      let (mean, lv) = withoutGradients { model.meanAndLogVariance(model.scale(Tensor(shape: [rows.count, od + ad], scalars: x))) }
      let m = mean.scalars, l = lv.scalars
      for e in model.elites {
        for (k, _) in rows.enumerated() {
          for j in 0..<d {
            let i = (e * rows.count + k) * d + j
            let err = Double(m[i] - y[k * d + j])
            mse[j] += err * err
            nll[j] += 0.5 * (Foundation.log(2 * Double.pi) + Double(l[i]) + err * err * Foundation.exp(-Double(l[i])))
          }
        }
      }
      start += chunk
    }
    let denominator = Double(evalRows.count * model.elites.count)
    mse = mse.map { $0 / denominator }
    nll = nll.map { $0 / denominator }

    // Open loop: start rows with `horizon` rows of the same episode ahead.
    let episodes = ds.episodes
    var candidates: [Int] = []
    for ep in episodes where ep.length >= horizon {
      candidates += ep.start...(ep.start + ep.length - horizon)
    }
    var rng = RandomStream(seed: seed)
    var chosen: [Int] = []
    if !candidates.isEmpty {
      for _ in 0..<Swift.min(starts, candidates.count) { chosen.append(candidates[rng.nextInt(below: candidates.count)]) }
    }
    let simulator = ds.infos["qpos"] != nil && ds.infos["qvel"] != nil
    var modelError = [Double](repeating: 0, count: horizon), baseline = [Double](repeating: 0, count: horizon)
    for row in chosen {
      var state = Array(ds.observations[(row * od)..<((row + 1) * od)])
      let first = state
      var env: (any Environment)? = nil
      if simulator, let s = ds.simulatorState(row) { env = try EnvironmentRegistry.make(environment, qpos: s.qpos, qvel: s.qvel) }
      for k in 0..<horizon {
        let action = Array(ds.actions[((row + k) * ad)..<((row + k + 1) * ad)])
        let truth: [Float]
        if var e = env {
          truth = try e.step(scaling.toEnvironment(action)).observation.map(Float.init)
          env = e
        } else {
          truth = Array(ds.nextObservations[((row + k) * od)..<((row + k + 1) * od)])
        }
        let (mean, _) = withoutGradients {
          model.meanAndLogVariance(model.scale(Tensor(shape: [1, od + ad], scalars: state + action)))
        }
        let m = mean.scalars
        var next = [Float](repeating: 0, count: od)
        for e in model.elites { for j in 0..<od { next[j] += m[e * d + j] } }
        for j in 0..<od { next[j] = state[j] + next[j] / Float(model.elites.count) }
        state = next
        modelError[k] += zip(next, truth).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(od)
        baseline[k] += zip(first, truth).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(od)
      }
    }
    let n = Double(Swift.max(chosen.count, 1))
    let openLoop = (0..<horizon).map { (k: $0 + 1, model: (modelError[$0] / n).squareRoot(), noChange: (baseline[$0] / n).squareRoot(), starts: chosen.count) }
    return DynamicsEvaluation(rows: evalRows.count, rowsAreHoldout: holdout != nil, mse: mse, nll: nll, openLoop: openLoop,
                              truth: simulator ? "simulator (infos/qpos, infos/qvel)" : "the dataset's recorded successors (no infos/qpos, infos/qvel)")
  }
}
