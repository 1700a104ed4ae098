/// MOPO (Yu et al., "MOPO: Model-based Offline Policy Optimization", NeurIPS 2020, arXiv 2005.13239, Algorithm 1,
/// eq. 8 with the "max aleatoric" estimator of §4.3): the base procedure (`ModelBasedSAC`) on rewards penalised by
/// the model's uncertainty, r̃(s, a) = r̂(s, a) − λ·maxᵢ ‖σᵢ(s, a)‖₂ over all ensemble members (OfflineRL-Kit
/// `EnsembleDynamics.step`, `uncertainty_mode = "aleatoric"`). Defaults: `run_mopo.py` (h = 1, λ = 2.5); the
/// per-dataset (h, λ) of its docstring come with `--preset` (hopper-medium 5 / 5.0, halfcheetah-medium 5 / 0.5,
/// walker2d-medium 5 / 0.5, …; `ModelBasedPresets`).
public enum MOPORecipe: ModelBasedSACRecipe {
  public static let id = "mopo"
  public static let summary = "MOPO (Yu et al. 2020): SAC on learned-model rollouts with rewards penalised by model uncertainty"
  public static let defaultPenalty: Float = 2.5
  public static let hasPenalty = true
  public static let defaultRolloutLength = 1
}

public typealias MOPO = ModelBasedSAC<MOPORecipe>
