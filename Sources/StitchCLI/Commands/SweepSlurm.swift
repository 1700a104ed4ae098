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
                 "#SBATCH --cpus-per-task=1", "#SBATCH --output=\(root.appendingPathComponent("logs").path)/%A_%a.out"]
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
      let why = process.terminationStatus == 127 ? "\(sbatch) is not installed (no Slurm on this machine; scripts/slurm-local is not built yet)" : stderr
      throw ValidationError("sbatch failed (exit status \(process.terminationStatus)): \(why.isEmpty ? stdout : why)")
    }
    return String(id)
  }
}

/// Slurm settings of a sweep (`--partition`, `--account`, `--time`, `--throttle`, `--sbatch-line`).
struct SlurmOptions {
  var partition: String?
  var account: String?
  var time: String?
  var throttle: Int?
  var extra: [String] = []
}
