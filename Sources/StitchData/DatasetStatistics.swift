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
