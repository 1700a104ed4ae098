import ArgumentParser
import Foundation

import Stitch

/// `stitch dataset compare`: a dataset's statistics beside a D4RL dataset's published ones.
struct DatasetCompare: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "compare",
    abstract: "Compare a dataset's statistics with a D4RL dataset's published ones (episodes, lengths, returns, observation moments).",
    discussion: """
      Over complete episodes (ending in a termination or at 1,000 steps; a trailing episode cut by the file's size is
      left out, as the published figures leave D4RL's out): episodes, mean episode length, return mean/std/min/max,
      normalized mean, and per observation dimension the mean and std beside D4RL's, with the mean's shift in D4RL
      standard deviations and the ratio of the stds.
      Summary distance: per scalar, the 2-Wasserstein distance between normal fits in units of D4RL's std,
      sqrt(shift² + (ratio − 1)²); the observation distance is its root mean square over dimensions, the return
      distance it for episode returns, and the summary sqrt((obs² + return²)/2) weighs gait and performance alike
      (docs/datasets.md). 0 is identical moments; a one-std shift of every mean gives 1.
      References: \(D4RLReference.names.map { "d4rl:" + $0 }.joined(separator: ", ")) (docs/d4rl-stats.md: sources).
      Example:
        stitch dataset compare data/hopper-medium.hdf5 --reference d4rl:hopper-medium-v2
        stitch dataset compare data/walker2d-medium.hdf5 --json     # reference from the file's metadata
      """)

  @Argument(help: "A D4RL-layout .hdf5 file or a Minari dataset folder.") var file: String
  @Option(help: "The D4RL dataset to compare with, e.g. d4rl:hopper-medium-v2 (default: from the file's dataset metadata).")
  var reference: String?
  @Flag(help: "Drop transitions with NaN/inf values instead of refusing the file.") var dropNonFinite = false
  @Flag(help: "Print one JSON object.") var json = false

  func run() throws {
    // An unknown name is refused before the file is read.
    var ref = try reference.map { try D4RLReference.named($0) }
    let (ds, _) = try DatasetFile.read(file, options: LoadOptions(dropNonFinite: dropNonFinite))
    if ref == nil {
      guard let name = ds.metadata["dataset"], let r = try? D4RLReference.named(DatasetMaker.splitVersion(name).base + "-v2") else {
        throw ValidationError("\(file) does not name a D4RL dataset in its metadata; give --reference (known: \(D4RLReference.names.map { "d4rl:" + $0 }.joined(separator: ", ")))")
      }
      ref = r
    }
    let c = try DatasetComparison(ds, reference: ref!, label: file)
    if json { print(DatasetCompare.json(c, file: file)); return }
    print(DatasetCompare.text(c, file: file), terminator: "")
  }

  static func normalized(_ c: DatasetComparison, _ value: Double?) -> Double? {
    value.flatMap { NormalizedScore.score(task: c.reference.family, return: $0) }
  }

  static func json(_ c: DatasetComparison, file: String) -> JSONText {
    func opt(_ x: Double?) -> JSONText { x.map(JSONText.number) ?? .null }
    let r = c.reference
    return .object([
      ("file", .string(file)), ("reference", .string("d4rl:" + r.name)), ("reference_source", .string(r.source)),
      ("episodes", .integer(c.episodes)), ("transitions", .integer(c.transitions)),
      ("left_out_transitions", .integer(c.leftOutTransitions)), ("terminations", .integer(c.terminations)),
      ("mean_episode_length", .number(c.meanEpisodeLength)),
      ("return_mean", .number(c.returnMean)), ("return_std", .number(c.returnStd)),
      ("return_min", .number(c.returnMin)), ("return_max", .number(c.returnMax)),
      ("normalized_mean", opt(normalized(c, c.returnMean))),
      ("reference_values", .object([
        ("episodes", r.episodes.map(JSONText.integer) ?? .null), ("mean_episode_length", opt(r.meanEpisodeLength)),
        ("return_mean", opt(r.returnMean)), ("return_std", opt(r.returnStd)), ("return_min", opt(r.returnMin)),
        ("return_max", opt(r.returnMax)), ("normalized_mean", opt(normalized(c, r.returnMean))),
      ])),
      ("return_shift", opt(c.returnShift)), ("return_std_ratio", opt(c.returnStdRatio)),
      ("dimensions", .array(c.dimensions.map { d in
        let known = d.referenceStd.isFinite
        return .object([
          ("index", .integer(d.index)), ("mean", .number(d.mean)), ("std", .number(d.std)),
          ("reference_mean", known ? .number(d.referenceMean) : .null), ("reference_std", known ? .number(d.referenceStd) : .null),
          ("shift", known ? .number(d.shift) : .null), ("std_ratio", known ? .number(d.stdRatio) : .null),
          ("distance", known ? .number(d.distance) : .null),
        ])
      })),
      ("action_saturation", .array(c.actionSaturation.map(JSONText.number))),
      ("observation_distance", opt(c.observationDistance)), ("return_distance", opt(c.returnDistance)),
      ("distance", opt(c.distance)),
    ])
  }

  static func text(_ c: DatasetComparison, file: String) -> String {
    func f(_ x: Double?, _ digits: Int = 1) -> String { x.map { String(format: "%.\(digits)f", $0) } ?? "n/a" }
    func rel(_ v: Double, _ r: Double?) -> String { r.map { String(format: "%+.1f%%", 100 * (v / $0 - 1)) } ?? "" }
    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
    let r = c.reference
    var out = "\(file) against d4rl:\(r.name)\n"
    out += "compared: \(c.episodes) complete episodes, \(c.transitions) transitions, \(c.terminations) ending in a termination"
    out += c.leftOutTransitions > 0 ? "; \(c.leftOutTransitions) transitions of an unfinished trailing episode left out\n" : "\n"
    out += pad("", 22) + pad("dataset", 12) + pad("d4rl", 12) + "shift (σ) / ratio\n"
    let shift = c.returnShift, ratio = c.returnStdRatio
    let lines: [(String, String, String, String)] = [
      ("episodes", String(c.episodes), r.episodes.map(String.init) ?? "n/a", rel(Double(c.episodes), r.episodes.map(Double.init))),
      ("mean episode length", f(c.meanEpisodeLength), f(r.meanEpisodeLength), rel(c.meanEpisodeLength, r.meanEpisodeLength)),
      ("return mean", f(c.returnMean), f(r.returnMean), shift.map { String(format: "%+.2f σ", $0) } ?? ""),
      ("return std", f(c.returnStd), f(r.returnStd), ratio.map { String(format: "×%.2f", $0) } ?? ""),
      ("return min", f(c.returnMin), f(r.returnMin), ""),
      ("return max", f(c.returnMax), f(r.returnMax), ""),
      ("normalized mean", f(normalized(c, c.returnMean)), f(normalized(c, r.returnMean)), ""),
    ]
    for l in lines { out += pad(l.0, 22) + pad(l.1, 12) + pad(l.2, 12) + l.3 + "\n" }
    out += "\n" + pad("obs dim", 9) + pad("dataset mean ± std", 22) + pad("d4rl mean ± std", 22) + pad("shift (σ)", 11) + pad("std ratio", 11) + "W2\n"
    for d in c.dimensions {
      let mine = String(format: "%.3f ± %.3f", d.mean, d.std)
      guard d.referenceStd.isFinite else { out += pad(String(d.index), 9) + pad(mine, 22) + "n/a (the reference publishes returns only)\n"; continue }
      out += pad(String(d.index), 9) + pad(mine, 22) + pad(String(format: "%.3f ± %.3f", d.referenceMean, d.referenceStd), 22)
        + pad(String(format: "%+.2f", d.shift), 11) + pad(String(format: "%.2f", d.stdRatio), 11) + String(format: "%.2f", d.distance) + "\n"
    }
    out += "\nactions beyond ±0.99: " + c.actionSaturation.map { String(format: "%.1f%%", 100 * $0) }.joined(separator: " ")
      + " (per dimension; D4RL publishes no figure)\n"
    out += "distance: observations \(f(c.observationDistance, 3)), returns \(f(c.returnDistance, 3)), summary \(f(c.distance, 3))"
    out += " (standardized 2-Wasserstein of normal fits; 0 = same moments)\n"
    return out
  }
}
