/// Termination rules of the locomotion tasks on raw (not normalised) observations, for model rollouts: the
/// rules of Gymnasium's v4 tasks (`gymnasium/envs/mujoco/{hopper,walker2d}_v4.py` `is_healthy`, docs/facts.md
/// §2d), written on the observation (qpos without x, then qvel, clipped at ±10 for Hopper and Walker2d):
/// - Hopper: terminated unless every entry of obs[1...] lies in (−100, 100) (`healthy_state_range` on
///   `state_vector()[2:]`, which is obs[1...]), height obs[0] > 0.7 and |angle obs[1]| < 0.2;
/// - Walker2d: terminated unless 0.8 < obs[0] < 2.0 and −1 < obs[1] < 1 (no state range in Gymnasium);
/// - HalfCheetah (and tasks without a rule): never.
/// Differences from the reference code: OfflineRL-Kit's `termination_fns.py` writes the Hopper range as
/// `np.abs(next_obs[:, 1:] < 100)` (no lower bound) and adds −100 < s < 100 for Walker2d; the edge-of-reach
/// code's rules are Gymnasium's, as here. A non-finite observation is not a termination here: model rollouts
/// stop the run on it (`ModelRollouts`).
public enum Termination {
  /// The rule for an environment id ("Hopper-v4"), by its family.
  public static func rule(for environment: String) -> @Sendable ([Float]) -> Bool {
    let family = environment.lowercased().split(separator: "-").first.map(String.init) ?? ""
    switch family {
    case "hopper": return hopper
    case "walker2d": return walker2d
    default: return { _ in false }
    }
  }

  /// Whether the task has a termination rule (rollouts of HalfCheetah never end early).
  public static func terminates(_ environment: String) -> Bool {
    let family = environment.lowercased().split(separator: "-").first.map(String.init) ?? ""
    return family == "hopper" || family == "walker2d"
  }

  @Sendable public static func hopper(_ obs: [Float]) -> Bool {
    let healthyState = obs.dropFirst().allSatisfy { $0 > -100 && $0 < 100 }
    return !(healthyState && obs[0] > 0.7 && obs[1] > -0.2 && obs[1] < 0.2)
  }

  @Sendable public static func walker2d(_ obs: [Float]) -> Bool {
    !(obs[0] > 0.8 && obs[0] < 2.0 && obs[1] > -1 && obs[1] < 1)
  }
}
