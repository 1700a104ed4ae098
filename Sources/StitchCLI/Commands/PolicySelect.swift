import ArgumentParser
import Foundation

import Stitch

/// `stitch policy select`: the SAC snapshot whose data are closest to a D4RL dataset's.
struct PolicySelect: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "select",
    abstract: "Roll out every SAC snapshot of a run and pick the one whose data are closest to a D4RL dataset's statistics.",
    discussion: """
      Each snapshot (RUN/seed_K/snapshots/step_N.safetensors, written at every evaluation of `stitch train --algo
      sac`) is rolled out as `stitch dataset make` rolls out a behaviour policy (sampled actions, --seed), and its
      complete episodes are compared with the reference as `stitch dataset compare` does; the table lists every
      snapshot's distance and marks the smallest. --export writes the winner as a behaviour-policy file.
      Paths: snapshot files, seed folders, snapshots folders or run folders (every seed_K inside).
      Example:
        stitch policy select runs/sac-hopper --reference d4rl:hopper-medium-v2 --transitions 100000
        stitch policy select runs/sac-hopper/seed_0 --reference d4rl:hopper-expert-v2 --from 200000 --export hopper-expert -o hopper-expert.safetensors
      """)

  @Argument(help: "Snapshot files, seed folders or run folders.") var paths: [String]
  @Option(help: "The D4RL dataset to match, e.g. d4rl:hopper-medium-v2.") var reference: String
  @Option(help: "Transitions rolled out per snapshot (default 100000).") var transitions: Int = 100_000
  @Option(help: "Seed of the rollouts (default 0).") var seed: UInt64 = 0
  @Option(name: .customLong("from"), help: "Only snapshots at this SAC step or later.") var fromStep: Int?
  @Option(name: .customLong("to"), help: "Only snapshots at this SAC step or earlier.") var toStep: Int?
  @Option(help: "Write the closest snapshot as a behaviour policy named TASK-KIND (with -o).") var export: String?
  @Option(name: [.short, .customLong("out")], help: "Output file for --export.") var out: String?
  @Flag(help: "Roll out each policy's mean action instead of sampling (a diagnostic: D4RL sampled; not with --export).") var meanActions = false
  @Option(help: "Write an SVG plot of each snapshot's distance against its SAC step, one line per seed folder.") var plot: String?
  @Flag(help: "Print one JSON object.") var json = false

  func validate() throws {
    guard transitions > 0 else { throw ValidationError("--transitions must be positive, got \(transitions)") }
    if (export == nil) != (out == nil) { throw ValidationError("--export NAME and -o FILE go together") }
    if meanActions, export != nil { throw ValidationError("--mean-actions is a diagnostic; a behaviour policy is chosen from sampled rollouts (drop --export)") }
    if let fromStep, let toStep, fromStep > toStep { throw ValidationError("--from \(fromStep) is after --to \(toStep)") }
  }

  func run() throws {
    BLAS.threads = 1
    let ref = try D4RLReference.named(reference)
    if let export { _ = try DatasetMaker.parse(export) }
    var urls: [URL] = []
    for p in paths { urls += try PolicySelection.snapshots(at: URL(fileURLWithPath: p)) }
    urls = urls.filter { u in
      let step = PolicySelection.stepNumber(u.lastPathComponent)
      return step == .max || ((fromStep.map { step >= $0 } ?? true) && (toStep.map { step <= $0 } ?? true))
    }
    guard !urls.isEmpty else { throw ValidationError("no snapshot between --from and --to") }
    let reporter = ProgressReporter(label: "select against d4rl:\(ref.name)", total: urls.count, unit: "snapshots")
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let found = try PolicySelection.evaluateAll(urls, reference: ref, transitions: transitions, seed: seed,
                                                    meanActions: meanActions, concurrency: cores) { reporter.update($0) }
    reporter.finish()
    let best = PolicySelection.best(found)!
    if let export, let out {
      let by = String(format: "stitch policy select --reference d4rl:%@ --transitions %d --seed %llu: distance %.4f", ref.name, transitions, seed, best.comparison.distance)
      _ = try PolicyExport.export(best.snapshot.path, name: export, metadata: ["selected_by": by], to: out)
    }
    if let plot { try PolicySelect.writePlot(found, reference: ref, to: URL(fileURLWithPath: plot)) }
    if json {
      func opt(_ x: Double?) -> JSONText { x.map(JSONText.number) ?? .null }
      let rows: [JSONText] = found.map { c in
        .object([
          ("snapshot", .string(c.snapshot.path)), ("step", c.step.map(JSONText.integer) ?? .null),
          ("training_seed", c.trainingSeed.map(JSONText.string) ?? .null), ("evaluation_return", opt(c.evaluationReturn)),
          ("episodes", .integer(c.comparison.episodes)), ("mean_episode_length", .number(c.comparison.meanEpisodeLength)),
          ("return_mean", .number(c.comparison.returnMean)), ("return_std", .number(c.comparison.returnStd)),
          ("normalized_mean", opt(c.normalizedMean)), ("action_saturation", .array(c.comparison.actionSaturation.map(JSONText.number))),
          ("observation_distance", opt(c.comparison.observationDistance)),
          ("return_distance", opt(c.comparison.returnDistance)), ("distance", .number(c.comparison.distance)),
        ])
      }
      print(JSONText.object([
        ("reference", .string("d4rl:" + ref.name)), ("transitions", .integer(transitions)), ("seed", .integer(Int(seed))),
        ("mean_actions", .bool(meanActions)),
        ("candidates", .array(rows)), ("best", .string(best.snapshot.path)), ("exported", out.map(JSONText.string) ?? .null),
      ]))
      return
    }
    func f(_ x: Double?, _ d: Int) -> String { x.map { String(format: "%.\(d)f", $0) } ?? "n/a" }
    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
    print("against d4rl:\(ref.name), \(transitions) transitions per snapshot, seed \(seed)" + (meanActions ? ", mean actions (not sampled)" : ""))
    print(pad("snapshot", 44) + pad("eval", 9) + pad("episodes", 10) + pad("length", 8) + pad("return", 16) + pad("norm", 7)
          + pad("obs", 7) + pad("ret", 7) + "distance")
    for c in found {
      let name = c.snapshot.deletingLastPathComponent().deletingLastPathComponent().lastPathComponent + "/" + c.snapshot.lastPathComponent
      let mark = c.snapshot == best.snapshot ? "  ← closest" : ""
      print(pad(name, 44) + pad(f(c.evaluationReturn, 0), 9) + pad(String(c.comparison.episodes), 10) + pad(f(c.comparison.meanEpisodeLength, 0), 8)
            + pad(f(c.comparison.returnMean, 0) + " ± " + f(c.comparison.returnStd, 0), 16) + pad(f(c.normalizedMean, 1), 7)
            + pad(f(c.comparison.observationDistance, 2), 7) + pad(f(c.comparison.returnDistance, 2), 7) + f(c.comparison.distance, 3) + mark)
    }
    print("closest: \(best.snapshot.path) (distance \(f(best.comparison.distance, 3)))" + (out.map { "; wrote \($0)" } ?? "")
          + (plot.map { "; plot: \($0)" } ?? ""))
  }

  /// Distance against SAC step, one curve per seed folder (snapshots without a step are left out of the plot).
  static func writePlot(_ found: [PolicySelection.Candidate], reference: D4RLReference, to url: URL) throws {
    var bySeed: [(String, [(step: Double, values: [Double])])] = []
    for c in found {
      guard let step = c.step else { continue }
      let seed = c.snapshot.deletingLastPathComponent().deletingLastPathComponent().path
      if let i = bySeed.firstIndex(where: { $0.0 == seed }) { bySeed[i].1.append((Double(step), [c.comparison.distance])) } else {
        bySeed.append((seed, [(Double(step), [c.comparison.distance])]))
      }
    }
    var p = LearningCurvePlot(title: "snapshots against d4rl:\(reference.name)",
                              curves: bySeed.map { seed, points in
      let u = URL(fileURLWithPath: seed)
      return LearningCurvePlot.Curve(label: u.deletingLastPathComponent().lastPathComponent + "/" + u.lastPathComponent, points: points)
    })
    p.xLabel = "SAC environment steps"
    p.yLabel = "summary distance (0 = D4RL's moments)"
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try p.svg().write(to: url, atomically: true, encoding: .utf8)
  }
}
