import ArgumentParser
import Foundation

import Stitch

/// `stitch sweep`: `stitch sweep SPEC.toml --out DIR` (the default subcommand, `run`) and `stitch sweep status DIR`.
struct SweepCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sweep",
    abstract: "Run a sweep of training runs (algorithms × datasets × settings × seeds), or show its status.",
    subcommands: [SweepRunCommand.self, SweepStatusCommand.self], defaultSubcommand: SweepRunCommand.self)
}

/// `stitch sweep [run] SPEC.toml`: every cell of a sweep (dataset × algorithm × grid point × seed) as an ordinary run
/// folder, run as `stitch train` processes on this machine (or as a Slurm job array), resumable, with a manifest
/// and a report.
struct SweepRunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Run a sweep of training runs (algorithms × datasets × settings × seeds) on this machine.",
    discussion: """
      SPEC.toml names algorithms, seeds, steps, [dataset.NAME] sections (file, env) and a [grid] of settings
      (ALGO.key = [values] for one algorithm's cells, key = [values] for all; see docs/sweeps.md). Every cell
      becomes OUT/DATASET/ALGO[,key=value…]/seed_K, trained by `stitch train` (one process per cell, --jobs at a
      time, one core each); OUT/sweep.json is the manifest (cell → folder → status) and OUT/report.md the table of
      every run at the end. Everything is checked before any cell starts (unknown algorithms, keys, datasets,
      environments, all reported at once). Running the same command again skips finished cells and resumes
      unfinished ones from their checkpoints; a failed cell is recorded with its log's last lines and the others go
      on; Ctrl-C stops the running cells at a checkpoint. A folder made from another sweep file is refused unless
      --force. --executor slurm submits one job array (task i = cell i) and a report job after it; a [slurm]
      section of the sweep file may set partition, account, time, throttle, cpus_per_task and sbatch lines
      (flags override). scripts/slurm-local start makes a one-node cluster on this machine.
      Example:
        stitch sweep sweeps/hopper-table.toml --out runs/sweeps/hopper-table --jobs 2
        stitch sweep sweeps/hopper-table.toml --out runs/sweeps/hopper-table --dry-run   # the cells and their commands
        stitch sweep sweeps/hopper-table.toml --out runs/sweeps/hopper-table --executor slurm --throttle 16
      """)

  @Argument(help: "The sweep file (TOML).") var spec: String
  @Option(name: [.short, .customLong("out")], help: "The sweep's folder.") var out: String
  @Option(help: "Cells trained at once (default: the number of cores).") var jobs: Int?
  @Flag(help: "Print the cells and the command of each, then exit.") var dryRun = false
  @Flag(help: "Use a folder that holds another sweep file's cells.") var force = false
  @Flag(help: "Print the final status of every cell as JSON lines.") var json = false
  @Option(help: ArgumentHelp("Where cells run: local (processes here) or slurm (one sbatch job array and a report job).", valueName: "local|slurm"))
  var executor = "local"
  @Option(help: "Slurm partition.") var partition: String?
  @Option(help: "Slurm account.") var account: String?
  @Option(help: "Slurm time limit per cell, e.g. 04:00:00.") var time: String?
  @Option(help: "At most this many array tasks at once (Slurm's %N).") var throttle: Int?
  @Option(name: .customLong("sbatch-line"), help: ArgumentHelp("An extra #SBATCH line (repeatable), e.g. --sbatch-line=--mem=4G.", valueName: "ARGS"))
  var sbatchLines: [String] = []
  @Option(help: .hidden) var cell: Int?
  @Flag(help: .hidden) var reportOnly = false

  func run() throws {
    guard let text = try? String(contentsOfFile: spec, encoding: .utf8) else { throw ValidationError("\(spec): no such sweep file") }
    let sweep: SweepSpec
    do { sweep = try SweepSpec.parse(text) } catch let e as SweepError { throw ValidationError("\(spec): \(e)") }
    try Self.check(sweep)
    let jobs = self.jobs ?? ProcessInfo.processInfo.activeProcessorCount
    guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
    let cells = sweep.cells
    let root = URL(fileURLWithPath: out)
    var folders = Set<String>()
    for c in cells where !folders.insert(c.run + "/seed_\(c.seed)").inserted {
      throw ValidationError("two cells share the folder \(c.run)/seed_\(c.seed): a grid lists one value twice")
    }
    let executablePath = URL(fileURLWithPath: ProcessInfo.processInfo.environment["STITCH_EXECUTABLE"] ?? "/proc/self/exe").resolvingSymlinksInPath().path
    // The command's flags override the sweep file's [slurm] section.
    let slurm = SlurmOptions(partition: partition ?? sweep.slurm.partition, account: account ?? sweep.slurm.account,
                             time: time ?? sweep.slurm.time, throttle: throttle ?? sweep.slurm.throttle,
                             cpusPerTask: sweep.slurm.cpusPerTask, extra: sweep.slurm.sbatchLines + sbatchLines)
    guard ["local", "slurm"].contains(executor) else { throw ValidationError("--executor must be local or slurm, got '\(executor)'") }
    if executor == "local", partition != nil || account != nil || time != nil || throttle != nil || !sbatchLines.isEmpty {
      throw ValidationError("--partition, --account, --time, --throttle and --sbatch-line are Slurm settings; add --executor slurm")
    }
    if let throttle, throttle < 1 { throw ValidationError("--throttle must be at least 1, got \(throttle)") }
    if executor == "slurm", self.jobs != nil { throw ValidationError("--jobs sets the local executor's processes; with --executor slurm use --throttle") }
    if dryRun {
      if executor == "slurm" {
        print(Self.slurmArrayScript(spec: URL(fileURLWithPath: spec).path, root: root, cells: cells.count, options: slurm, executable: executablePath))
        print(Self.slurmReportScript(spec: URL(fileURLWithPath: spec).path, root: root, options: slurm, executable: executablePath))
      }
      let lanes = executor == "slurm" ? sweep.slurm.cpusPerTask : 1
      for c in cells { print("\(c.run)/seed_\(c.seed): stitch " + Self.arguments(c, sweep: sweep, root: root, lanes: lanes).joined(separator: " ")) }
      return
    }
    // FNV-1a of the file's text: another sweep file (or an edited one) is another sweep.
    let hash = String(text.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01b3 }, radix: 16)
    if reportOnly || cell != nil {
      // A Slurm task or the report job: the manifest was written at submission; a sweep file edited since then
      // would map task indices to other cells.
      let submitted = try SweepManifest.load(root)
      guard submitted.specHash == hash, submitted.cells.count == cells.count else {
        throw ValidationError("\(spec) changed since the sweep in \(root.path) was submitted; its task indices no longer name the same cells")
      }
      if reportOnly { return try writeReport(root: root, cells: cells, steps: sweep.steps) }
      if let cell {
        guard cells.indices.contains(cell) else { throw ValidationError("--cell \(cell): the sweep has cells 0-\(cells.count - 1)") }
        return try runCell(cell, cells: cells, sweep: sweep, root: root, executable: executablePath)
      }
    }
    var manifest = try SweepManifest.open(root, specHash: hash, specPath: spec, cells: cells, force: force)
    if executor == "slurm" {
      let scripts = root.appendingPathComponent("slurm")
      try FileManager.default.createDirectory(at: scripts, withIntermediateDirectories: true)
      try FileManager.default.createDirectory(at: root.appendingPathComponent("logs"), withIntermediateDirectories: true)
      let array = scripts.appendingPathComponent("array.sbatch"), report = scripts.appendingPathComponent("report.sbatch")
      let specPath = URL(fileURLWithPath: spec).path
      try AtomicFile.write(Self.slurmArrayScript(spec: specPath, root: root, cells: cells.count, options: slurm, executable: executablePath), to: array)
      try AtomicFile.write(Self.slurmReportScript(spec: specPath, root: root, options: slurm, executable: executablePath), to: report)
      let job = try Self.submit(array)
      let reportJob = try Self.submit(report, extraArguments: ["--dependency=afterany:\(job)"])
      try AtomicFile.write("{\"array\": \"\(job)\", \"report\": \"\(reportJob)\"}\n", to: scripts.appendingPathComponent("jobs.json"))
      try SweepManifest.update(root) { m in
        for (i, c) in cells.enumerated() {
          let finished = Self.finished(root.appendingPathComponent(c.run).appendingPathComponent("seed_\(c.seed)"), steps: sweep.steps)
          m.cells[i].status = finished ? "finished" : "queued"
          m.cells[i].log = root.appendingPathComponent("logs/\(job)_\(i).out").path
        }
      }
      print("submitted job array \(job) (\(cells.count) cells) and report job \(reportJob); \(root.appendingPathComponent("report.md").path) appears when they end")
      return
    }
    let executable = URL(fileURLWithPath: ProcessInfo.processInfo.environment["STITCH_EXECUTABLE"] ?? "/proc/self/exe").resolvingSymlinksInPath()
    let logs = root.appendingPathComponent("logs")
    try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
    StopSignal.install()
    func done() -> Int { manifest.cells.filter { $0.status == "finished" || $0.status == "failed" }.count }
    // Cells an earlier invocation finished count as done from the start, so the rate and ETA are this process's
    // (a resumed sweep at 3 of 6 cells does not claim 3 cells in its first seconds).
    for (i, c) in cells.enumerated() where Self.finished(root.appendingPathComponent(c.run).appendingPathComponent("seed_\(c.seed)"), steps: sweep.steps) {
      manifest.cells[i].status = "finished"
    }
    let progress = ProgressReporter(label: "sweep \(URL(fileURLWithPath: spec).deletingPathExtension().lastPathComponent)", total: cells.count, unit: "cells",
                                    startingAt: done())
    var running: [(index: Int, process: Process, log: FileHandle)] = []
    var next = 0
    while next < cells.count || !running.isEmpty {
      while !StopSignal.isRequested, running.count < jobs, next < cells.count {
        let i = next
        next += 1
        let c = cells[i], seedFolder = root.appendingPathComponent(c.run).appendingPathComponent("seed_\(c.seed)")
        if Self.finished(seedFolder, steps: sweep.steps) { manifest.cells[i].status = "finished"; continue }
        let process = Process()
        process.executableURL = executable
        process.arguments = Self.command(c, sweep: sweep, root: root, lanes: 1)
        let logURL = logs.appendingPathComponent(c.run.replacingOccurrences(of: "/", with: "_") + "_seed_\(c.seed).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        manifest.cells[i].status = "running"
        manifest.cells[i].log = logURL.path
        running.append((i, process, log))
        try manifest.write()
      }
      if StopSignal.isRequested { for r in running where r.process.isRunning { kill(r.process.processIdentifier, SIGINT) } }
      Thread.sleep(forTimeInterval: 0.1)
      for r in running where !r.process.isRunning {
        try? r.log.close()
        let ok = r.process.terminationStatus == 0
        let seedFolder = root.appendingPathComponent(cells[r.index].run).appendingPathComponent("seed_\(cells[r.index].seed)")
        if ok && Self.finished(seedFolder, steps: sweep.steps) {
          manifest.cells[r.index].status = "finished"
          manifest.cells[r.index].error = nil
        } else if StopSignal.isRequested {
          manifest.cells[r.index].status = "stopped"
        } else {
          manifest.cells[r.index].status = "failed"
          manifest.cells[r.index].error = Self.failure(r.process.terminationStatus, log: manifest.cells[r.index].log)
        }
        try manifest.write()
      }
      running.removeAll { !$0.process.isRunning }
      if StopSignal.isRequested, running.isEmpty { break }
      progress.update(done(), note: "\(running.count) running, \(manifest.cells.filter { $0.status == "failed" }.count) failed")
    }
    progress.finish()
    let report = try Self.report(root: root, cells: cells)
    let failed = manifest.cells.filter { $0.status == "failed" }
    if json {
      for c in manifest.cells {
        print(JSONText.object([("run", .string(c.run)), ("seed", .integer(Int(c.seed))), ("status", .string(c.status)),
                               ("error", c.error.map(JSONText.string) ?? .null)]).description)
      }
    } else {
      print(report, terminator: "")
      for c in failed { print("failed: \(c.run)/seed_\(c.seed): \(c.error ?? "")") }
      if StopSignal.isRequested { print("stopped: run the same command again to resume") }
    }
    if !failed.isEmpty { throw ExitCode(1) }
  }

  /// `DIR/report.md`: one row per run, as `stitch report`.
  static func report(root: URL, cells: [SweepSpec.Cell]) throws -> String {
    let runs = Array(Set(cells.map(\.run))).sorted().map { root.appendingPathComponent($0).path }
    var report = "| run | algorithm | environment | seeds | steps | final score | best score | per seed | minutes |\n|---|---|---|---|---|---|---|---|---|\n"
    for run in runs { report += ((try? ReportCommand.row(run, json: false)) ?? "| \(run) | (no summary) |") + "\n" }
    if let manifest = try? SweepManifest.load(root) {
      let failed = manifest.cells.filter { $0.status == "failed" }
      if !failed.isEmpty {
        report += "\nFailed cells (\(failed.count) of \(manifest.cells.count); their runs are missing from the rows above or count fewer seeds):\n\n"
        for c in failed { report += "- \(c.run)/seed_\(c.seed): \(c.error ?? "no error recorded")" + (c.log.map { " (log: \($0))" } ?? "") + "\n" }
      }
    }
    try AtomicFile.write(report, to: root.appendingPathComponent("report.md"))
    return report
  }

  /// The aggregation job (`--report-only`): the report, and every cell's status from its run folder (a cell whose
  /// task never recorded an end, killed by Slurm for instance, is failed).
  func writeReport(root: URL, cells: [SweepSpec.Cell], steps: Int) throws {
    try SweepManifest.update(root) { m in
      for (i, c) in cells.enumerated() {
        if Self.finished(root.appendingPathComponent(c.run).appendingPathComponent("seed_\(c.seed)"), steps: steps) {
          m.cells[i].status = "finished"
          m.cells[i].error = nil
        } else if m.cells[i].status != "failed" {
          m.cells[i].status = "failed"
          m.cells[i].error = m.cells[i].error ?? "the task ended without finishing the run (\(m.cells[i].log ?? "no log"))"
        }
      }
    }
    print(try Self.report(root: root, cells: cells), terminator: "")
  }

  /// One cell in this process's child (a Slurm array task): skipped when finished, resumed when it has a
  /// checkpoint, else trained; its status goes into the manifest (under the manifest's lock: tasks run at once).
  func runCell(_ i: Int, cells: [SweepSpec.Cell], sweep: SweepSpec, root: URL, executable: String) throws {
    let c = cells[i], seedFolder = root.appendingPathComponent(c.run).appendingPathComponent("seed_\(c.seed)")
    if Self.finished(seedFolder, steps: sweep.steps) {
      try SweepManifest.update(root) { $0.cells[i].status = "finished" }
      print("cell \(i) (\(c.run)/seed_\(c.seed)) is finished")
      return
    }
    let environment = ProcessInfo.processInfo.environment
    let log = environment["SLURM_ARRAY_JOB_ID"].flatMap { job in
      environment["SLURM_ARRAY_TASK_ID"].map { root.appendingPathComponent("logs/\(job)_\($0).out").path }
    }
    try SweepManifest.update(root) { m in
      m.cells[i].status = "running"
      m.cells[i].error = nil
      if let log { m.cells[i].log = log }
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = Self.command(c, sweep: sweep, root: root, lanes: sweep.slurm.cpusPerTask)
    try process.run()
    process.waitUntilExit()
    let status = process.terminationStatus
    try SweepManifest.update(root) { m in
      if status == 0 && Self.finished(seedFolder, steps: sweep.steps) {
        m.cells[i].status = "finished"
      } else {
        m.cells[i].status = "failed"
        m.cells[i].error = Self.failure(status, log: m.cells[i].log)
      }
    }
    if status != 0 { throw ExitCode(status) }
  }

  /// The `stitch` arguments that train a cell: `train --resume` where its seed folder has a checkpoint, else the
  /// cell's own `train` command.
  static func command(_ c: SweepSpec.Cell, sweep: SweepSpec, root: URL, lanes: Int) -> [String] {
    let seedFolder = root.appendingPathComponent(c.run).appendingPathComponent("seed_\(c.seed)")
    if FileManager.default.fileExists(atPath: seedFolder.appendingPathComponent("checkpoint.safetensors").path) {
      return ["train", "--resume", seedFolder.path, "--dataset", c.dataset.file, "--lanes", String(lanes)]
    }
    return arguments(c, sweep: sweep, root: root, lanes: lanes)
  }

  /// A failed cell's error: its exit status and its log's last three lines.
  static func failure(_ status: Int32, log: String?) -> String {
    let tail = ((try? String(contentsOfFile: log ?? "", encoding: .utf8)) ?? "").split(separator: "\n").suffix(3).joined(separator: " / ")
    return "exit status \(status)" + (tail.isEmpty ? "" : ": \(tail)")
  }

  /// Everything a cell needs, checked for every cell before any starts; all problems reported at once.
  static func check(_ sweep: SweepSpec) throws {
    var problems: [String] = []
    let known = AlgorithmRegistry.all.map { $0.id }
    for a in sweep.algorithms where !known.contains(a.lowercased()) {
      problems.append("unknown algorithm \(a) (known: \(known.joined(separator: ", ")))")
    }
    for d in sweep.datasets {
      if !FileManager.default.fileExists(atPath: d.file) { problems.append("[dataset.\(d.name)]: no file at \(d.file)") }
      do { _ = try EnvironmentRegistry.make(d.environment) } catch { problems.append("[dataset.\(d.name)]: \(error)") }
    }
    let first = sweep.seeds.first
    for c in sweep.cells where c.seed == first {
      if let problem = cellProblem(c, preset: sweep.preset), !problems.contains(problem) { problems.append(problem) }
    }
    guard problems.isEmpty else { throw ValidationError(SweepError(problems).description) }
  }

  /// What keeps a cell's configuration from resolving, or nil.
  static func cellProblem(_ c: SweepSpec.Cell, preset: Bool) -> String? {
    guard let type = AlgorithmRegistry.named(c.algorithm) else { return nil }
    let visitor = CellCheck(settings: c.settings, preset: preset ? c.dataset.name : nil)
    do {
      try withAlgorithm(type, visitor)
      return nil
    } catch {
      return "\(c.run): \(error)"
    }
  }

  /// Resolves a cell's configuration as `stitch train` would (unknown keys and out-of-range values fail here).
  struct CellCheck: AlgorithmVisitor {
    let settings: [String]
    let preset: String?
    func visit<A: Algorithm>(_ type: A.Type) throws {
      let presetOverrides = try preset.map { try CORLPresets.preset(algorithm: A.id, dataset: $0).overrides } ?? []
      _ = try ConfigResolver.resolve(A.defaultConfiguration, presets: presetOverrides, overrides: settings)
    }
  }

  /// The `stitch train` arguments of a cell.
  static func arguments(_ c: SweepSpec.Cell, sweep: SweepSpec, root: URL, lanes: Int = 1) -> [String] {
    var a = ["train", "--algo", c.algorithm, "--env", c.dataset.environment, "--steps", String(sweep.steps), "--seeds", String(c.seed),
             "--out", root.appendingPathComponent(c.run).path, "--eval-every", String(sweep.evaluationInterval),
             "--eval-episodes", String(sweep.evaluationEpisodes), "--lanes", String(lanes)]
    if !AlgorithmRegistry.isOnline(AlgorithmRegistry.named(c.algorithm)!) || c.algorithm == "rlpd" { a += ["--dataset", c.dataset.file] }
    if let every = sweep.checkpointInterval { a += ["--checkpoint-every", String(every)] }
    if sweep.preset { a += ["--preset", c.dataset.name] }
    for s in c.settings { a += ["--set", s] }
    return a
  }

  /// Whether a seed folder holds a finished run of at least `steps` steps.
  static func finished(_ folder: URL, steps: Int) -> Bool {
    guard let data = try? Data(contentsOf: folder.appendingPathComponent("summary.json")),
          let summary = try? JSONDecoder().decode(RunSummary.self, from: data) else { return false }
    return !summary.stoppedEarly && summary.steps >= steps
  }
}
