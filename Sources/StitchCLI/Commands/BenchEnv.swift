import ArgumentParser
import Dispatch
import Foundation

import Stitch

/// `stitch bench env`: environment steps per second of the MuJoCo tasks against the bare physics rate.
struct BenchEnv: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "env",
    abstract: "Environment steps/s of each MuJoCo task (random policy, one core) beside the bare physics rate.",
    discussion: """
      For each task: steps_per_second = full environment steps (action check, ctrl, frame_skip × mj_step,
      observation, reward terms, health, time limit, resets) with uniformly random actions on one core;
      physics_steps_per_second = a loop of frame_skip × mj_step on the same model in the same run (random
      controls, the state reset every 1000 steps): the physical limit. overhead = 1 − env rate / physics rate.
      mj_steps_per_second = physics rate × frame_skip. The last row times the evaluation of 10 HalfCheetah-v4
      episodes (10,000 steps) on all cores against one core: parallel_speedup.
      benchmarks/env-vs-gymnasium runs this beside Gymnasium's Python environments.
      Example:
        stitch bench env --json
      """)

  @OptionGroup var options: BenchOptions
  @Option(help: "Comma-separated task ids (default: the v4 tasks).") var tasks: String = "Hopper-v4,HalfCheetah-v4,Walker2d-v4,Ant-v4"

  func run() throws {
    var results: [BenchResult] = []
    for id in tasks.split(separator: ",").map(String.init) {
      var env = try EnvironmentRegistry.make(id)
      guard let task = env as? any MuJoCoTask else { throw ValidationError("\(id) is not a MuJoCo task") }
      let n = env.actionSpace.size
      var rng = EnvironmentRandom(seed: 0)
      let actions = (0..<4096).map { _ in (0..<n).map { _ in rng.uniform(-1, 1) } }
      _ = try env.reset(seed: 0)
      var t = 0
      var episodes: UInt64 = 0
      let envRate = try options.harness.rate {
        let s = try env.step(actions[t & 4095])
        t += 1
        if s.terminated || s.truncated {
          episodes += 1
          _ = try env.reset(seed: episodes)
        }
      }
      let sim = try MuJoCoSimulation(modelPath: task.simulation.modelPath)
      let qpos0 = sim.initialQpos, qvel0 = [Double](repeating: 0, count: sim.nv)
      try sim.setState(qpos: qpos0, qvel: qvel0)
      var k = 0
      let frames = task.frameSkip
      let physicsRate = try options.harness.rate {
        sim.step(control: actions[k & 4095], frames: frames)
        k += 1
        if k % 1000 == 0 { try sim.setState(qpos: qpos0, qvel: qvel0) }
      }
      results.append(BenchResult(
        name: id, stepsPerSecond: envRate.median, gflops: nil, sgemmFraction: nil, threads: 1,
        extra: [("physics_steps_per_second", physicsRate.median), ("mj_steps_per_second", physicsRate.median * Double(frames)),
                ("overhead", 1 - envRate.median / physicsRate.median)]))
    }
    // Evaluation of 10 episodes: all cores against one.
    let policy: @Sendable ([Double]) -> [Double] = { obs in
      var g = EnvironmentRandom(seed: UInt64(bitPattern: Int64((obs[0] * 1e9).rounded(.towardZero))))
      return (0..<6).map { _ in g.uniform(-1, 1) }
    }
    func time(_ body: () throws -> Void) rethrows -> Double {
      let start = DispatchTime.now().uptimeNanoseconds
      try body()
      return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
    var serial = 0.0
    for i in 0..<10 { serial += try time { _ = try PolicyEvaluation.run("HalfCheetah-v4", episodes: 1, seed: UInt64(i), policy: policy) } }
    let parallel = try time { _ = try PolicyEvaluation.run("HalfCheetah-v4", episodes: 10, seed: 0, policy: policy) }
    results.append(BenchResult(name: "evaluate 10 episodes HalfCheetah-v4", stepsPerSecond: 10_000 / parallel, gflops: nil,
                               sgemmFraction: nil, threads: ProcessInfo.processInfo.activeProcessorCount,
                               extra: [("parallel_speedup", serial / parallel)]))
    BenchReport.print(results, json: options.json)
  }
}
