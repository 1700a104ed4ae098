import Foundation
import Testing

@testable import StitchEnvironments

/// `placeState` (the light reset true-dynamics rollouts use) steps to the same bits as `setState` (a full
/// `mj_resetData`), whatever the simulator did before: each state is placed right after stepping from another one.
@Suite struct PlaceStateTests {
  @Test(arguments: ["Hopper-v4", "Walker2d-v4", "HalfCheetah-v4", "Ant-v4", "Ant-v5"])
  func placedStatesStepLikeResetStates(id: String) throws {
    var full = try #require(try EnvironmentRegistry.makeSettable(id))
    var light = try #require(try EnvironmentRegistry.makeSettable(id))
    var rng = EnvironmentRandom(seed: 7)
    _ = try full.reset(seed: 1)
    let (qpos0, qvel0) = full.simulatorState
    let actions = full.actionSpace.low.count
    for trial in 0..<40 {
      let qpos = qpos0.map { $0 + rng.uniform(-0.3, 0.3) }, qvel = qvel0.map { _ in rng.uniform(-3, 3) }
      let action = (0..<actions).map { _ in rng.uniform(-1, 1) }
      try full.setState(qpos: qpos, qvel: qvel)
      try light.placeState(qpos: qpos, qvel: qvel)
      let a = try full.step(action), b = try light.step(action)
      #expect(a.observation == b.observation, "\(id) trial \(trial)")
      #expect(a.reward == b.reward && a.terminated == b.terminated)
      #expect(full.simulatorState.qpos == light.simulatorState.qpos && full.simulatorState.qvel == light.simulatorState.qvel)
      // Leave different histories behind: only the light one steps again before the next placement.
      _ = try light.step(action)
    }
  }
}
