/// One stage of a training run. A run is a sequence of phases under one trainer, one run folder, one checkpoint
/// and one resume (docs/architecture.md): offline updates from a dataset, then (say) online interaction in the
/// environment, with the same observation normaliser, reward scale and action scaling throughout.
///
/// The run's step counter runs on across phases: an offline phase of N updates covers steps 1…N, an online phase
/// after it of M environment steps covers N+1…N+M. Logs, evaluations and checkpoints use that counter.
public enum Phase: Codable, Sendable, Equatable, CustomStringConvertible {
  /// `updates` gradient steps on minibatches of the dataset (and the synthetic data, if the run has some).
  case offline(updates: Int)
  /// `environmentSteps` steps in the run's environment, each followed by `updatesPerStep` gradient steps once the
  /// warm-up is over; transitions go to a replay buffer, and minibatches are drawn as `data` says.
  case online(environmentSteps: Int, updatesPerStep: Int, warmup: Warmup, data: OnlineData)

  /// How an online phase starts.
  public enum Warmup: Codable, Sendable, Equatable {
    /// Updates from the first step.
    case none
    /// The first `steps` environment steps take uniformly random actions and make no updates (SAC, RLPD).
    case random(steps: Int)
    /// The first `steps` environment steps act with the current policy (exploring) and make no updates: WSRL's
    /// warm-up with the pretrained policy.
    case policy(steps: Int)

    /// Environment steps of the warm-up.
    public var steps: Int {
      switch self {
      case .none: 0
      case .random(let k), .policy(let k): k
      }
    }
  }

  /// Where an online phase's minibatches come from.
  public enum OnlineData: Codable, Sendable, Equatable {
    /// The online replay buffer alone (SAC; WSRL keeps no offline data).
    case replay
    /// A fixed fraction of each minibatch from the run's dataset, the rest from the replay buffer (RLPD's and
    /// Cal-QL's symmetric sampling at 0.5). The dataset rows come first in the batch.
    case mixed(datasetFraction: Double)
    /// Online rows appended to the run's dataset and minibatches drawn uniformly from the union (CORL's IQL, CQL,
    /// AWAC and SPOT fine-tuning scripts: one replay buffer that starts with the dataset; FACTS-2.md §2f). The
    /// share of online rows grows with the buffer, from 0 at the switch.
    case append
  }

  /// Steps this phase adds to the run's counter.
  public var length: Int {
    switch self {
    case .offline(let n): n
    case .online(let n, _, _, _): n
    }
  }

  /// Whether the phase interacts with the environment.
  public var isOnline: Bool {
    if case .online = self { return true }
    return false
  }

  /// Whether the phase reads the run's dataset.
  public var needsDataset: Bool {
    switch self {
    case .offline: true
    case .online(_, _, _, .mixed), .online(_, _, _, .append): true
    case .online(_, _, _, .replay): false
    }
  }

  /// The same phase with another length (`train --resume --until` extends a run's last phase).
  public func with(length: Int) -> Phase {
    switch self {
    case .offline: .offline(updates: length)
    case .online(_, let u, let w, let d): .online(environmentSteps: length, updatesPerStep: u, warmup: w, data: d)
    }
  }

  public var description: String {
    switch self {
    case .offline(let n): return "offline: \(n) updates"
    case .online(let n, let u, let w, let d):
      let warm: String
      switch w {
      case .none: warm = ""
      case .random(let k): warm = ", \(k) random warm-up steps"
      case .policy(let k): warm = ", \(k) policy warm-up steps"
      }
      let data: String
      switch d {
      case .replay: data = "replay buffer"
      case .mixed(let f): data = "\(f) dataset / \(1 - f) replay"
      case .append: data = "the dataset with the online rows appended"
      }
      return "online: \(n) environment steps, \(u) update(s) per step\(warm), batches from \(data)"
    }
  }

  /// Refuses phases no run can execute, naming the phase.
  public static func check(_ phases: [Phase]) throws {
    guard !phases.isEmpty else { throw PhaseError("a run needs at least one phase") }
    for (i, p) in phases.enumerated() {
      guard p.length > 0 else { throw PhaseError("phase \(i + 1) (\(p)) has no steps") }
      if case .online(let n, let u, let w, let d) = p {
        guard u > 0 else { throw PhaseError("phase \(i + 1): updates per environment step must be positive, got \(u)") }
        guard w.steps >= 0, w.steps <= n else {
          throw PhaseError("phase \(i + 1): a warm-up of \(w.steps) steps does not fit in \(n) environment steps")
        }
        if case .mixed(let f) = d, !(f >= 0 && f <= 1) {
          throw PhaseError("phase \(i + 1): the dataset fraction must lie in [0, 1], got \(f)")
        }
      }
    }
  }
}

/// A run's phases that cannot be executed.
public struct PhaseError: Error, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}
