import Foundation
import StitchData
import StitchTensor
import StitchTestSupport
import Testing
@testable import StitchAlgorithms
@testable import StitchTraining

/// Issue 23's bad input: each a clear one-line error, and nothing trained on wrong data.
@Suite struct ModelBasedBadInputTests {
  static let hopper = TaskSpec(id: "Hopper-v4", observationDim: 11, actionDim: 3)
  static let dataset: Dataset = try! DatasetMaker.make("hopper-medium", size: 100, seed: 1)

  static func rollouts(model path: String, task: TaskSpec = hopper) -> ModelRollouts {
    var s = ModelRolloutSettings()
    s.dynamicsModel = path
    s.rolloutBatchSize = 16
    return ModelRollouts(settings: s, penaltyCoefficient: 0, task: task, rng: RandomStream(seed: 0))
  }

  /// A model of another task, or of other widths under the same name, is refused naming both.
  @Test func modelOfAnotherTask() throws {
    var other = Self.rollouts(model: ModelBasedFixtures.modelFile(task: "Pendulum-v1", observationDim: 3, actionDim: 1))
    #expect { try other.prepare(dataset: Self.dataset, normalizer: ObservationNormalizer(identity: 11), rewardScale: 1) } throws: {
      "\($0)".contains("a dynamics model of Pendulum-v1, not of Hopper-v4")
    }
    var widths = Self.rollouts(model: ModelBasedFixtures.modelFile(task: "Hopper-v4", observationDim: 5, actionDim: 3))
    #expect { try widths.prepare(dataset: Self.dataset, normalizer: ObservationNormalizer(identity: 11), rewardScale: 1) } throws: {
      "\($0)".contains("5-wide observations") && "\($0)".contains("has 11 and 3")
    }
    var missing = Self.rollouts(model: "/nonexistent/model.safetensors")
    #expect(throws: (any Error).self) { try missing.prepare(dataset: Self.dataset, normalizer: ObservationNormalizer(identity: 11), rewardScale: 1) }
  }

  /// A model whose prediction overflows stops the rollout naming the update, the step and the member; nothing of
  /// the failed step is stored.
  @Test func nonFiniteRolloutStopsNamingStepAndMember() throws {
    var rng = RandomStream(seed: 2)
    var model = DynamicsEnsemble(members: 3, observationDim: 11, actionDim: 3, hiddenSizes: [8, 8], weightDecays: [1e-4, 1e-4, 1e-4], rng: &rng)
    model.elites = [1]
    let last = model.network.layers.count - 1
    // Δs of member 1 overflows to +inf: a bias at Float's maximum plus positive terms.
    var bias = model.network.layers[last].bias.scalars
    let width = bias.count / 3
    for j in 0..<11 { bias[width + j] = Float.greatestFiniteMagnitude }
    model.network.layers[last].bias = Tensor(shape: model.network.layers[last].bias.shape, scalars: bias)
    var weight = model.network.layers[last].weight.scalars
    for i in 0..<weight.count { weight[i] = abs(weight[i]) * 1e37 }
    model.network.layers[last].weight = Tensor(shape: model.network.layers[last].weight.shape, scalars: weight)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-overflow-\(getpid()).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try DynamicsModelFile.write(model, task: "Hopper-v4", to: url)
    var r = Self.rollouts(model: url.path)
    try r.prepare(dataset: Self.dataset, normalizer: ObservationNormalizer(identity: 11), rewardScale: 1)
    #expect { _ = try r.rollout(policy: { obs, rng in Tensor.uniform([obs.shape[0], 3], in: -1...1, using: &rng) }) } throws: {
      let m = "\($0)"
      return m.contains("before update 1, step 1") && m.contains("elite member 1") && m.contains("non-finite")
    }
  }

  /// Rollout keys out of range are configuration errors, all named at once.
  @Test func rolloutKeysOutOfRange() throws {
    #expect { _ = try ConfigResolver.resolve(MOPO.defaultConfiguration, overrides: ["real_ratio=1.5", "rollout_length=0", "dynamics_mix=2"]) } throws: {
      let m = "\($0)"
      return m.contains("real_ratio = 1.5 must lie in [0, 1]") && m.contains("rollout_length") && m.contains("dynamics_mix = 2.0 must lie in [0, 1]")
    }
    #expect(throws: (any Error).self) { _ = try ConfigResolver.resolve(RAVL.defaultConfiguration, overrides: ["rollout_batch_size=0"]) }
    #expect(throws: (any Error).self) { _ = try ConfigResolver.resolve(MOBILE.defaultConfiguration, overrides: ["penalty_samples=0"]) }
  }
}
