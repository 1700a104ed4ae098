import Foundation
import Testing

@testable import StitchEnvironments

/// Parity with Gymnasium 1.1.1 on mujoco 2.3.7 (Python) for every MuJoCo task, from traces made by
/// scripts/fixtures/make_mujoco_traces.py. Stitch links Debian's MuJoCo 2.2.2, which agrees with 2.3.x to
/// round-off, so:
/// - one step from Gymnasium's own recorded state must match to 1e-11 (relative to 1 + |value|): the only
///   difference is the physics library's last digits;
/// - whole trajectories (up to 60 steps, each from Stitch's previous step, through contacts and falls) must match
///   to 1e-9 and end with the same terminated flag at the same step (round-off grows through contacts, docs/stack.md;
///   measured here it stays below 1e-9 over these traces);
/// - functions of the state alone (observation, health, survival bonus) are checked exactly at recorded states
///   (Ant: to 1e-15, since Debian's MuJoCo renormalises the free joint's quaternion in the last bit).
/// Ant's forward velocity comes from the torso's `xpos`, which after `mj_step` still holds the kinematics of the
/// last substep's start (Gymnasium reads it so, and so does Stitch); a state set from (qpos, qvel) has fresh
/// kinematics instead, so Ant's xpos-derived terms are compared in the whole-trajectory test, not one step from a
/// recorded state.
@Suite struct MuJoCoParityTests {
  struct StepRecord: Decodable {
    var observation: [Double]; var reward: Double; var terminated: Bool; var truncated: Bool
    var info: [String: Double]; var qpos: [Double]; var qvel: [Double]
  }
  struct Trace: Decodable { var env: String; var qpos: [Double]; var qvel: [Double]; var actions: [[Double]]; var steps: [StepRecord] }
  struct File: Decodable { var gymnasium: String; var mujoco: String; var traces: [Trace] }

  static let file: File = {
    let url = Bundle.module.url(forResource: "Fixtures/mujoco_traces.json", withExtension: nil)!
    return try! JSONDecoder().decode(File.self, from: Data(contentsOf: url))
  }()

  static func close(_ a: Double, _ b: Double, _ tol: Double) -> Bool { Swift.abs(a - b) <= tol * (1 + Swift.abs(b)) }

  @Test(arguments: ["Hopper-v4", "Walker2d-v4", "HalfCheetah-v4", "Ant-v4", "Hopper-v5", "Walker2d-v5", "HalfCheetah-v5", "Ant-v5"])
  func oneStepFromGymnasiumStatesMatches(_ id: String) throws {
    let traces = Self.file.traces.filter { $0.env == id }
    #expect(traces.count == 2)
    for trace in traces {
      var qpos = trace.qpos, qvel = trace.qvel
      for (t, record) in trace.steps.enumerated() {
        var env = try EnvironmentRegistry.make(id, qpos: qpos, qvel: qvel)
        let step = try env.step(trace.actions[t])
        #expect(step.observation.count == record.observation.count)
        let worst = zip(step.observation, record.observation).map { Swift.abs($0 - $1) / (1 + Swift.abs($1)) }.max() ?? 0
        #expect(worst <= 1e-11, "\(id) step \(t): observation differs by \(worst)")
        let staleKeys: Set<String> = id.hasPrefix("Ant") ? ["x_velocity", "y_velocity", "reward_forward", "x_position", "y_position", "distance_from_origin", "forward_reward"] : []
        if staleKeys.isEmpty {
          #expect(Self.close(step.reward, record.reward, 1e-11), "\(id) step \(t): reward \(step.reward) vs \(record.reward)")
        } else {
          let x = step.info["reward_forward"]!, xGym = record.info["reward_forward"]!
          #expect(Self.close(step.reward - x, record.reward - xGym, 1e-12), "\(id) step \(t): reward terms other than forward")
        }
        #expect(step.terminated == record.terminated, "\(id) step \(t): terminated")
        #expect(!step.truncated)
        for (key, value) in record.info where !staleKeys.contains(key) {
          guard let mine = step.info[key] else { Issue.record("\(id): info lacks \(key)"); continue }
          #expect(Self.close(mine, value, 1e-11), "\(id) step \(t): info[\(key)] \(mine) vs \(value)")
        }
        qpos = record.qpos
        qvel = record.qvel
      }
    }
  }

  @Test(arguments: ["Hopper-v4", "Walker2d-v4", "HalfCheetah-v4", "Ant-v4", "Hopper-v5", "Walker2d-v5", "HalfCheetah-v5", "Ant-v5"])
  func wholeTrajectoriesMatch(_ id: String) throws {
    for trace in Self.file.traces where trace.env == id {
      var env = try EnvironmentRegistry.make(id, qpos: trace.qpos, qvel: trace.qvel)
      for (t, record) in trace.steps.enumerated() {
        let step = try env.step(trace.actions[t])
        do {
          let worst = zip(step.observation, record.observation).map { Swift.abs($0 - $1) / (1 + Swift.abs($1)) }.max() ?? 0
          #expect(worst <= 1e-9, "\(id) step \(t): observation drifted by \(worst)")
          #expect(Self.close(step.reward, record.reward, 1e-9), "\(id) step \(t): reward \(step.reward) vs \(record.reward)")
        }
        #expect(step.terminated == record.terminated, "\(id) step \(t): terminated \(step.terminated) vs \(record.terminated)")
        if step.terminated { break }
      }
    }
  }

  /// Observations are functions of (qpos, qvel) (Ant v5 also of the contact forces MuJoCo computes from them):
  /// set Gymnasium's recorded state and read the observation back.
  @Test func observationsFromRecordedStatesAreExact() throws {
    for trace in Self.file.traces where !trace.env.hasPrefix("Ant-v5") {
      for record in trace.steps {
        let env = try EnvironmentRegistry.make(trace.env, qpos: record.qpos, qvel: record.qvel)
        let obs: [Double]
        switch env {
        case let e as TimeLimit<MuJoCoLocomotion<Hopper>>: obs = e.base.observation
        case let e as TimeLimit<MuJoCoLocomotion<Walker2d>>: obs = e.base.observation
        case let e as TimeLimit<MuJoCoLocomotion<HalfCheetah>>: obs = e.base.observation
        case let e as TimeLimit<MuJoCoLocomotion<Ant>>: obs = e.base.observation
        default: Issue.record("unexpected environment type"); return
        }
        if trace.env.hasPrefix("Ant") {
          #expect(zip(obs, record.observation).allSatisfy { Swift.abs($0 - $1) <= 1e-15 * (1 + Swift.abs($1)) }, "\(trace.env): observation from the recorded state")
        } else {
          #expect(obs == record.observation, "\(trace.env): observation from the recorded state")
        }
      }
    }
  }

  @Test func fixtureRecordsItsVersions() {
    #expect(Self.file.gymnasium == "1.1.1")
    #expect(Self.file.mujoco.hasPrefix("2.3"))
  }
}
