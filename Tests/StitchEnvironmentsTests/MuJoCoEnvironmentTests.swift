import Foundation
import Testing

@testable import StitchEnvironments

@Suite struct MuJoCoEnvironmentTests {
  @Test func halfCheetahIsTruncatedAtTheLimitAndNeverTerminated() throws {
    var env = try EnvironmentRegistry.make("HalfCheetah-v4")
    _ = try env.reset(seed: 3)
    var steps = 0
    while true {
      let s = try env.step([Double](repeating: 0.3, count: 6))
      steps += 1
      #expect(!s.terminated)
      if s.truncated { break }
    }
    #expect(steps == 1000)
  }

  @Test(arguments: ["Hopper-v4", "Hopper-v5", "Walker2d-v4", "Walker2d-v5"])
  func fallingRobotsTerminateWithoutTruncation(_ id: String) throws {
    var env = try EnvironmentRegistry.make(id)
    _ = try env.reset(seed: 0)
    var last: Step?
    for _ in 0..<1000 {
      // Full torque on every joint topples the robot within a few dozen steps.
      let s = try env.step([Double](repeating: 1, count: env.actionSpace.size))
      last = s
      if s.terminated || s.truncated { break }
    }
    let s = try #require(last)
    #expect(s.terminated && !s.truncated, "\(id) should fall and terminate")
    // v4 pays the survival bonus on the terminating step, v5 does not (docs/facts.md §2d).
    #expect(s.info["reward_survive"] == (id.hasSuffix("v4") ? 1 : 0))
  }

  @Test func sameSeedGivesTheSameEpisode() throws {
    func episode(_ seed: UInt64) throws -> [Double] {
      var env = try EnvironmentRegistry.make("Walker2d-v4")
      var out = try env.reset(seed: seed).observation
      for t in 0..<20 { out += try env.step((0..<6).map { sin(Double(t + $0)) }).observation }
      return out
    }
    #expect(try episode(7) == episode(7))
    #expect(try episode(7) != episode(8))
  }

  @Test func resetNoiseHasGymnasiumsScale() throws {
    var env = try MuJoCoLocomotion<Hopper>(version: 4)
    let obs = try env.reset(seed: 1).observation
    // qpos[1:] = (1.25, 0, 0, 0, 0) + U(±5e-3); qvel = U(±5e-3).
    #expect(Swift.abs(obs[0] - 1.25) <= 5e-3)
    #expect(obs.dropFirst().allSatisfy { Swift.abs($0) <= 5e-3 })
    #expect(obs.contains { $0 != 0 })
  }

  @Test func badActionsAreRefusedAndLeaveTheStateUntouched() throws {
    var env = try MuJoCoLocomotion<Hopper>(version: 4)
    _ = try env.reset(seed: 0)
    let before = env.observation
    #expect(throws: EnvironmentError.self) { try env.step([0, .nan, 0]) }
    #expect(throws: EnvironmentError.self) { try env.step([0, 0]) }
    #expect(env.observation == before)
    do {
      _ = try env.step([0, 0])
    } catch {
      #expect("\(error)".contains("expects 3 action values, got 2"))
    }
  }

  @Test func steppingBeforeResetIsAnError() throws {
    var env = try MuJoCoLocomotion<Ant>(version: 5)
    #expect(throws: EnvironmentError.notReset("Ant-v5")) { try env.step([Double](repeating: 0, count: 8)) }
  }

  @Test func missingAndInvalidModelFilesAreNamed() throws {
    do {
      _ = try MuJoCoSimulation(modelPath: "/nonexistent/robot.xml")
      Issue.record("expected an error")
    } catch {
      #expect("\(error)".contains("/nonexistent/robot.xml"))
    }
    let bad = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-bad-\(UInt32.random(in: 0...UInt32.max)).xml")
    try "<mujoco><worldbody><body><geom type=\"capsule\"/></body></worldbody></mujoco".write(to: bad, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: bad) }
    do {
      _ = try MuJoCoSimulation(modelPath: bad.path)
      Issue.record("expected an error")
    } catch {
      let text = "\(error)"
      #expect(text.contains(bad.path) && text.contains("MuJoCo could not load"), "\(text)")
    }
  }

  @Test func wronglySizedStatesAreRefused() throws {
    #expect(throws: EnvironmentError.self) { _ = try EnvironmentRegistry.make("Hopper-v4", qpos: [0, 1.25], qvel: [0]) }
    #expect(throws: EnvironmentError.self) { _ = try EnvironmentRegistry.make("Hopper-v4", qpos: [0, .nan, 0, 0, 0, 0], qvel: [0, 0, 0, 0, 0, 0]) }
  }

  @Test func hopperEpisodeReturnUnderARandomPolicyIsInD4RLsRandomRange() throws {
    // D4RL's random reference for Hopper is −20.27 (mean over its random policy's episodes); a uniformly random
    // policy here scores on the same order: small, positive or negative, far from the expert's 3234.
    let result = try PolicyEvaluation.run("Hopper-v4", episodes: 10, seed: 0) { obs in
      // A deterministic pseudo-random policy: a hash of the observation picks each torque in [−1, 1].
      var g = EnvironmentRandom(seed: UInt64(bitPattern: Int64((obs.reduce(0, +) * 1e6).rounded())))
      return (0..<3).map { _ in g.uniform(-1, 1) }
    }
    #expect(result.meanReturn > -100 && result.meanReturn < 200, "random-policy return \(result.meanReturn)")
  }
}
