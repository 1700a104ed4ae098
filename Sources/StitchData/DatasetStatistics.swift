/// Summary statistics of a dataset (what `stitch dataset info` prints).
public struct DatasetStatistics: Sendable {
  public var transitions: Int
  public var episodes: Int
  public var observationDim: Int
  public var actionDim: Int
  public var returnMean: Double
  /// Population standard deviation of episode returns (NumPy's default `std`).
  public var returnStd: Double
  public var returnMin: Double
  public var returnMax: Double
  public var terminals: Int
  public var timeouts: Int
  public var observationMean: [Double]
  public var observationStd: [Double]
  public var actionMean: [Double]
  public var actionStd: [Double]
  public var rewardMean: Double
  public var rewardStd: Double

  public init(_ ds: Dataset) {
    let eps = ds.episodes
    transitions = ds.count
    episodes = eps.count
    observationDim = ds.observationDim
    actionDim = ds.actionDim
    let returns = eps.map(\.totalReturn)
    (returnMean, returnStd) = DatasetStatistics.meanStd(returns)
    returnMin = returns.min() ?? 0
    returnMax = returns.max() ?? 0
    terminals = ds.terminals.filter { $0 }.count
    timeouts = ds.timeouts.filter { $0 }.count
    (observationMean, observationStd) = DatasetStatistics.columnMeanStd(ds.observations, width: ds.observationDim)
    (actionMean, actionStd) = DatasetStatistics.columnMeanStd(ds.actions, width: ds.actionDim)
    (rewardMean, rewardStd) = DatasetStatistics.meanStd(ds.rewards.map(Double.init))
  }

  static func meanStd(_ x: [Double]) -> (Double, Double) {
    guard !x.isEmpty else { return (0, 0) }
    let m = x.reduce(0, +) / Double(x.count)
    return (m, (x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(x.count)).squareRoot())
  }

  /// Per-column mean and population std, accumulated in Float64.
  static func columnMeanStd(_ values: [Float], width: Int) -> ([Double], [Double]) {
    guard width > 0, !values.isEmpty else { return ([], []) }
    let rows = values.count / width
    var mean = [Double](repeating: 0, count: width), sq = [Double](repeating: 0, count: width)
    for r in 0..<rows { for j in 0..<width { mean[j] += Double(values[r * width + j]) } }
    for j in 0..<width { mean[j] /= Double(rows) }
    for r in 0..<rows { for j in 0..<width { let d = Double(values[r * width + j]) - mean[j]; sq[j] += d * d } }
    return (mean, sq.map { ($0 / Double(rows)).squareRoot() })
  }
}

/// Dataset-quality measures of Schweighofer et al., "A Dataset Perspective on Offline Reinforcement Learning",
/// CoLLAs 2022, arXiv 2111.04714, §2.2:
/// - TQ (trajectory quality) = (mean episode return − random return) / (expert return − random return): the
///   normalized average return, in [0, 1] when references are known (Stitch computes it from the normalized score);
/// - SACo (state-action coverage) = u_{s,a}(D) / u_{s,a}(D_ref): the number of unique state-action pairs in the
///   dataset relative to a reference dataset (the paper uses the replay data of the online agent that made the
///   behaviour policy). Pairs are compared exactly, by the bit patterns of their Float32 values, as the paper
///   counts unique pairs; continuous data therefore measures coverage by distinct visits.
public enum DatasetQuality {
  /// u_{s,a}(D): the number of distinct (observation, action) rows.
  public static func uniqueStateActionPairs(_ ds: Dataset) -> Int {
    var seen = Set<[UInt32]>()
    seen.reserveCapacity(ds.count)
    let od = ds.observationDim, ad = ds.actionDim
    for i in 0..<ds.count {
      var key = [UInt32]()
      key.reserveCapacity(od + ad)
      for j in 0..<od { key.append(ds.observations[i * od + j].bitPattern) }
      for j in 0..<ad { key.append(ds.actions[i * ad + j].bitPattern) }
      seen.insert(key)
    }
    return seen.count
  }

  /// SACo of `ds` against `reference`.
  public static func saco(_ ds: Dataset, reference: Dataset) -> Double {
    Double(uniqueStateActionPairs(ds)) / Double(Swift.max(uniqueStateActionPairs(reference), 1))
  }
}
