import Dispatch

/// The outcome of evaluating a policy for several episodes.
public struct EvaluationResult: Sendable {
  public var returns: [Double]
  public var lengths: [Int]
  public var task: String
  public var meanReturn: Double { returns.reduce(0, +) / Double(max(returns.count, 1)) }
  /// Population standard deviation of the episode returns.
  public var returnStd: Double {
    let m = meanReturn
    return (returns.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(max(returns.count, 1))).squareRoot()
  }
  /// D4RL normalized score (×100) of the mean return, as CORL reports it; nil without reference scores.
  public var normalizedScore: Double? { NormalizedScore.score(task: task, return: meanReturn) }
  /// Normalized scores of the individual episodes (their std is what RAVL reports).
  public var normalizedScores: [Double]? {
    NormalizedScore.references(for: task) == nil ? nil : returns.map { NormalizedScore.score(task: task, return: $0)! }
  }
}

/// Runs evaluation episodes on all cores.
public enum PolicyEvaluation {
  /// Runs `episodes` episodes of task `id`, episode i reset with seed `seed + i`, in parallel across cores
  /// (one environment and one copy of `policy` per episode, reset at the episode's start), so the result is the
  /// same whatever the scheduling.
  /// - Throws: the first environment or policy error (unknown id, invalid action, wrong observation width).
  public static func run(_ id: String, episodes: Int = 10, seed: UInt64 = 0, policy: some EpisodePolicy) throws -> EvaluationResult {
    _ = try EnvironmentRegistry.make(id)  // fail fast on an unknown id
    let results = UnsafeMutableBufferPointer<(Double, Int, String?)>.allocate(capacity: episodes)
    results.initialize(repeating: (0, 0, nil))
    defer { results.deallocate() }
    let sink = ResultSink(results)
    DispatchQueue.concurrentPerform(iterations: episodes) { i in
      do {
        var env = try EnvironmentRegistry.make(id)
        var agent = policy
        agent.reset()
        var obs = try env.reset(seed: seed &+ UInt64(i)).observation
        var total = 0.0, length = 0, reward = 0.0
        while true {
          let s = try env.step(agent.act(obs, lastReward: reward))
          total += s.reward
          length += 1
          obs = s.observation
          reward = s.reward
          if s.terminated || s.truncated { break }
        }
        sink.set(i, (total, length, nil))
      } catch {
        sink.set(i, (0, 0, "\(error)"))
      }
    }
    if let failure = results.first(where: { $0.2 != nil })?.2 { throw EnvironmentError.invalidAction(failure) }
    return EvaluationResult(returns: results.map(\.0), lengths: results.map(\.1), task: id)
  }

  /// Runs a memoryless policy (a function of the observation, called concurrently from several threads).
  public static func run(_ id: String, episodes: Int = 10, seed: UInt64 = 0,
                         policy: @escaping @Sendable ([Double]) -> [Double]) throws -> EvaluationResult {
    try run(id, episodes: episodes, seed: seed, policy: StatelessPolicy(policy))
  }
}

/// Each worker writes only its own slot.
final class ResultSink: @unchecked Sendable {
  let buffer: UnsafeMutableBufferPointer<(Double, Int, String?)>
  init(_ buffer: UnsafeMutableBufferPointer<(Double, Int, String?)>) { self.buffer = buffer }
  func set(_ i: Int, _ value: (Double, Int, String?)) { buffer[i] = value }
}
