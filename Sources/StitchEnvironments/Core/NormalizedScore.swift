/// The D4RL normalized score: 100 · (return − random) / (expert − random), with the reference returns of
/// `d4rl/infos.py` (REF_MIN_SCORE / REF_MAX_SCORE; the v1/v2 locomotion entries copy the v0 values) — Fu et al.
/// 2020, "D4RL: Datasets for Deep Data-Driven Reinforcement Learning", arXiv 2004.07219, §5.
///
/// Papers and libraries report it ×100 (CORL: `env.get_normalized_score(mean_return) * 100`), applied to the
/// mean return over evaluation episodes. Tasks without a published reference (Pendulum, MountainCar) carry
/// Stitch's own measured references where noted, marked `source: .stitch`.
public struct ReferenceScores: Sendable, Equatable {
  public enum Source: String, Sendable { case d4rl, stitch }
  public var random: Double
  public var expert: Double
  public var source: Source
}

public enum NormalizedScore {
  /// Reference returns by task family (docs/facts.md §2c, from d4rl/infos.py).
  public static let d4rl: [String: ReferenceScores] = [
    "hopper": ReferenceScores(random: -20.272305, expert: 3234.3, source: .d4rl),
    "halfcheetah": ReferenceScores(random: -280.178953, expert: 12135.0, source: .d4rl),
    "walker2d": ReferenceScores(random: 1.629008, expert: 4592.3, source: .d4rl),
    "ant": ReferenceScores(random: -325.6, expert: 3879.7, source: .d4rl),
    "antmaze": ReferenceScores(random: 0, expert: 1, source: .d4rl),
    "maze2d-umaze": ReferenceScores(random: 23.85, expert: 161.86, source: .d4rl),
    "maze2d-medium": ReferenceScores(random: 13.13, expert: 277.39, source: .d4rl),
    "maze2d-large": ReferenceScores(random: 6.7, expert: 273.99, source: .d4rl),
  ]

  /// Stitch's references for tasks D4RL does not cover, measured as D4RL measured its own (Fu et al. 2020, §5):
  /// random = mean return of a uniformly random policy, expert = mean return of the expert policy, each over 100
  /// episodes with reset seeds 0–99 (docs/datasets.md gives the commands):
  /// Pendulum-v1: `stitch eval --random --env Pendulum-v1 --episodes 100` → −1241.40;
  /// `stitch eval --policy pendulum-expert --episodes 100` → −153.57 (deterministic actions).
  public static let stitch: [String: ReferenceScores] = [
    "pendulum": ReferenceScores(random: -1241.40, expert: -153.57, source: .stitch),
  ]

  /// The family key of a task id: "hopper-medium-v2", "Hopper-v4", "hopper" → "hopper";
  /// "HalfCheetah-v5" → "halfcheetah"; "maze2d-umaze-v1" → "maze2d-umaze".
  public static func family(of task: String) -> String {
    let lower = task.lowercased()
    if lower.hasPrefix("maze2d") {
      for size in ["umaze", "medium", "large"] where lower.contains(size) { return "maze2d-\(size)" }
    }
    let head = lower.split(whereSeparator: { $0 == "-" || $0 == "_" || $0 == "/" }).first.map(String.init) ?? lower
    if head == "mujoco", let second = lower.split(separator: "/").dropFirst().first { return family(of: String(second)) }
    return head
  }

  /// The reference returns for a task id, or nil when none is known.
  public static func references(for task: String) -> ReferenceScores? {
    let f = family(of: task)
    return d4rl[f] ?? stitch[f]
  }

  /// 100 · (return − random) / (expert − random) for `task`, or nil when the task has no reference scores.
  public static func score(task: String, return value: Double) -> Double? {
    guard let r = references(for: task) else { return nil }
    return 100 * (value - r.random) / (r.expert - r.random)
  }
}

/// The D4RL normalized score (×100) of a return on a task, or nil when the task has no reference scores.
public func normalizedScore(task: String, return value: Double) -> Double? {
  NormalizedScore.score(task: task, return: value)
}
