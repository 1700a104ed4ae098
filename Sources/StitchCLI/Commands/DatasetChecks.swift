import ArgumentParser
import Foundation

import Stitch

extension TrainCommand {
  /// Refuses a dataset that holds no transition once loaded (an empty file, or a one-row file whose Q-learning
  /// view drops its only row for want of a next observation): no sampler can draw from it. Checked right after
  /// loading, before any run folder is made.
  static func checkTrainable(_ ds: Dataset, path: String, what: String, minimum: Int = 1) throws {
    guard ds.count >= minimum else {
      let why = ds.count == 0
        ? "holds no transitions once loaded (a file of one row without next_observations loses that row: its next observation is unknown)"
        : "holds \(ds.count) transition\(ds.count == 1 ? "" : "s") once loaded; at least \(minimum) are needed"
      throw ValidationError("\(what) \(path) \(why)")
    }
  }
}

/// `-o/--out PATH`, the one spelling of an output path across commands; `--output`, the former spelling of
/// `synth`, `dataset` and `policy export`, stays as a hidden alias for one release.
enum OutputPath {
  static func resolve(_ out: String?, _ alias: String?) throws -> String {
    if out != nil, alias != nil { throw ValidationError("give the output once, with -o/--out") }
    guard let path = out ?? alias else { throw ValidationError("give the output path with -o/--out PATH") }
    return path
  }
}
