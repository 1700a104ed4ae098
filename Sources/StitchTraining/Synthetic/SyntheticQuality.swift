import Foundation
import StitchAlgorithms
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN

import StitchTensor

/// How close synthetic transitions are to the real ones: per-dimension Wasserstein-1 distances and the MMD of
/// the joint distribution (both on z-scored transition vectors, so dimensions are comparable), and, for MuJoCo
/// tasks, the dynamics error: the simulator is put in the state the synthetic observation describes and stepped
/// with the synthetic action, and its next observation and reward are compared with the synthetic ones.
public struct SyntheticQuality: Codable, Sendable {
  /// W1 per dimension of [s, a, r, s', terminal] (z-scored units).
  public var wasserstein: [Double]
  public var meanWasserstein: Double
  /// Squared MMD with a Gaussian kernel, bandwidth = median pairwise distance of the pooled subsample.
  public var mmd: Double
  /// The same MMD between two disjoint halves of the real data: the value two samples of one distribution give.
  public var mmdRealVsReal: Double
  public var dynamics: DynamicsError?

  public struct DynamicsError: Codable, Sendable {
    /// Mean over checked rows of the mean squared next-observation error.
    public var nextObservationMSE: Double
    /// Mean absolute reward error.
    public var rewardMAE: Double
    /// Fraction of rows whose terminal flag matches the simulator's termination.
    public var terminalAgreement: Double
    public var rowsChecked: Int
    /// Rows whose observation does not determine the simulator state, with the reason.
    public var rowsSkipped: Int
    public var note: String
  }

  /// Compares up to `sampleSize` rows of each (uniform subsamples drawn from `seed`).
  public static func measure(real: Dataset, synthetic: Dataset, environment: String?, sampleSize: Int = 1000, seed: UInt64 = 0) throws -> SyntheticQuality {
    let layout = SynthER.layout(fitting: real)
    let d = layout.dimension
    var rng = RandomStream(seed: seed)
    func subsample(_ ds: Dataset, _ n: Int) -> [[Double]] {
      let rows = SynthER.normalize(SynthER.vectors(ds), layout)
      return (0..<Swift.min(n, ds.count)).map { _ in
        let i = rng.nextInt(below: ds.count)
        return (0..<d).map { Double(rows[i * d + $0]) }
      }
    }
    let a = subsample(real, sampleSize), b = subsample(synthetic, sampleSize)
    let w = (0..<d).map { j in wasserstein1(a.map { $0[j] }, b.map { $0[j] }) }
    let halfA = subsample(real, sampleSize), halfB = subsample(real, sampleSize)
    var q = SyntheticQuality(wasserstein: w, meanWasserstein: w.reduce(0, +) / Double(d), mmd: mmd(a, b), mmdRealVsReal: mmd(halfA, halfB))
    if let environment, ["Hopper-v", "Walker2d-v", "HalfCheetah-v", "Ant-v", "Pendulum-v1", "MountainCarContinuous-v0"].contains(where: environment.hasPrefix) {
      q.dynamics = try dynamicsError(synthetic, environment: environment, rows: Swift.min(sampleSize, synthetic.count), rng: &rng)
    }
    return q
  }

  /// W1 between two 1-D samples: ∫|F⁻¹(u) − G⁻¹(u)| du on 1000 quantiles.
  static func wasserstein1(_ x: [Double], _ y: [Double]) -> Double {
    let xs = x.sorted(), ys = y.sorted()
    let n = 1000
    var total = 0.0
    for k in 0..<n {
      let u = (Double(k) + 0.5) / Double(n)
      total += Swift.abs(xs[Int(u * Double(xs.count))] - ys[Int(u * Double(ys.count))])
    }
    return total / Double(n)
  }

  /// Unbiased squared MMD with a Gaussian kernel (Gretton et al. 2012, eq. 3), median-distance bandwidth.
  static func mmd(_ a: [[Double]], _ b: [[Double]]) -> Double {
    func dist2(_ p: [Double], _ q: [Double]) -> Double { zip(p, q).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
    let pooled = Array(a.prefix(200)) + Array(b.prefix(200))
    var ds: [Double] = []
    for i in pooled.indices { for j in (i + 1)..<pooled.count { ds.append(dist2(pooled[i], pooled[j])) } }
    ds.sort()
    let h = Swift.max(ds[ds.count / 2], 1e-12)
    func k(_ p: [Double], _ q: [Double]) -> Double { exp(-dist2(p, q) / h) }
    func meanWithin(_ s: [[Double]]) -> Double {
      var t = 0.0
      for i in s.indices { for j in s.indices where j != i { t += k(s[i], s[j]) } }
      return t / Double(s.count * (s.count - 1))
    }
    var cross = 0.0
    for p in a { for q in b { cross += k(p, q) } }
    return meanWithin(a) + meanWithin(b) - 2 * cross / Double(a.count * b.count)
  }

  /// Puts the simulator in each sampled row's state (positions excluded from the observation set to 0: the
  /// tasks are invariant to x, and Ant also to y) and compares one step with the row.
  static func dynamicsError(_ ds: Dataset, environment: String, rows: Int, rng: inout RandomStream) throws -> DynamicsError {
    let probe = try EnvironmentRegistry.make(environment)
    let classic = !(probe is any MuJoCoTask)
    let nq = (probe as? any MuJoCoTask)?.simulation.nq ?? 1, nv = (probe as? any MuJoCoTask)?.simulation.nv ?? 1
    let hidden = environment.hasPrefix("Ant") ? 2 : (classic ? 0 : 1)
    let clipped = environment.hasPrefix("Hopper") || environment.hasPrefix("Walker2d")
    let od = ds.observationDim, ad = ds.actionDim
    var mse = 0.0, mae = 0.0, agree = 0, checked = 0, skipped = 0
    for _ in 0..<rows {
      let i = rng.nextInt(below: ds.count)
      let obs = (0..<od).map { Double(ds.observations[i * od + $0]) }
      var qpos = [Double](repeating: 0, count: hidden) + Array(obs[0..<(nq - hidden)])
      var qvel = Array(obs[(nq - hidden)..<(nq - hidden + nv)])
      if environment.hasPrefix("Pendulum") {  // [cos θ, sin θ, θ̇] → θ, θ̇
        qpos = [atan2(obs[1], obs[0])]
        qvel = [obs[2]]
      }
      if clipped && qvel.contains(where: { Swift.abs($0) >= 10 }) { skipped += 1; continue }
      var env = try EnvironmentRegistry.make(environment, qpos: qpos, qvel: qvel)
      let action = (0..<ad).map { Double(ds.actions[i * ad + $0]) }
      let step = try env.step(action)
      let next = (0..<od).map { Double(ds.nextObservations[i * od + $0]) }
      mse += zip(step.observation, next).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(od)
      mae += Swift.abs(step.reward - Double(ds.rewards[i]))
      if step.terminated == ds.terminals[i] { agree += 1 }
      checked += 1
    }
    let note = classic
      ? (environment.hasPrefix("Pendulum") ? "θ = atan2(sin, cos) of the observation" : "the observation is the state")
      : clipped
      ? "rows with a velocity at the ±10 observation clip are skipped (the clipped observation does not give the true velocity); x is set to 0 (translation invariance)"
      : (hidden == 2 ? "x and y set to 0 (translation invariance); Ant-v5's contact-force part of the observation is not needed to set the state" : "x set to 0 (translation invariance)")
    let n = Double(Swift.max(checked, 1))
    return DynamicsError(nextObservationMSE: mse / n, rewardMAE: mae / n, terminalAgreement: Double(agree) / n,
                         rowsChecked: checked, rowsSkipped: skipped, note: note)
  }
}
