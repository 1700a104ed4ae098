import Testing

import StitchEnvironments

@Suite struct EnvironmentTests {
  @Test(arguments: EnvironmentRegistry.ids)
  func conformsToGymnasiumContract(_ id: String) throws {
    // Same seed, same reset and same steps; observations in the space; flags never both set.
    var a = try EnvironmentRegistry.make(id), b = try EnvironmentRegistry.make(id)
    let (oa, _) = try a.reset(seed: 5), (ob, _) = try b.reset(seed: 5)
    #expect(oa == ob)
    var other = try EnvironmentRegistry.make(id)
    #expect(try other.reset(seed: 6).observation != oa)
    var rng = EnvironmentRandom(seed: 1)
    for _ in 0..<50 {
      let action = a.actionSpace.low.indices.map { rng.uniform(a.actionSpace.low[$0], a.actionSpace.high[$0]) }
      let sa = try a.step(action), sb = try b.step(action)
      #expect(sa.observation == sb.observation && sa.reward == sb.reward)
      #expect(a.observationSpace.contains(sa.observation), "\(id): \(sa.observation) outside the space")
      #expect(!(sa.terminated && sa.truncated))
      if sa.terminated || sa.truncated { break }
    }
  }

  @Test func badActionsAreRejectedWithoutTouchingTheState() throws {
    var env = try EnvironmentRegistry.make("Pendulum-v1")
    _ = try env.reset(seed: 0)
    #expect(throws: EnvironmentError.self) { try env.step([.nan]) }
    #expect(throws: EnvironmentError.self) { try env.step([0, 0]) }
    var reference = try EnvironmentRegistry.make("Pendulum-v1")
    _ = try reference.reset(seed: 0)
    #expect(try env.step([0.5]).observation == reference.step([0.5]).observation)
  }

  @Test func unknownIdListsKnownOnes() {
    do { _ = try EnvironmentRegistry.make("Hoper-v4"); Issue.record("expected an error") } catch {
      #expect("\(error)".contains("Hoper-v4"))
      #expect("\(error)".contains("Pendulum-v1"))
    }
  }

  @Test func timeLimitTruncatesAtTheLimit() throws {
    var env = TimeLimit(Pendulum(), limit: 3)
    _ = try env.reset(seed: 0)
    let flags = try (0..<3).map { _ in try env.step([0]).truncated }
    #expect(flags == [false, false, true])
  }

  @Test func normalizedScoreUsesD4RLReferences() {
    #expect(normalizedScore(task: "hopper-medium-v2", return: 3234.3) == 100)
    #expect(Swift.abs(normalizedScore(task: "Hopper-v4", return: -20.272305)!) < 1e-12)
    let half = (12135.0 - 280.178953) / 2
    #expect(Swift.abs(normalizedScore(task: "HalfCheetah-v5", return: half)! - 50) < 1e-9)
    #expect(NormalizedScore.family(of: "maze2d-umaze-v1") == "maze2d-umaze")
    #expect(normalizedScore(task: "CartPole-v1", return: 10) == nil)
  }

  @Test func evaluationIsParallelAndDeterministic() throws {
    let policy: @Sendable ([Double]) -> [Double] = { obs in [-2 * obs[1] - 0.5 * obs[2]] }
    let a = try PolicyEvaluation.run("Pendulum-v1", episodes: 6, seed: 10, policy: policy)
    let b = try PolicyEvaluation.run("Pendulum-v1", episodes: 6, seed: 10, policy: policy)
    #expect(a.returns == b.returns)
    #expect(a.lengths == Array(repeating: 200, count: 6))
    #expect(Set(a.returns).count == 6)
  }
}
