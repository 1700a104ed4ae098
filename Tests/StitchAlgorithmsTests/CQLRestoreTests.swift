import Foundation
import StitchData
import StitchNN
import StitchTensor
import Testing

@testable import StitchAlgorithms

/// `CQL.restore` refuses a CQL-Lagrange checkpoint whose log α' optimiser state is missing or malformed, with the
/// entry named (it ignored such errors with `try?` and resumed with fresh Adam moments: issue 21 §3 item 7).
@Suite struct CQLRestoreTests {
  static let task = TaskSpec(id: "restore", observationDim: 3, actionDim: 2)

  static func configuration() -> CQL.Configuration {
    var c = CQL.defaultConfiguration
    c.lagrange = true
    c.actorHiddenSizes = [8]
    c.criticHiddenSizes = [8]
    c.sampledActions = 2
    return c
  }

  /// A CQL-Lagrange agent's checkpoint after two updates (so log α' has Adam moments and step 2).
  static func checkpoint() throws -> Checkpoint {
    var agent = CQL(configuration: configuration(), task: task, rng: RandomStream(seed: 1))
    var rng = RandomStream(seed: 2)
    var b = Batch(size: 4, observationDim: 3, actionDim: 2)
    b.observations = Tensor.normal([4, 3], using: &rng)
    b.actions = Tensor.uniform([4, 2], in: -0.9...0.9, using: &rng)
    b.rewards = Tensor.normal([4, 1], using: &rng)
    b.nextObservations = Tensor.normal([4, 3], using: &rng)
    for _ in 0..<2 { _ = try agent.update(on: b) }
    var ck = Checkpoint()
    agent.store(into: &ck)
    return ck
  }

  /// The error restoring `ck` into a fresh agent, as text ("" if it restored).
  static func restoreError(_ ck: Checkpoint) -> String {
    var fresh = CQL(configuration: configuration(), task: task, rng: RandomStream(seed: 9))
    do { try fresh.restore(from: ck); return "" } catch { return "\(error)" }
  }

  @Test func completeCheckpointRestoresLogAlphaPrimesMoments() throws {
    let ck = try Self.checkpoint()
    #expect(ck.metadata["cql_alpha_optimizer.step"] == "2")
    var fresh = CQL(configuration: Self.configuration(), task: Self.task, rng: RandomStream(seed: 9))
    try fresh.restore(from: ck)
    var again = Checkpoint()
    fresh.store(into: &again)
    for name in ["cql_alpha_optimizer.exp_avg.0", "cql_alpha_optimizer.exp_avg_sq.0"] {
      let saved = try #require(ck.tensors[name], "checkpoint lacks \(name)")
      #expect(again.tensors[name]?.isIdentical(to: saved) == true, "\(name) not restored")
    }
  }

  @Test func missingMomentIsRefusedByName() throws {
    var ck = try Self.checkpoint()
    ck.tensors["cql_alpha_optimizer.exp_avg_sq.0"] = nil
    let message = Self.restoreError(ck)
    #expect(message.contains("'cql_alpha_optimizer.exp_avg_sq.0'"), "\(message)")
  }

  @Test func misshapenMomentIsRefusedByName() throws {
    var ck = try Self.checkpoint()
    ck.tensors["cql_alpha_optimizer.exp_avg.0"] = Tensor.zeros([2])
    let message = Self.restoreError(ck)
    #expect(message.contains("'cql_alpha_optimizer.exp_avg.0'") && message.contains("shape"), "\(message)")
  }

  @Test func missingOrMalformedStepIsRefusedByName() throws {
    for step in [nil, "two"] as [String?] {
      var ck = try Self.checkpoint()
      ck.metadata["cql_alpha_optimizer.step"] = step
      let message = Self.restoreError(ck)
      #expect(message.contains("'cql_alpha_optimizer.step'"), "step \(step ?? "absent"): \(message)")
    }
  }
}
