import Foundation
import Testing

import StitchEnvironments

/// Parity with Gymnasium 1.1.1 (traces made by scripts/fixtures/make_env_traces.py): from the same state and the
/// same actions, every step's observation, reward and flags match.
///
/// Gymnasium mixes float32 (actions, MountainCar's state, returned observations) and float64 arithmetic under
/// NumPy 2's promotion rules; Stitch reproduces the same roundings at the same points (see `Pendulum.step`), so
/// the tolerance is 1e-9: only libm's last-bit differences in sin/cos are allowed.
@Suite struct ClassicControlParityTests {
  struct Trace: Decodable {
    struct StepRecord: Decodable { var observation: [Double]; var reward: Double; var terminated: Bool; var truncated: Bool }
    var env: String; var state: [Double]; var actions: [[Double]]; var steps: [StepRecord]
  }
  struct File: Decodable { var gymnasium: String; var traces: [Trace] }

  static func traces() throws -> [Trace] {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/classic_traces.json", withExtension: nil))
    return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).traces
  }

  func replay<E: Environment & ClassicStateSettable>(_ env: E, _ trace: Trace) throws {
    var limited = TimeLimit(env, limit: env.maxEpisodeSteps!)
    _ = try limited.reset(seed: 0)
    try limited.base.setState(trace.state)
    for (i, expected) in trace.steps.enumerated() {
      // The script passed float32 actions to Gymnasium; give Stitch the same values.
      let s = try limited.step(trace.actions[i].map { Double(Float($0)) })
      let obsError = zip(s.observation, expected.observation).map { Swift.abs($0 - $1) }.max() ?? 0
      #expect(obsError < 1e-9, "\(trace.env) step \(i): observation \(s.observation) vs \(expected.observation)")
      #expect(Swift.abs(s.reward - expected.reward) < 1e-9 * Swift.max(1, Swift.abs(expected.reward)), "\(trace.env) step \(i): reward \(s.reward) vs \(expected.reward)")
      #expect(s.terminated == expected.terminated && s.truncated == expected.truncated, "\(trace.env) step \(i): flags")
      #expect(!(s.terminated && s.truncated))
    }
  }

  @Test func pendulumMatchesGymnasium() throws {
    let traces = try Self.traces().filter { $0.env == "Pendulum-v1" }
    #expect(traces.count == 2)
    #expect(traces.contains { $0.steps.last!.truncated })
    for t in traces { try replay(Pendulum(), t) }
  }

  @Test func mountainCarMatchesGymnasium() throws {
    let traces = try Self.traces().filter { $0.env == "MountainCarContinuous-v0" }
    #expect(traces.contains { $0.steps.last!.terminated })
    for t in traces { try replay(MountainCarContinuous(), t) }
  }
}
