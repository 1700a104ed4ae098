/// A dataset of transitions held as contiguous Float32 columns (row-major), with an episode index and metadata.
///
/// Row i is the transition (observations[i], actions[i], rewards[i], nextObservations[i]) with flags
/// `terminals[i]` (the environment terminated: no bootstrapping) and `timeouts[i]` (the episode was cut by the time
/// limit or the data ended: bootstrapping continues). An episode ends at a row with either flag.
public struct Dataset: Sendable {
  /// One episode: its first row, its length in rows and its undiscounted return.
  public struct Episode: Sendable, Equatable {
    public var start: Int
    public var length: Int
    public var totalReturn: Double
  }

  public var observationDim: Int
  public var actionDim: Int
  public var observations: [Float]
  public var actions: [Float]
  public var rewards: [Float]
  public var nextObservations: [Float]
  public var terminals: [Bool]
  public var timeouts: [Bool]
  /// Source file, environment id, creation info (policy, seed, Stitch version), reference scores if known.
  public var metadata: [String: String]
  /// The action taken at each row's next observation (row-major, `actionDim` wide), where the loader knows it
  /// better than "the next row of the episode": D4RL's Q-learning view keeps CORL rebrac.py's `next_actions`
  /// (the file's `actions[i + 1]`), which for the row before a dropped timeout row is that row's action. NaN
  /// entries mark a row whose next action is unknown. nil: every row's next action is the next row's within its
  /// episode, and unknown at an episode's last row (`TransitionRows`, `Batch.nextActionsKnown`). Transforms of
  /// `actions` (action scaling) must be applied to it too.
  public var nextActions: [Float]? = nil
  /// Per-row columns D4RL keeps under `infos/` (Fu et al. 2020; `collect_data.py`, docs/facts.md §2a), by name
  /// without the prefix: "qpos" and "qvel", the simulator state before the row's step (D4RL-v2's convention), and
  /// "action_log_probs", the behaviour policy's log-density of the row's action. Row-aligned with the transitions;
  /// loaders keep them through their row filters, and model-based training starts true-dynamics rollouts from them.
  public var infos: [String: InfoColumn] = [:]
  /// Per-row Monte-Carlo returns-to-go, set by the trainer for algorithms that bound Q by them (Cal-QL) from the
  /// rewards as the algorithm sees them; −∞ marks a row whose return is not known yet (an online episode in
  /// progress), which bounds nothing. nil: no such column (minibatches then carry 0, CORL's online value).
  public var returnsToGo: [Float]? = nil

  /// One `infos/` column: `width` values per row, row-major.
  public struct InfoColumn: Sendable, Equatable {
    public var width: Int
    public var values: [Float]
    public init(width: Int, values: [Float] = []) {
      self.width = width
      self.values = values
    }
    /// Row `i`'s values.
    public func row(_ i: Int) -> ArraySlice<Float> { values[(i * width)..<((i + 1) * width)] }
  }

  /// The simulator state (qpos, qvel) recorded before row `i`'s step, when the dataset has both columns.
  public func simulatorState(_ i: Int) -> (qpos: [Double], qvel: [Double])? {
    guard let p = infos["qpos"], let v = infos["qvel"], i >= 0, i < count else { return nil }
    return (p.row(i).map(Double.init), v.row(i).map(Double.init))
  }

  /// Keeps the rows of `keep` (in order) of every `infos` column (loaders' row filters).
  public static func selectInfoRows(_ infos: [String: InfoColumn], _ keep: [Int]) -> [String: InfoColumn] {
    infos.mapValues { c in
      var out = InfoColumn(width: c.width)
      out.values.reserveCapacity(keep.count * c.width)
      for i in keep { out.values += c.row(i) }
      return out
    }
  }

  public init(observationDim: Int, actionDim: Int, observations: [Float] = [], actions: [Float] = [], rewards: [Float] = [],
              nextObservations: [Float] = [], terminals: [Bool] = [], timeouts: [Bool] = [], metadata: [String: String] = [:]) {
    self.observationDim = observationDim
    self.actionDim = actionDim
    self.observations = observations
    self.actions = actions
    self.rewards = rewards
    self.nextObservations = nextObservations
    self.terminals = terminals
    self.timeouts = timeouts
    self.metadata = metadata
  }

  /// The number of transitions.
  public var count: Int { rewards.count }

  /// Applies an in-place transform of row-major actions (e.g. `ActionScaling.normalize`) to `actions` and to
  /// `nextActions` when present, so that the two columns stay in the same units.
  public mutating func transformActions(_ transform: (inout [Float]) -> Void) {
    transform(&actions)
    if var next = nextActions {
      nextActions = nil
      transform(&next)
      nextActions = next
    }
  }

  /// Appends one transition.
  public mutating func append(observation: [Float], action: [Float], reward: Float, nextObservation: [Float], terminal: Bool, timeout: Bool) {
    observations += observation
    actions += action
    rewards.append(reward)
    nextObservations += nextObservation
    terminals.append(terminal)
    timeouts.append(timeout)
  }

  /// The episodes, split after every row that is terminal or a timeout; a final run of rows with neither flag
  /// counts as one (unfinished) episode.
  public var episodes: [Episode] {
    var out: [Episode] = []
    var start = 0, total = 0.0
    for i in 0..<count {
      total += Double(rewards[i])
      if terminals[i] || timeouts[i] {
        out.append(Episode(start: start, length: i - start + 1, totalReturn: total))
        start = i + 1
        total = 0
      }
    }
    if start < count { out.append(Episode(start: start, length: count - start, totalReturn: total)) }
    return out
  }

  /// Problems with the dataset's internal consistency (empty when it is sound); used by tests and after loading.
  public func invariantViolations() -> [String] {
    var problems: [String] = []
    let n = count
    if observations.count != n * observationDim { problems.append("observations hold \(observations.count) values, expected \(n)×\(observationDim)") }
    if nextObservations.count != n * observationDim { problems.append("next_observations hold \(nextObservations.count) values, expected \(n)×\(observationDim)") }
    if actions.count != n * actionDim { problems.append("actions hold \(actions.count) values, expected \(n)×\(actionDim)") }
    if let nextActions, nextActions.count != n * actionDim { problems.append("next actions hold \(nextActions.count) values, expected \(n)×\(actionDim)") }
    if terminals.count != n || timeouts.count != n { problems.append("terminals/timeouts have \(terminals.count)/\(timeouts.count) rows, expected \(n)") }
    for (name, c) in infos.sorted(by: { $0.key < $1.key }) where c.width < 1 || c.values.count != n * c.width {
      problems.append("infos/\(name) holds \(c.values.count) values, expected \(n)×\(c.width)")
    }
    if terminals.count == timeouts.count, let i = terminals.indices.first(where: { terminals[$0] && timeouts[$0] }) { problems.append("row \(i) is both terminal and timeout") }
    return problems
  }
}
