import Foundation
import StitchEnvironments

import StitchTensor

/// Writes learning-curve plots from evaluation records.
public enum LearningCurve {
  /// One curve (one seed) from [step, return, score] rows; plots the normalized score when every row has one,
  /// otherwise the return.
  public static func write(_ evaluations: [[Double]], label: String, task: String, to url: URL) throws {
    try write(seeds: [evaluations], label: label, task: task, to: url)
  }

  /// Mean and spread over seeds, aligned by step.
  public static func write(seeds: [[[Double]]], label: String, task: String, to url: URL) throws {
    let useScore = seeds.allSatisfy { $0.allSatisfy { !$0[2].isNaN } }
    var byStep: [Double: [Double]] = [:]
    for run in seeds { for row in run { byStep[row[0], default: []].append(useScore ? row[2] : row[1]) } }
    var plot = LearningCurvePlot(title: "\(label) on \(task)", curves: [
      LearningCurvePlot.Curve(label: label, points: byStep.keys.sorted().map { (step: $0, values: byStep[$0]!) }),
    ])
    plot.yLabel = useScore ? "normalized score" : "episode return"
    try AtomicFile.write(plot.svg(), to: url)
  }
}
