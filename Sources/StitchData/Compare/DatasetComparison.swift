/// A dataset's statistics beside a D4RL dataset's published ones (`stitch dataset compare`), with one summary
/// distance to rank behaviour policies by how D4RL-like their data are.
///
/// Statistics are taken the way the published figures were (`D4RLReference`): over **complete** episodes only,
/// an episode being complete when it ends in a termination or reaches the time limit (1,000 steps for the
/// locomotion tasks); a file's trailing episode cut by its size is left out, as the decision-transformer
/// pipeline that computed the references leaves D4RL's out. Standard deviations are population ones (NumPy's).
///
/// **The distance.** For one scalar, the 2-Wasserstein distance between normal fits N(m, s²) and N(m₀, s₀²)
/// measured in units of the reference's std: √(((m − m₀)/s₀)² + (s/s₀ − 1)²). It is zero only when mean and spread
/// both match, counts a one-std shift of the mean as 1 and a doubled spread as 1, and has no units, so that
/// dimensions of different scales (a torso angle, a foot's angular velocity) weigh alike. The observation
/// distance is its root mean square over the observation dimensions (how the data move: the gait); the return
/// distance is it for episode returns (how well they do). The summary distance gives the two equal weight,
/// √((obs² + return²)/2), because a policy that hops like D4RL's but scores less, or scores alike with another
/// gait, are equally unlike D4RL's data; when a reference publishes only one of the two (expert-v2: returns;
/// medium-expert-v2: observations) the summary is that one.
public struct DatasetComparison: Sendable {
  /// One compared scalar.
  public struct Row: Sendable {
    public var name: String
    public var value: Double
    public var reference: Double?
    /// For a mean: (value − reference) in reference standard deviations.
    public var shift: Double?
    /// For a standard deviation: value / reference.
    public var stdRatio: Double?
    public init(name: String, value: Double, reference: Double?, shift: Double? = nil, stdRatio: Double? = nil) {
      self.name = name; self.value = value; self.reference = reference; self.shift = shift; self.stdRatio = stdRatio
    }
  }

  /// One observation dimension.
  public struct Dimension: Sendable {
    public var index: Int
    public var mean: Double
    public var std: Double
    public var referenceMean: Double
    public var referenceStd: Double
    public var shift: Double { (mean - referenceMean) / referenceStd }
    public var stdRatio: Double { std / referenceStd }
    /// The standardized 2-Wasserstein distance of the normal fits.
    public var distance: Double { (shift * shift + (stdRatio - 1) * (stdRatio - 1)).squareRoot() }
  }

  /// Errors comparing.
  public enum CompareError: Error, CustomStringConvertible {
    case widthMismatch(String)
    case noCompleteEpisodes(String)
    public var description: String {
      switch self { case .widthMismatch(let s), .noCompleteEpisodes(let s): return s }
    }
  }

  public var reference: D4RLReference
  /// Complete episodes compared, and transitions in them.
  public var episodes: Int
  public var transitions: Int
  /// Rows left out: the trailing cut episode's transitions.
  public var leftOutTransitions: Int
  public var terminations: Int
  public var meanEpisodeLength: Double
  public var returnMean: Double
  public var returnStd: Double
  public var returnMin: Double
  public var returnMax: Double
  public var dimensions: [Dimension]
  /// Per action dimension, the fraction of actions beyond ±0.99 (the locomotion tasks' actions lie in [−1, 1]):
  /// a tanh-Gaussian policy near saturation is one of the suspects for a gait unlike D4RL's. D4RL publishes no
  /// figure to compare it with.
  public var actionSaturation: [Double]
  public var observationDistance: Double?
  public var returnDistance: Double?
  /// The summary distance (see the type's documentation).
  public var distance: Double

  /// Compares `ds` with `reference`.
  /// - Parameters:
  ///   - timeLimit: the episode length at which a timeout makes an episode complete (the tasks' 1,000).
  /// - Throws: `CompareError.widthMismatch` when the observation widths differ, `.noCompleteEpisodes` when the
  ///   dataset holds no complete episode.
  public init(_ ds: Dataset, reference: D4RLReference, label: String = "the dataset", timeLimit: Int = 1000) throws {
    guard ds.observationDim == reference.observationDim else {
      throw CompareError.widthMismatch(
        "\(label) has \(ds.observationDim)-wide observations; d4rl:\(reference.name) has \(reference.observationDim)")
    }
    self.reference = reference
    let all = ds.episodes
    let complete = all.filter { e in
      let last = e.start + e.length - 1
      return ds.terminals[last] || (ds.timeouts[last] && e.length >= timeLimit)
    }
    guard !complete.isEmpty else {
      throw CompareError.noCompleteEpisodes(
        "\(label) holds no complete episode (none ends in a termination or reaches \(timeLimit) steps); nothing to compare")
    }
    episodes = complete.count
    transitions = complete.reduce(0) { $0 + $1.length }
    leftOutTransitions = ds.count - transitions
    terminations = complete.filter { ds.terminals[$0.start + $0.length - 1] }.count
    meanEpisodeLength = Double(transitions) / Double(episodes)
    let returns = complete.map(\.totalReturn)
    (returnMean, returnStd) = DatasetStatistics.meanStd(returns)
    returnMin = returns.min()!
    returnMax = returns.max()!

    let od = ds.observationDim
    var sum = [Double](repeating: 0, count: od), sq = [Double](repeating: 0, count: od)
    for e in complete { for r in e.start ..< e.start + e.length { for j in 0..<od { sum[j] += Double(ds.observations[r * od + j]) } } }
    let n = Double(transitions)
    let mean = sum.map { $0 / n }
    for e in complete {
      for r in e.start ..< e.start + e.length { for j in 0..<od { let d = Double(ds.observations[r * od + j]) - mean[j]; sq[j] += d * d } }
    }
    let std = sq.map { ($0 / n).squareRoot() }
    let ad = ds.actionDim
    var saturated = [Int](repeating: 0, count: ad)
    for e in complete { for r in e.start ..< e.start + e.length { for j in 0..<ad where abs(ds.actions[r * ad + j]) > 0.99 { saturated[j] += 1 } } }
    actionSaturation = saturated.map { Double($0) / n }
    if let rm = reference.observationMean, let rs = reference.observationStd {
      let dims = (0..<od).map { Dimension(index: $0, mean: mean[$0], std: std[$0], referenceMean: rm[$0], referenceStd: rs[$0]) }
      dimensions = dims
      observationDistance = (dims.map { $0.distance * $0.distance }.reduce(0, +) / Double(od)).squareRoot()
    } else {
      dimensions = (0..<od).map { Dimension(index: $0, mean: mean[$0], std: std[$0], referenceMean: .nan, referenceStd: .nan) }
      observationDistance = nil
    }
    if let m0 = reference.returnMean, let s0 = reference.returnStd {
      let shift = (returnMean - m0) / s0, ratio = returnStd / s0
      returnDistance = (shift * shift + (ratio - 1) * (ratio - 1)).squareRoot()
    } else {
      returnDistance = nil
    }
    switch (observationDistance, returnDistance) {
    case let (o?, r?): distance = ((o * o + r * r) / 2).squareRoot()
    case let (o?, nil): distance = o
    case let (nil, r?): distance = r
    case (nil, nil): distance = .nan  // every reference publishes one of the two
    }
  }

  /// (return mean − reference's) in reference stds; nil when the reference publishes no returns.
  public var returnShift: Double? { reference.returnMean.flatMap { m in reference.returnStd.map { (returnMean - m) / $0 } } }
  /// Return std over the reference's; nil when the reference publishes no returns.
  public var returnStdRatio: Double? { reference.returnStd.map { returnStd / $0 } }

  /// The scalar rows: episodes, mean length, return mean/std/min/max, each beside the reference (nil where the
  /// reference publishes none); the return mean carries its shift in reference stds, the return std its ratio.
  public var rows: [Row] {
    let r = reference
    return [
      Row(name: "episodes", value: Double(episodes), reference: r.episodes.map(Double.init)),
      Row(name: "mean_episode_length", value: meanEpisodeLength, reference: r.meanEpisodeLength),
      Row(name: "return_mean", value: returnMean, reference: r.returnMean, shift: returnShift),
      Row(name: "return_std", value: returnStd, reference: r.returnStd, stdRatio: returnStdRatio),
      Row(name: "return_min", value: returnMin, reference: r.returnMin),
      Row(name: "return_max", value: returnMax, reference: r.returnMax),
    ]
  }
}
