import Foundation
import StitchData
import StitchEnvironments
import StitchNN
import StitchTensor
import Testing
@testable import StitchAlgorithms

@testable import StitchTraining

/// Every algorithm's checkpoint holds exactly the state its restore reads: each stored tensor and metadata entry is
/// needed (removing or garbling any one of them makes restore fail naming that key), and restoring the whole
/// checkpoint into a fresh instance gives back the same bytes. Run after a few updates, so that every optimizer
/// has stepped (TD3+BC's delayed actor too), and for CQL with and without its Lagrange multiplier's optimizer.
@Suite struct AlgorithmStateTests {
  static let task = TaskSpec(id: "state-test", observationDim: 3, actionDim: 2)

  struct KeyAudit: AlgorithmVisitor {
    let overrides: [String]
    func visit<A: Algorithm>(_ type: A.Type) throws -> [String] {
      let config = try ConfigResolver.resolve(A.defaultConfiguration, overrides: overrides)
      var agent = A(configuration: config, task: AlgorithmStateTests.task, rng: RandomStream(seed: 3))
      var rng = RandomStream(seed: 4)
      if var consumer = agent as? any DatasetConsumer {
        // Model-based agents draw rollout starts from a dataset of the task's widths.
        var ds = Dataset(observationDim: 3, actionDim: 2)
        for _ in 0..<20 {
          ds.append(observation: Tensor.normal([3], using: &rng).scalars, action: Tensor.uniform([2], in: -1...1, using: &rng).scalars,
                    reward: 0, nextObservation: Tensor.normal([3], using: &rng).scalars, terminal: false, timeout: false)
        }
        try consumer.prepare(dataset: ds, normalizer: ObservationNormalizer(identity: 3), rewardScale: 1)
        agent = consumer as! A
      }
      var batch = Batch(size: 8, observationDim: 3, actionDim: 2)
      for _ in 0..<4 {
        batch.observations = Tensor.normal([8, 3], using: &rng)
        batch.nextObservations = Tensor.normal([8, 3], using: &rng)
        batch.actions = Tensor.uniform([8, 2], in: -1...1, using: &rng)
        batch.nextActions = Tensor.uniform([8, 2], in: -1...1, using: &rng)
        batch.rewards = Tensor.normal([8], using: &rng)
        _ = try agent.update(on: batch)
      }
      var saved = Checkpoint()
      agent.store(into: &saved)
      var problems: [String] = []
      if saved.tensors.isEmpty || saved.metadata.isEmpty { problems.append("nothing stored") }
      // The whole checkpoint restores, and the restored state stores the same tensors and metadata.
      var fresh = A(configuration: config, task: AlgorithmStateTests.task, rng: RandomStream(seed: 99))
      try fresh.restore(from: saved)
      var again = Checkpoint()
      fresh.store(into: &again)
      if Set(again.tensors.keys) != Set(saved.tensors.keys) { problems.append("restored state stores other tensors") }
      for (key, t) in saved.tensors where !(again.tensors[key].map { t.isIdentical(to: $0) } ?? false) {
        problems.append("tensor \(key) changed in a store-restore-store round trip")
      }
      if again.metadata != saved.metadata { problems.append("metadata changed in a store-restore-store round trip") }
      // Each key is read: without it, or with it garbled, restore fails and names it.
      func refuses(_ damaged: Checkpoint, _ key: String, _ how: String) {
        var target = A(configuration: config, task: AlgorithmStateTests.task, rng: RandomStream(seed: 99))
        do {
          try target.restore(from: damaged)
          problems.append("restore ignored \(how) \(key)")
        } catch {
          if !"\(error)".contains("'\(key)'") { problems.append("\(how) \(key): error does not name it: \(error)") }
        }
      }
      for key in saved.tensors.keys.sorted() {
        var damaged = saved
        damaged.tensors[key] = nil
        refuses(damaged, key, "missing tensor")
        damaged.tensors[key] = Tensor.zeros([saved.tensors[key]!.count + 1])
        refuses(damaged, key, "misshapen tensor")
      }
      for key in saved.metadata.keys.sorted() {
        var damaged = saved
        damaged.metadata[key] = nil
        refuses(damaged, key, "missing metadata")
        damaged.metadata[key] = "garbled"
        refuses(damaged, key, "garbled metadata")
      }
      return problems
    }
  }

  static let cases: [(String, [String])] = [
    ("bc", ["hidden_sizes=[8,8]"]),
    ("td3bc", ["hidden_sizes=[8,8]"]),
    ("iql", ["hidden_sizes=[8,8]"]),
    ("cql", ["actor_hidden_sizes=[8,8]", "critic_hidden_sizes=[8,8]", "sampled_actions=3"]),
    ("cql", ["actor_hidden_sizes=[8,8]", "critic_hidden_sizes=[8,8]", "sampled_actions=3", "lagrange=true"]),
    ("rebrac", ["hidden_sizes=[8,8]"]),
    ("sacn", ["hidden_sizes=[8,8]", "critics=3"]),
    ("edac", ["hidden_sizes=[8,8]", "critics=3"]),
    ("sac", ["hidden_sizes=[8,8]"]),
    ("calql", ["actor_hidden_sizes=[8,8]", "critic_hidden_sizes=[8,8]", "sampled_actions=3"]),
    ("rlpd", ["hidden_sizes=[8,8]", "critics=3", "utd=2"]),
    ("wsrl", ["hidden_sizes=[8,8]", "critics=3", "sampled_actions=2", "utd=2"]),
    ("mbpo", ModelBasedFixtures.overrides(task: "state-test", observationDim: 3, actionDim: 2)),
    ("mopo", ModelBasedFixtures.overrides(task: "state-test", observationDim: 3, actionDim: 2)),
    ("mobile", ModelBasedFixtures.overrides(task: "state-test", observationDim: 3, actionDim: 2) + ["penalty_samples=2"]),
    ("ravl", ModelBasedFixtures.overrides(task: "state-test", observationDim: 3, actionDim: 2) + ["critics=3"]),
  ]

  @Test(arguments: cases)
  func everyStoredKeyIsReadByRestore(_ algorithm: String, _ overrides: [String]) throws {
    let type = try #require(AlgorithmRegistry.named(algorithm))
    let problems = try withAlgorithm(type, KeyAudit(overrides: overrides))
    #expect(problems.isEmpty, "\(algorithm) \(overrides): \(problems)")
  }

  /// Every registered algorithm is in the table above.
  @Test func everyAlgorithmIsAudited() {
    #expect(Set(AlgorithmRegistry.all.map { $0.id }) == Set(Self.cases.map(\.0)))
  }

  /// An optimizer that has not stepped (TD3+BC's delayed actor after one update) stores only its step and
  /// restores as fresh: resuming there continues exactly as the uninterrupted instance.
  @Test func anOptimizerThatHasNotSteppedRestores() throws {
    var c = TD3BC.defaultConfiguration
    c.hiddenSizes = [8]
    var agent = TD3BC(configuration: c, task: Self.task, rng: RandomStream(seed: 1))
    var rng = RandomStream(seed: 2)
    var batch = Batch(size: 4, observationDim: 3, actionDim: 2)
    batch.observations = Tensor.normal([4, 3], using: &rng)
    batch.nextObservations = Tensor.normal([4, 3], using: &rng)
    batch.actions = Tensor.uniform([4, 2], in: -1...1, using: &rng)
    _ = try agent.update(on: batch)
    var saved = Checkpoint()
    agent.store(into: &saved)
    #expect(saved.metadata["actor_optimizer.step"] == "0")
    var resumed = TD3BC(configuration: c, task: Self.task, rng: RandomStream(seed: 7))
    try resumed.restore(from: saved)
    _ = try agent.update(on: batch)
    _ = try resumed.update(on: batch)
    var a = Checkpoint(), b = Checkpoint()
    agent.store(into: &a)
    resumed.store(into: &b)
    #expect(a.metadata == b.metadata)
    #expect(a.tensors.count == b.tensors.count && a.tensors.allSatisfy { entry in b.tensors[entry.key].map { entry.value.isIdentical(to: $0) } ?? false })
  }
}
