import ArgumentParser
import Foundation

import Stitch

/// `stitch sweep --executor slurm`: the sweep as one Slurm job array (task i runs cell i, skipping it when finished
/// and resuming it from its checkpoint otherwise: `stitch sweep SPEC --out DIR --cell i`), and an aggregation job
/// that writes the report once every task has ended (`--dependency=afterany:JOB`).
extension SweepRunCommand {
  /// The job array's batch script.
  static func slurmArrayScript(spec: String, root: URL, cells: Int, options: SlurmOptions, executable: String) -> String {
    var lines = ["#!/bin/bash", "#SBATCH --job-name=stitch-sweep",
                 "#SBATCH --array=0-\(cells - 1)" + (options.throttle.map { "%\($0)" } ?? ""),
                 "#SBATCH --cpus-per-task=\(options.cpusPerTask)", "#SBATCH --output=\(root.appendingPathComponent("logs").path)/%A_%a.out"]
    if let p = options.partition { lines.append("#SBATCH --partition=\(p)") }
    if let a = options.account { lines.append("#SBATCH --account=\(a)") }
    if let t = options.time { lines.append("#SBATCH --time=\(t)") }
    lines += options.extra.map { "#SBATCH \($0)" }
    lines += ["set -euo pipefail", "exec \(shellQuote(executable)) sweep \(shellQuote(spec)) --out \(shellQuote(root.path)) --cell \"$SLURM_ARRAY_TASK_ID\""]
    return lines.joined(separator: "\n") + "\n"
  }

  /// The aggregation job's batch script: the report of every run once the array has ended.
  static func slurmReportScript(spec: String, root: URL, options: SlurmOptions, executable: String) -> String {
    var lines = ["#!/bin/bash", "#SBATCH --job-name=stitch-sweep-report", "#SBATCH --cpus-per-task=1",
                 "#SBATCH --output=\(root.appendingPathComponent("logs").path)/report_%j.out"]
    if let p = options.partition { lines.append("#SBATCH --partition=\(p)") }
    if let a = options.account { lines.append("#SBATCH --account=\(a)") }
    lines += ["set -euo pipefail", "exec \(shellQuote(executable)) sweep \(shellQuote(spec)) --out \(shellQuote(root.path)) --report-only"]
    return lines.joined(separator: "\n") + "\n"
  }

  static func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

  /// Runs `sbatch --parsable ARGS SCRIPT` and returns the job id; a missing or failing sbatch is an error with its
  /// stderr.
  static func submit(_ script: URL, extraArguments: [String] = []) throws -> String {
    let sbatch = ProcessInfo.processInfo.environment["STITCH_SBATCH"] ?? "sbatch"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [sbatch, "--parsable"] + extraArguments + [script.path]
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    do { try process.run() } catch { throw ValidationError("cannot run \(sbatch): \(error)") }
    process.waitUntilExit()
    let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard process.terminationStatus == 0, let id = stdout.split(separator: ";").first, !id.isEmpty else {
      let why = process.terminationStatus == 127 ? "\(sbatch) is not installed (no Slurm on this machine; `scripts/slurm-local start` sets up a one-node cluster)" : stderr
      throw ValidationError("sbatch failed (exit status \(process.terminationStatus)): \(why.isEmpty ? stdout : why)")
    }
    return String(id)
  }
}

/// Slurm settings of a sweep (`--partition`, `--account`, `--time`, `--throttle`, `--sbatch-line`, over the sweep
/// file's `[slurm]` section, which alone sets `cpus_per_task`).
struct SlurmOptions {
  var partition: String?
  var account: String?
  var time: String?
  var throttle: Int?
  var cpusPerTask = 1
  var extra: [String] = []
}

/// What Slurm says of a submitted sweep's jobs: each array task's state (task i is cell i) and the report job's.
/// Queued and running jobs come from `squeue -r`; ended ones from `sacct`, or, where the cluster keeps no accounting
/// database (`sacct` answers "accounting storage is disabled", as on scripts/slurm-local's cluster), from `scontrol
/// show job`, which knows ended jobs for MinJobAge seconds (default 300).
struct SlurmJobStates {
  var tasks: [Int: String] = [:]
  var report: String?
  var notes: [String] = []

  static func ask(array: String, report: String) -> SlurmJobStates {
    var states = SlurmJobStates()
    func record(_ id: Substring, _ state: Substring) {
      let state = String(state.split(separator: " ").first ?? state)
      if id == report { if states.report == nil { states.report = state } }
      else if id.hasPrefix(array + "_"), let task = Int(id.dropFirst(array.count + 1)), states.tasks[task] == nil { states.tasks[task] = state }
    }
    let queue = run(["squeue", "-h", "-r", "-j", "\(array),\(report)", "-o", "%i %T"])
    if queue.status == 127 { states.notes.append("squeue is not installed here"); return states }
    for line in queue.out.split(separator: "\n") {
      let f = line.split(separator: " ")
      if f.count == 2 { record(f[0], f[1]) }
    }
    let accounting = run(["sacct", "-n", "-P", "-X", "-j", "\(array),\(report)", "-o", "JobID,State"])
    if accounting.status == 0 {
      for line in accounting.out.split(separator: "\n") {
        let f = line.split(separator: "|")
        if f.count == 2 { record(f[0], f[1]) }
      }
    } else {
      for id in [array, report] {
        let job = run(["scontrol", "-o", "show", "job", id])
        guard job.status == 0 else { continue }
        for line in job.out.split(separator: "\n") {
          var fields: [Substring: Substring] = [:]
          for pair in line.split(separator: " ") {
            if let eq = pair.firstIndex(of: "=") { fields[pair[..<eq]] = pair[pair.index(after: eq)...] }
          }
          guard let state = fields["JobState"] else { continue }
          if let a = fields["ArrayJobId"], let t = fields["ArrayTaskId"], !t.contains("[") { record("\(a)_\(t)"[...], state) }
          else if let j = fields["JobId"] { record(j, state) }
        }
      }
      if states.tasks.isEmpty && states.report == nil {
        states.notes.append("neither squeue, sacct nor scontrol knows jobs \(array) and \(report) (ended longer ago than the cluster remembers)")
      }
    }
    return states
  }

  /// Runs a command through /usr/bin/env; status 127 when it is not installed.
  static func run(_ arguments: [String]) -> (status: Int32, out: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let out = Pipe()
    process.standardOutput = out
    process.standardError = Pipe()
    do { try process.run() } catch { return (127, "") }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }
}
