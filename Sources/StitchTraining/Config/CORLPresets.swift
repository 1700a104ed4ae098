import StitchAlgorithms
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN
import StitchTensor

/// CORL's per-dataset settings: what `configs/offline/<algo>/<env>/<dataset>_v2.yaml` in corl-team/CORL changes
/// from the script's defaults for each D4RL locomotion dataset (read from the YAML files themselves; docs/facts.md §2e
/// lists the same). `stitch train --preset hopper-medium` applies them, so reproducing a CORL row takes one flag
/// instead of a table lookup; `--config` and `--set` still override them.
///
/// Only the hyperparameters that differ from Stitch's defaults (which are the scripts' defaults) are listed; a
/// dataset CORL configures without changes has an empty preset. Every other value in those YAMLs equals the
/// algorithm's default here (checked once against the files: batch sizes, learning rates, network sizes, τ, γ).
public struct TrainingPreset: Sendable, Equatable {
  /// `--set`-style overrides, applied after the defaults and before `--config` and `--set`.
  public var overrides: [String]
  /// CORL's `normalize_reward: true`: rewards × 1000 / (max − min episode return).
  public var normalizeRewards: Bool

  public init(_ overrides: [String], normalizeRewards: Bool = false) {
    self.overrides = overrides
    self.normalizeRewards = normalizeRewards
  }

  /// The preset as the flags it amounts to (for messages).
  public var flags: String {
    let parts = overrides + (normalizeRewards ? ["--normalize-rewards"] : [])
    return parts.isEmpty ? "the defaults" : parts.joined(separator: ", ")
  }
}

public enum CORLPresets {
  /// An error naming what is missing: an algorithm CORL has no per-dataset configs for, or a dataset it has none
  /// for with this algorithm.
  public struct Unknown: Error, CustomStringConvertible {
    public let description: String
  }

  /// The D4RL locomotion datasets CORL configures for TD3+BC, IQL, CQL, ReBRAC and BC.
  static let allLocomotion: [String] = ["halfcheetah", "hopper", "walker2d"].flatMap { env in
    ["random", "medium", "medium-replay", "medium-expert", "expert", "full-replay"].map { "\(env)-\($0)" }
  }
  /// SAC-N and EDAC: CORL configures only the medium, medium-replay and medium-expert datasets.
  static let ensembleLocomotion: [String] = ["halfcheetah", "hopper", "walker2d"].flatMap { env in
    ["medium", "medium-replay", "medium-expert"].map { "\(env)-\($0)" }
  }

  /// Per algorithm id: the datasets CORL has a YAML for, and the presets that differ from the defaults.
  static let table: [String: (datasets: [String], differences: [String: TrainingPreset])] = [
    "bc": (allLocomotion, [:]),
    "td3bc": (allLocomotion, [:]),
    // configs/offline/iql/hopper/{medium,medium_replay,medium_expert}_v2.yaml
    "iql": (allLocomotion, [
      "hopper-medium": .init(["deterministic_actor=true", "target_update_rate=0.001"], normalizeRewards: true),
      "hopper-medium-replay": .init(["deterministic_actor=true", "target_update_rate=0.001"], normalizeRewards: true),
      "hopper-medium-expert": .init(["beta=6", "expectile=0.5"]),
    ]),
    // configs/offline/cql/hopper/medium_v2.yaml
    "cql": (allLocomotion, ["hopper-medium": .init([], normalizeRewards: true)]),
    // configs/offline/rebrac/*/*_v2.yaml: actor_bc_coef (β₁), critic_bc_coef (β₂); the default is 0.01 for both.
    "rebrac": (allLocomotion, [
      "halfcheetah-random": .init(["actor_penalty=0.001", "critic_penalty=0.1"]),
      "halfcheetah-medium": .init(["actor_penalty=0.001"]),
      "halfcheetah-medium-replay": .init(["critic_penalty=0.001"]),
      "halfcheetah-medium-expert": .init(["critic_penalty=0.1"]),
      "halfcheetah-full-replay": .init(["actor_penalty=0.001", "critic_penalty=0.1"]),
      "hopper-random": .init(["actor_penalty=0.001"]),
      "hopper-medium-replay": .init(["actor_penalty=0.05", "critic_penalty=0.5"]),
      "hopper-medium-expert": .init(["actor_penalty=0.1"]),
      "hopper-expert": .init(["actor_penalty=0.1", "critic_penalty=0.1"]),
      "walker2d-random": .init(["critic_penalty=0"]),
      "walker2d-medium": .init(["actor_penalty=0.05", "critic_penalty=0.1"]),
      "walker2d-medium-replay": .init(["actor_penalty=0.05"]),
      "walker2d-expert": .init(["critic_penalty=0.5"]),
    ]),
    // configs/offline/sac_n/*/*_v2.yaml: num_critics.
    "sacn": (ensembleLocomotion, [
      "hopper-medium": .init(["critics=500"]),
      "hopper-medium-replay": .init(["critics=200"]),
      "hopper-medium-expert": .init(["critics=200"]),
      "walker2d-medium": .init(["critics=20"]),
      "walker2d-medium-replay": .init(["critics=20"]),
      "walker2d-medium-expert": .init(["critics=20"]),
    ]),
    // configs/offline/edac/*/*_v2.yaml: num_critics and eta.
    "edac": (ensembleLocomotion, [
      "hopper-medium": .init(["critics=50"]),
      "hopper-medium-replay": .init(["critics=50"]),
      "hopper-medium-expert": .init(["critics=50"]),
      "halfcheetah-medium-expert": .init(["eta=5"]),
      "walker2d-medium-expert": .init(["eta=5"]),
    ]),
  ]

  /// The model-based agents' per-dataset (h, λ) and (h, β): OfflineRL-Kit's `run_example/run_mopo.py` docstring and
  /// `run_mobile.py`'s suggested settings (docs/facts.md §2f), for the medium, medium-replay and medium-expert
  /// datasets. MBPO has no penalty and RAVL's per-dataset values are not public (its paper's table, p.16, lists
  /// them; the code's README gives one default set), so they have none.
  static let modelBasedLocomotion: [String] = ["halfcheetah", "hopper", "walker2d"].flatMap { env in
    ["medium", "medium-replay", "medium-expert"].map { "\(env)-\($0)" }
  }
  static let offlineRLKit: [String: (datasets: [String], differences: [String: TrainingPreset])] = [
    "mopo": (modelBasedLocomotion, [
      "halfcheetah-medium": .init(["rollout_length=5", "penalty_coefficient=0.5"]),
      "hopper-medium": .init(["rollout_length=5", "penalty_coefficient=5.0"]),
      "walker2d-medium": .init(["rollout_length=5", "penalty_coefficient=0.5"]),
      "halfcheetah-medium-replay": .init(["rollout_length=5", "penalty_coefficient=0.5"]),
      "hopper-medium-replay": .init(["rollout_length=5", "penalty_coefficient=2.5"]),
      "walker2d-medium-replay": .init(["rollout_length=1", "penalty_coefficient=2.5"]),
      "halfcheetah-medium-expert": .init(["rollout_length=5", "penalty_coefficient=2.5"]),
      "hopper-medium-expert": .init(["rollout_length=5", "penalty_coefficient=5.0"]),
      "walker2d-medium-expert": .init(["rollout_length=1", "penalty_coefficient=2.5"]),
    ]),
    // run_mobile.py's docstring (OfflineRL-Kit e3ce697) also lists the random datasets. Its hopper-medium line
    // turns automatic α off (α = 0.2, `--alpha`); note that the script declares `--auto-alpha` with argparse's
    // `type=bool`, so `--auto-alpha False` on its command line still gives True: the reference's own hopper-medium
    // runs may not have had α fixed. The preset follows the docstring.
    "mobile": (modelBasedLocomotion + ["halfcheetah-random", "hopper-random", "walker2d-random"], [
      "halfcheetah-random": .init(["rollout_length=5", "penalty_coefficient=0.5"]),
      "hopper-random": .init(["rollout_length=5", "penalty_coefficient=5.0"]),
      "walker2d-random": .init(["rollout_length=5", "penalty_coefficient=2.0"]),
      "halfcheetah-medium": .init(["rollout_length=5", "penalty_coefficient=0.5"]),
      "hopper-medium": .init(["rollout_length=5", "penalty_coefficient=1.5", "auto_temperature=false", "initial_temperature=0.2"]),
      "walker2d-medium": .init(["rollout_length=5", "penalty_coefficient=0.5"]),
      "halfcheetah-medium-replay": .init(["rollout_length=5", "penalty_coefficient=0.1"]),
      "hopper-medium-replay": .init(["rollout_length=5", "penalty_coefficient=0.1"]),
      "walker2d-medium-replay": .init(["rollout_length=1", "penalty_coefficient=0.5"]),
      "halfcheetah-medium-expert": .init(["rollout_length=5", "penalty_coefficient=2.0"]),
      "hopper-medium-expert": .init(["rollout_length=5", "penalty_coefficient=1.5"]),
      "walker2d-medium-expert": .init(["rollout_length=1", "penalty_coefficient=1.5"]),
    ]),
  ]

  /// Whose per-dataset settings `--preset` applies for an algorithm ("CORL" or "OfflineRL-Kit").
  public static func source(algorithm: String) -> String { offlineRLKit[algorithm] != nil ? "OfflineRL-Kit" : "CORL" }

  /// `hopper-medium`, `hopper-medium-v2` and `hopper_medium_v2` all name the same dataset.
  public static func canonicalName(_ dataset: String) -> String {
    var name = dataset.lowercased().replacingOccurrences(of: "_", with: "-")
    for suffix in ["-v2", "-v0"] where name.hasSuffix(suffix) { name.removeLast(suffix.count) }
    return name
  }

  /// CORL's settings for `algorithm` (a Stitch id) on `dataset`.
  /// - Throws: `Unknown` naming the datasets CORL configures for the algorithm.
  public static func preset(algorithm: String, dataset: String) throws -> TrainingPreset {
    let source = table[algorithm] != nil ? "CORL" : "OfflineRL-Kit"
    guard let entry = table[algorithm] ?? offlineRLKit[algorithm] else {
      let known = (Array(table.keys) + Array(offlineRLKit.keys)).sorted()
      throw Unknown(description: "no per-dataset configs for \(algorithm) (presets exist for \(known.joined(separator: ", ")): CORL's and OfflineRL-Kit's)")
    }
    let name = canonicalName(dataset)
    guard entry.datasets.contains(name) else {
      throw Unknown(description: "\(source) has no \(algorithm) config for '\(dataset)'; it has: \(entry.datasets.joined(separator: ", "))")
    }
    return entry.differences[name] ?? TrainingPreset([])
  }

  /// The preset a dataset file's name suggests when the user gave none and CORL would change something (for a
  /// hint, never applied silently): `data/hopper-medium.hdf5` with iql gives IQL's hopper-medium preset.
  public static func suggestion(algorithm: String, datasetFile: String) -> (name: String, preset: TrainingPreset)? {
    let stem = String(datasetFile.split(separator: "/").last ?? "").split(separator: ".").first.map(String.init) ?? ""
    let name = canonicalName(stem)
    guard let preset = try? preset(algorithm: algorithm, dataset: name), preset != TrainingPreset([]) else { return nil }
    return (name, preset)
  }
}
