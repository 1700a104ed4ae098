import Foundation
import StitchAlgorithms
import StitchData
import StitchTensor

/// Small dynamics-model files for tests of the model-based agents: an untrained ensemble (3 members, 2 elites,
/// hidden 8 × 2) of the given task and widths, written once per process.
enum ModelBasedFixtures {
  static func modelFile(task: String, observationDim: Int, actionDim: Int) -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-dynamics-\(task)-\(observationDim)x\(actionDim)-\(getpid()).safetensors")
    if !FileManager.default.fileExists(atPath: url.path) {
      var rng = RandomStream(seed: 17)
      var model = DynamicsEnsemble(members: 3, observationDim: observationDim, actionDim: actionDim, hiddenSizes: [8, 8],
                                   weightDecays: [1e-4, 1e-4, 1e-4], rng: &rng)
      model.elites = [2, 0]
      try! DynamicsModelFile.write(model, task: task, to: url)
    }
    return url.path
  }

  /// Overrides that make a model-based agent tiny: the model above, rollouts of 6 states × 2 steps every 3 updates.
  static func overrides(task: String, observationDim: Int, actionDim: Int) -> [String] {
    ["dynamics_model=\(modelFile(task: task, observationDim: observationDim, actionDim: actionDim))", "rollout_batch_size=6",
     "rollout_length=2", "rollout_frequency=3", "hidden_sizes=[8,8]", "real_ratio=0.25"]
  }

  static var pendulum: [String] { overrides(task: "Pendulum-v1", observationDim: 3, actionDim: 1) }
}
