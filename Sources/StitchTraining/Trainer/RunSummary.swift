import Foundation
import StitchAlgorithms
import StitchData
import StitchDiffusion
import StitchEnvironments
import StitchNN

import StitchTensor

/// What a finished (or stopped) run reports (`summary.json` in its folder).
///
/// `evaluations` rows are [step, mean return, normalized score]; the score is NaN on tasks without reference
/// returns. JSON has no NaN, so such a score is written as `null` and read back as NaN (JSONEncoder refuses
/// NaN outright: before this, a run on such a task failed at its first checkpoint).
public struct RunSummary: Codable, Sendable {
  public var algorithm: String
  public var environment: String
  public var seed: UInt64
  public var steps: Int
  public var finalReturn: Double?
  public var finalNormalizedScore: Double?
  public var bestNormalizedScore: Double?
  public var evaluations: [[Double]]  // [step, mean return, normalized score or NaN]
  public var seconds: Double
  public var stoppedEarly: Bool
  /// A fine-tuning run's start, initial dip and regret (`FineTuningSummary`); nil for every other run.
  public var fineTuning: FineTuningSummary? = nil

  public init(algorithm: String, environment: String, seed: UInt64, steps: Int, finalReturn: Double?,
              finalNormalizedScore: Double?, bestNormalizedScore: Double?, evaluations: [[Double]], seconds: Double,
              stoppedEarly: Bool) {
    self.algorithm = algorithm
    self.environment = environment
    self.seed = seed
    self.steps = steps
    self.finalReturn = finalReturn
    self.finalNormalizedScore = finalNormalizedScore
    self.bestNormalizedScore = bestNormalizedScore
    self.evaluations = evaluations
    self.seconds = seconds
    self.stoppedEarly = stoppedEarly
  }

  enum CodingKeys: String, CodingKey {
    case algorithm, environment, seed, steps, finalReturn, finalNormalizedScore, bestNormalizedScore, evaluations, seconds, stoppedEarly, fineTuning
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    algorithm = try c.decode(String.self, forKey: .algorithm)
    environment = try c.decode(String.self, forKey: .environment)
    seed = try c.decode(UInt64.self, forKey: .seed)
    steps = try c.decode(Int.self, forKey: .steps)
    finalReturn = try c.decodeIfPresent(Double.self, forKey: .finalReturn)
    finalNormalizedScore = try c.decodeIfPresent(Double.self, forKey: .finalNormalizedScore)
    bestNormalizedScore = try c.decodeIfPresent(Double.self, forKey: .bestNormalizedScore)
    evaluations = EvaluationRecords.fromJSON(try c.decode([[Double?]].self, forKey: .evaluations))
    seconds = try c.decode(Double.self, forKey: .seconds)
    stoppedEarly = try c.decode(Bool.self, forKey: .stoppedEarly)
    fineTuning = try c.decodeIfPresent(FineTuningSummary.self, forKey: .fineTuning)
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(algorithm, forKey: .algorithm)
    try c.encode(environment, forKey: .environment)
    try c.encode(seed, forKey: .seed)
    try c.encode(steps, forKey: .steps)
    try c.encodeIfPresent(finalReturn.flatMap { $0.isFinite ? $0 : nil }, forKey: .finalReturn)
    try c.encodeIfPresent(finalNormalizedScore.flatMap { $0.isFinite ? $0 : nil }, forKey: .finalNormalizedScore)
    try c.encodeIfPresent(bestNormalizedScore.flatMap { $0.isFinite ? $0 : nil }, forKey: .bestNormalizedScore)
    try c.encode(EvaluationRecords.toJSON(evaluations), forKey: .evaluations)
    try c.encode(seconds, forKey: .seconds)
    try c.encode(stoppedEarly, forKey: .stoppedEarly)
    try c.encodeIfPresent(fineTuning, forKey: .fineTuning)
  }
}

/// Evaluation rows [step, mean return, normalized score or NaN] as JSON, with `null` for every non-finite value
/// (the checkpoint's `evaluations` metadata and `summary.json`).
public enum EvaluationRecords {
  static func toJSON(_ rows: [[Double]]) -> [[Double?]] { rows.map { $0.map { $0.isFinite ? $0 : nil } } }
  static func fromJSON(_ rows: [[Double?]]) -> [[Double]] { rows.map { $0.map { $0 ?? .nan } } }

  public static func encode(_ rows: [[Double]]) throws -> String {
    try Checkpoint.json(toJSON(rows))
  }

  public static func decode(_ text: String) throws -> [[Double]] {
    fromJSON(try JSONDecoder().decode([[Double?]].self, from: Data(text.utf8)))
  }
}
