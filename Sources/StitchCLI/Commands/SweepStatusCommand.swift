import ArgumentParser
import Foundation

import Stitch

/// `stitch sweep status DIR`: each cell's status from the manifest, how far an unfinished one got (its log), and,
/// for a sweep submitted to Slurm, what `squeue` says of its jobs.
struct SweepStatusCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status",
    abstract: "Show a sweep's cells: finished, running, failed, stopped or pending, and how far each got.",
    discussion: """
      Reads DIR/sweep.json (written by `stitch sweep SPEC --out DIR`) and each cell's run folder; for a sweep
      submitted with --executor slurm, also asks `squeue` about its job array and report job.
      Example:
        stitch sweep status runs/sweeps/hopper-table
        stitch sweep status runs/sweeps/hopper-table --json
      """)

  @Argument(help: "The sweep's folder (its --out).") var folder: String
  @Flag(help: "One JSON object per cell.") var json = false

  func run() throws {
    let root = URL(fileURLWithPath: folder)
    let manifest = try SweepManifest.load(root)
    var slurm: SlurmJobStates?
    var ids: [String: String] = [:]
    if let jobs = try? Data(contentsOf: root.appendingPathComponent("slurm/jobs.json")),
       let decoded = try? JSONSerialization.jsonObject(with: jobs) as? [String: String], let array = decoded["array"], let report = decoded["report"] {
      ids = decoded
      slurm = SlurmJobStates.ask(array: array, report: report)
    }
    var counts: [String: Int] = [:]
    for (i, c) in manifest.cells.enumerated() {
      let seedFolder = root.appendingPathComponent(c.run).appendingPathComponent("seed_\(c.seed)")
      let progress = c.status == "finished" ? "" : ReportCommand.unfinishedNote(seedFolder)
      let task = slurm?.tasks[i]
      counts[c.status, default: 0] += 1
      if json {
        print(JSONText.object([("run", .string(c.run)), ("seed", .integer(Int(c.seed))), ("status", .string(c.status)),
                               ("progress", .string(progress.trimmingCharacters(in: .whitespaces))), ("error", c.error.map(JSONText.string) ?? .null),
                               ("slurm", task.map(JSONText.string) ?? .null)]).description)
      } else {
        print("\(c.run)/seed_\(c.seed): \(c.status)\(progress)\(task.map { " [slurm task \(i): \($0)]" } ?? "")\(c.error.map { " (\($0))" } ?? "")")
      }
    }
    if !json {
      print(counts.keys.sorted().map { "\(counts[$0]!) \($0)" }.joined(separator: ", ") + " of \(manifest.cells.count) cells (sweep file \(manifest.specPath))")
      if let slurm {
        var byState: [String: Int] = [:]
        for s in slurm.tasks.values { byState[s, default: 0] += 1 }
        let tasks = byState.keys.sorted().map { "\(byState[$0]!) \($0)" }.joined(separator: ", ")
        print("slurm: job array \(ids["array"]!) (\(tasks.isEmpty ? "no task known" : tasks)), report job \(ids["report"]!) (\(slurm.report ?? "not known"))"
              + slurm.notes.map { "; \($0)" }.joined())
      }
    }
  }
}
