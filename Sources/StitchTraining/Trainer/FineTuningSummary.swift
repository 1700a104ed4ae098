import Foundation

/// What a fine-tuning run (`stitch finetune`) adds to its `summary.json`: where it started and the two figures the
/// offline-to-online papers compare methods by.
///
/// - `startScore`: the normalized evaluation at step 0, before any online step (the trainer evaluates the
///   pretrained policy there, with the online phase's evaluation seeds, so the curve starts where the run starts).
/// - `initialDip`: the lowest normalized evaluation in the first 10% of the online steps (step 0 included) minus
///   the start score (≤ 0; 0 when the score never fell below its start; the "unlearning" at the switch that Cal-QL
///   and WSRL avoid). Without a step-0 evaluation, the pretrained run's last offline score is the baseline. nil
///   when a score is missing.
/// - `cumulativeRegret`: the mean over the evaluations after step 0 of 1 − score/100, CORL's "regret" (its README
///   averages 1 − success rate over online training; a normalized score of 100 plays the success rate's 1 on
///   locomotion tasks, so regret is negative above the expert's level). nil on tasks without reference returns.
/// - `improvement`: the final score minus the start score.
public struct FineTuningSummary: Codable, Sendable, Equatable {
  public var pretrainedFolder: String
  /// The pretrained run's last offline evaluation (its own evaluation seeds).
  public var pretrainedScore: Double?
  public var startScore: Double?
  public var onlineSteps: Int
  public var initialDip: Double?
  public var cumulativeRegret: Double?
  public var improvement: Double?

  /// The figures from a run's evaluation rows [step, mean return, normalized score or NaN] over `onlineSteps`
  /// environment steps counted from 0.
  public init(pretrained: PretrainedStart, onlineSteps: Int, evaluations: [[Double]]) {
    pretrainedFolder = pretrained.folder
    pretrainedScore = pretrained.score
    self.onlineSteps = onlineSteps
    func score(_ row: [Double]) -> Double? { row.count >= 3 && row[2].isFinite ? row[2] : nil }
    let start = evaluations.first { $0.first == 0 }
    startScore = start.flatMap(score)
    let base = start == nil ? pretrained.score : startScore
    let window = Double(onlineSteps) * 0.1
    let early = evaluations.filter { $0[0] <= window }.map(score)
    if let base, !early.isEmpty, early.allSatisfy({ $0 != nil }) { initialDip = early.map { $0! }.min()! - base } else { initialDip = nil }
    let online = evaluations.filter { $0[0] > 0 }.map(score)
    cumulativeRegret = online.isEmpty || online.contains(where: { $0 == nil }) ? nil
      : online.map { 1 - $0! / 100 }.reduce(0, +) / Double(online.count)
    if let base, let last = evaluations.last.flatMap(score), evaluations.count > (start == nil ? 0 : 1) { improvement = last - base } else { improvement = nil }
  }
}
