import ArgumentParser
import Foundation

import Stitch

/// `stitch experiment`: studies that are several training runs and one result.
struct ExperimentCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "experiment",
    abstract: "Run a study made of several training runs and write its table and plots.",
    subcommands: [EdgeOfReachCommand.self])
}

/// `stitch experiment edge-of-reach`: MBPO's base procedure, MOPO and RAVL, each with the learned and the true
/// dynamics (Sims et al. 2024).
struct EdgeOfReachCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "edge-of-reach",
    abstract: "The edge-of-reach experiment: mbpo, mopo and ravl with learned and with true dynamics.",
    discussion: """
      Sims et al. (NeurIPS 2024): with the true dynamics the base procedure and MOPO (whose penalty is then zero)
      are expected to collapse while their Q-values grow without bound, and RAVL to keep its score. Each
      configuration is an ordinary run folder OUT/ALGO-DYNAMICS (seeds in parallel up to the cores) trained by
      `stitch train`, whose log is OUT/logs/ALGO-DYNAMICS.log; running the command again skips finished runs and
      resumes unfinished ones from their checkpoints. Ctrl-C stops the current runs at a checkpoint.
      Writes OUT/edge-of-reach.md and .json (final and best normalized score, mean ± std over seeds, final mean
      Q), OUT/scores.svg (score against updates) and OUT/q-values.svg (mean Q on a log axis with Q* for a
      normalized score of 100 at γ = 0.99). The learned-model runs need --dynamics-model (stitch dynamics train).
      Example:
        stitch experiment edge-of-reach --dataset data/hopper-medium.hdf5 --env Hopper-v4 \\
          --dynamics-model models/hopper-medium.safetensors --steps 100000 --seeds 0,1,2 --out runs/edge-of-reach
        stitch experiment edge-of-reach ... --only mbpo-true,ravl-true --set rollout_batch_size=10000
      """)

  @Option(help: "A dataset with infos/qpos and infos/qvel (stitch dataset make).") var dataset: String
  @Option(help: "Environment id, e.g. Hopper-v4.") var env: String
  @Option(name: .customLong("dynamics-model"), help: "The learned model for the -model runs (stitch dynamics train).") var dynamicsModel: String?
  @Option(help: "Updates per run.") var steps = 100_000
  @Option(help: "Comma-separated seeds.") var seeds = "0,1,2"
  @Option(name: [.short, .customLong("out")], help: "Experiment folder.") var out: String
  @Option(name: .customLong("eval-every"), help: "Evaluate every N updates.") var evalEvery = 5000
  @Option(name: .customLong("eval-episodes"), help: "Episodes per evaluation.") var evalEpisodes = 10
  @Option(help: ArgumentHelp("Configurations to run, comma-separated (default: all six).", valueName: "ALGO-DYNAMICS,…")) var only: String?
  @Option(name: .customLong("ravl-eta-true"), help: "RAVL's η with the true dynamics (the one value the paper retunes there; its value is not public, so the default is RAVL's 1).")
  var ravlEtaTrue: Double = 1
  @Option(name: .customLong("set"), help: "A key=value for every run (rollout keys are common to all three).") var overrides: [String] = []
  @Flag(help: "Print the table as JSON.") var json = false

  func configurations() throws -> [EdgeOfReachExperiment.Configuration] {
    guard let only else { return EdgeOfReachExperiment.all }
    let names = only.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
    let known = EdgeOfReachExperiment.all.map(\.name)
    if let bad = names.first(where: { !known.contains($0) }) {
      throw ValidationError("--only: unknown configuration '\(bad)'; the configurations are \(known.joined(separator: ", "))")
    }
    return EdgeOfReachExperiment.all.filter { names.contains($0.name) }
  }

  func seedList() throws -> [UInt64] {
    let list = seeds.split(separator: ",").map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
    guard !list.isEmpty, list.allSatisfy({ $0 != nil }) else { throw ValidationError("--seeds must be comma-separated non-negative integers, got '\(seeds)'") }
    return list.map { $0! }
  }

  /// `stitch train` arguments for one configuration (a fresh run, or a resume).
  func trainArguments(_ c: EdgeOfReachExperiment.Configuration, folder: URL, seeds: [UInt64], resume: Bool) -> [String] {
    if resume { return ["train", "--resume", folder.path, "--dataset", dataset] }
    var a = ["train", "--algo", c.algorithm, "--dataset", dataset, "--env", env, "--steps", String(steps),
             "--seeds", seeds.map(String.init).joined(separator: ","), "--out", folder.path,
             "--eval-every", String(evalEvery), "--eval-episodes", String(evalEpisodes), "--dynamics", c.dynamics]
    if c.dynamics == "model", let dynamicsModel { a += ["--set", "dynamics_model=\(dynamicsModel)"] }
    if c.algorithm == "ravl" && c.dynamics == "true" { a += ["--set", "eta=\(ravlEtaTrue)"] }
    for o in overrides { a += ["--set", o] }
    return a
  }

  func run() throws {
    let configs = try configurations(), seedList = try seedList()
    guard steps > 0 else { throw ValidationError("--steps must be at least 1") }
    if configs.contains(where: { $0.dynamics == "model" }) {
      guard let dynamicsModel else { throw ValidationError("the -model configurations need --dynamics-model FILE (make one with `stitch dynamics train`), or leave them out with --only mbpo-true,mopo-true,ravl-true") }
      guard FileManager.default.fileExists(atPath: dynamicsModel) else { throw ValidationError("--dynamics-model: no file at \(dynamicsModel)") }
    }
    guard FileManager.default.fileExists(atPath: dataset) else { throw ValidationError("--dataset: no file at \(dataset)") }
    let root = URL(fileURLWithPath: out)
    let logs = root.appendingPathComponent("logs")
    try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    let total = configs.count * seedList.count * steps
    let progress = ProgressReporter(label: "edge-of-reach", total: total, unit: "updates")
    func completed() -> Int {
      configs.reduce(0) { sum, c in
        sum + seedList.reduce(0) { s, seed in
          let folder = root.appendingPathComponent(c.name).appendingPathComponent("seed_\(seed)")
          return s + Swift.min(steps, EdgeOfReachExperiment.stepReached(folder))
        }
      }
    }
    for c in configs {
      let folder = root.appendingPathComponent(c.name)
      let done = seedList.allSatisfy { EdgeOfReachExperiment.finished(folder.appendingPathComponent("seed_\($0)"), steps: steps) }
      if done { continue }
      let started = seedList.contains { FileManager.default.fileExists(atPath: folder.appendingPathComponent("seed_\($0)/checkpoint.safetensors").path) }
      let process = Process()
      process.executableURL = executable
      process.arguments = trainArguments(c, folder: folder, seeds: seedList, resume: started)
      let logURL = logs.appendingPathComponent("\(c.name).log")
      FileManager.default.createFile(atPath: logURL.path, contents: nil)
      let log = try FileHandle(forWritingTo: logURL)
      log.seekToEndOfFile()
      process.standardOutput = log
      process.standardError = log
      try process.run()
      while process.isRunning {
        progress.update(completed(), note: c.name)
        Thread.sleep(forTimeInterval: 2)
      }
      try? log.close()
      guard process.terminationStatus == 0 else {
        throw ValidationError("\(c.name) stopped (exit status \(process.terminationStatus)); its log: \(logURL.path). Run the same command again to resume.")
      }
    }
    progress.finish()
    let rows = EdgeOfReachExperiment.summarize(folder: root, configurations: configs, seeds: seedList, steps: steps)
    let name = URL(fileURLWithPath: dataset).deletingPathExtension().lastPathComponent
    let markdown = EdgeOfReachExperiment.markdown(rows, steps: steps, dataset: name)
    try Data(markdown.utf8).write(to: root.appendingPathComponent("edge-of-reach.md"), options: .atomic)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let jsonData = try encoder.encode(rows)
    try jsonData.write(to: root.appendingPathComponent("edge-of-reach.json"), options: .atomic)
    let scores = EdgeOfReachExperiment.scorePlot(folder: root, configurations: configs, seeds: seedList, title: "Edge of reach, \(name): normalized score")
    try Data(scores.svg().utf8).write(to: root.appendingPathComponent("scores.svg"), options: .atomic)
    let q = EdgeOfReachExperiment.qPlot(folder: root, configurations: configs, seeds: seedList, title: "Edge of reach, \(name): mean Q",
                                        qStar: EdgeOfReachExperiment.qStar(environment: env))
    try Data(q.svg().utf8).write(to: root.appendingPathComponent("q-values.svg"), options: .atomic)
    if json { print(String(decoding: jsonData, as: UTF8.self)) } else { print(markdown) }
    FileHandle.standardError.write(Data("wrote \(root.path)/edge-of-reach.md, edge-of-reach.json, scores.svg, q-values.svg\n".utf8))
  }
}
