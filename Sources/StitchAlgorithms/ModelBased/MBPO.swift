/// The base procedure of offline model-based RL (Sims et al., "The Edge-of-Reach Problem in Offline Model-Based
/// Reinforcement Learning", NeurIPS 2024, arXiv 2402.12527, Algorithm 1; MBPO's loop, Janner et al. 2019, arXiv
/// 1906.08253, without online data): k-step rollouts of the current policy in a learned dynamics ensemble from
/// dataset states, and SAC on minibatches mixing dataset and model rows (`ModelBasedSAC`), with no penalty. The
/// edge-of-reach paper shows it fails — and so do MOPO and MOBILE once their penalties vanish under the true
/// dynamics — because states reached only at a rollout's last step are bootstrapped from but never trained.
/// Defaults as MOPO's in OfflineRL-Kit (h = 5 here, the edge-of-reach default k = 5) with λ fixed at 0.
public enum MBPORecipe: ModelBasedSACRecipe {
  public static let id = "mbpo"
  public static let summary = "Offline MBPO, the base procedure (Sims et al. 2024, Alg. 1): SAC on learned-model rollouts, no penalty"
  public static let defaultPenalty: Float = 0
  public static let hasPenalty = false
  public static let defaultRolloutLength = 5
}

public typealias MBPO = ModelBasedSAC<MBPORecipe>
