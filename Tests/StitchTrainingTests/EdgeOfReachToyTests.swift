import Foundation
import StitchData
import StitchEnvironments
import StitchTensor
import StitchTestSupport
import Testing
@testable import StitchAlgorithms
@testable import StitchTraining

/// The edge-of-reach problem in minutes (issue 23, item 7; Sims et al. 2024 §4): on PointReach-v0, whose optimal
/// values are known in closed form, the base procedure (MBPO's rollouts on the *true* dynamics, SAC with two
/// critics, no penalty) and RAVL (the same rollouts, ten critics with EDAC's diversity term) are trained from a
/// random dataset near the start. At the edge-of-reach states of their rollouts (the states reached at the last of
/// k = 5 steps, which appear only as next states), the base procedure's Q(s, μ(s)) lies far above the true Q*(s, μ(s)), and RAVL's does not.
@Suite(.serialized) struct EdgeOfReachToyTests {
  static let dataset: Dataset = try! DatasetMaker.make("pointreach-random", size: 3000, seed: 0)

  /// Trains an agent by the trainer's loop (uniform dataset batches, the agent's own rollouts) for `steps`.
  static func train<A: Algorithm & DatasetConsumer & TrueDynamicsConsumer>(_ agent: inout A, steps: Int) throws {
    agent.attach(trueDynamics: try SimulatorDynamics(environment: "PointReach-v0"))
    try agent.prepare(dataset: dataset, normalizer: ObservationNormalizer(identity: 2), rewardScale: 1)
    let sampler = UniformSampler(dataset)
    var rng = RandomStream(seed: 1)
    var batch = Batch(size: 256, observationDim: 2, actionDim: 2)
    for _ in 0..<steps {
      sampler.sample(into: &batch, using: &rng)
      _ = try agent.update(on: batch)
    }
  }

  /// The last rollout epoch's states at step k (never a stored transition's start state: edge of reach).
  static func edgeOfReachStates(_ rollouts: ModelRollouts) -> [[Double]] {
    let f = rollouts.finalStates
    return (0..<(f.count / 2)).map { [Double(f[2 * $0]), Double(f[2 * $0 + 1])] }
  }

  /// Mean of Q(s, μ(s)) − Q*(s, μ(s)) over `states`, with Q*(s, a) = r(s, a) + γ·V*(s′) from the closed form.
  static func overestimation(_ states: [[Double]], q: (Tensor) -> Tensor, action: (Tensor) -> Tensor, discount: Double) -> Double {
    let x = Tensor(shape: [states.count, 2], scalars: states.flatMap { $0.map(Float.init) })
    let (learned, a) = withoutGradients { (q(x).scalars, action(x).scalars) }
    var sum = 0.0
    for (i, s) in states.enumerated() {
      let step = PointReach.projected([Double(a[2 * i]), Double(a[2 * i + 1])])
      let next = [s[0] + PointReach.stepSize * step[0], s[1] + PointReach.stepSize * step[1]]
      let optimal = -PointReach.distanceToGoal(next) + discount * PointReach.optimalValue(next, discount: discount)
      sum += Double(learned[i]) - optimal
    }
    return sum / Double(states.count)
  }

  /// The closed-form V* against a brute-force search over the 8 compass moves and the straight move (a policy
  /// cannot do better than the straight line, and the straight line attains the bound).
  @Test func optimalValueIsTheStraightLine() throws {
    var env = PointReach()
    for start in [[0.0, 0.0], [-0.5, 0.7], [1.05, 0.02], [3, -2]] {
      try env.setState(qpos: start, qvel: [])
      var ret = 0.0, weight = 1.0
      for _ in 0..<2000 {
        let d = [PointReach.goal.x - env.position[0], PointReach.goal.y - env.position[1]]
        let n = (d[0] * d[0] + d[1] * d[1]).squareRoot()
        let a = n > PointReach.stepSize ? [d[0] / n, d[1] / n] : [d[0] / PointReach.stepSize, d[1] / PointReach.stepSize]
        ret += weight * (try env.step(a).reward)
        weight *= 0.99
      }
      #expect(abs(ret - PointReach.optimalValue(start, discount: 0.99)) < 1e-9)
    }
  }

  @Test func ravlIsPessimisticAtEdgeOfReachStates() throws {
    // A small temperature held fixed, so soft values stay within 1e-3·log 4·γ/(1 − γ) ≈ 0.14 of the hard ones.
    let common = ["dynamics=true", "rollout_batch_size=1000", "rollout_frequency=250", "rollout_length=5", "initial_temperature=0.001"]
    var baseConfig = try ConfigResolver.resolve(MBPO.defaultConfiguration, overrides: common + ["hidden_sizes=[64,64]", "auto_temperature=false"])
    baseConfig.actorScheduleEpochs = 0
    var base = MBPO(configuration: baseConfig, task: TaskSpec(id: "PointReach-v0", observationDim: 2, actionDim: 2), rng: RandomStream(seed: 3))
    try Self.train(&base, steps: 3000)
    let ravlConfig = try ConfigResolver.resolve(RAVL.defaultConfiguration, overrides: common + ["hidden_sizes=[64,64]", "temperature_learning_rate=1e-12"])
    var ravl = RAVL(configuration: ravlConfig, task: TaskSpec(id: "PointReach-v0", observationDim: 2, actionDim: 2), rng: RandomStream(seed: 3))
    try Self.train(&ravl, steps: 3000)

    let baseEdge = Self.edgeOfReachStates(base.rollouts), ravlEdge = Self.edgeOfReachStates(ravl.rollouts)
    print("edge-of-reach toy: \(baseEdge.count) and \(ravlEdge.count) edge states")
    try #require(baseEdge.count > 100 && ravlEdge.count > 100)
    let baseOver = Self.overestimation(baseEdge, q: { base.sac.value($0) }, action: { SAC.policy(base.sac.actor, $0, logStdMin: -5).mode }, discount: 0.99)
    let ravlOver = Self.overestimation(ravlEdge, q: { ravl.core.value($0) }, action: { EnsembleSAC.policy(ravl.core.actor, $0).mode }, discount: 0.99)
    print("edge-of-reach toy: base procedure Q − Q* = \(baseOver) over \(baseEdge.count) states; RAVL \(ravlOver) over \(ravlEdge.count)")
    #expect(ravlOver < baseOver - 2)
    #expect(ravlOver < 0)
  }
}
