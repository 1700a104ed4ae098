import ArgumentParser
import Foundation

import Stitch

/// `stitch bench`: the benchmark suite. Figures go to benchmarks/RESULTS.md with the command that made them.
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Benchmark Stitch's kernels and whole jobs on this machine.",
    discussion: """
      Every subcommand prints a table, or with --json one object {"results": [...], "machine": {...}}.
      Example:
        stitch bench sgemm --json
      """,
    subcommands: BenchCommand.subcommands)

  static var subcommands: [any ParsableCommand.Type] { [BenchSgemm.self, BenchCore.self, BenchEnv.self, BenchSamplers.self, BenchTrain.self, BenchData.self, BenchDiffusion.self, BenchDynamics.self, BenchBackends.self] }
}

/// Options every benchmark takes.
struct BenchOptions: ParsableArguments {
  @Flag(help: "Print one JSON object instead of a table.")
  var json = false

  @Option(help: "Seconds of measurement per benchmark (median over 7 batches).")
  var seconds: Double = 2

  @Option(help: "Threads for the measured work (1 is Stitch's default; see README, threading model).")
  var threads: Int = 1

  @Option(help: "How --threads 2 uses the second core: lanes (Stitch splits each product over the cores, as training does) or blas (OpenBLAS's own threads).")
  var split: ThreadSplit = .lanes

  enum ThreadSplit: String, ExpressibleByArgument, CaseIterable { case lanes, blas }

  var harness: BenchHarness { BenchHarness(seconds: seconds) }

  /// A median over 7 timed batches needs time to measure: below 0.1 s the batches are a few calls each and the
  /// figures (FMA-peak fractions above 1 at 0 s) mean nothing.
  func validate() throws {
    guard seconds.isFinite, seconds >= 0.1 else {
      throw ValidationError("--seconds must be at least 0.1 (a median over 7 timed batches), got \(seconds)")
    }
  }

  /// Sets this thread's product lanes and OpenBLAS's threads from --threads and --split.
  func applyThreads() throws {
    guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    if split == .lanes && threads > 1 {
      guard threads == 2 else { throw ValidationError("--split lanes uses exactly 2 threads; for \(threads) use --split blas") }
      BLAS.threads = 1
      ProductLanes.current = 2
    } else {
      BLAS.threads = threads
      ProductLanes.current = 1
      // OpenBLAS's own threads are what --split blas measures; Stitch's driver is single-threaded.
      if threads > 1 { BLAS.usesHaswellDriver = false }
    }
  }
}

/// `stitch bench sgemm`: raw OpenBLAS sgemm throughput at the matrix shapes Stitch's networks use.
struct BenchSgemm: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sgemm",
    abstract: "Measure OpenBLAS sgemm GFLOP/s at MLP shapes (the bound every training benchmark is compared to).",
    discussion: """
      Example:
        stitch bench sgemm --threads 2 --json
      """)

  @OptionGroup var options: BenchOptions

  func run() throws {
    try options.applyThreads()
    let shapes: [(Int, Int, Int)] = [(256, 256, 256), (256, 17, 256), (256, 256, 6), (256, 1024, 1024), (2048, 2048, 2048)]
    var results: [BenchResult] = []
    for (m, k, n) in shapes {
      let gflop = 2.0 * Double(m * k * n) / 1e9
      let rate = options.harness.rate { _ = SgemmProbe.shared(m, k, n).run() }
      results.append(BenchResult(name: "sgemm \(m)x\(k)x\(n)", stepsPerSecond: rate.median, gflops: rate.median * gflop, sgemmFraction: nil, threads: options.threads))
    }
    BenchReport.print(results, json: options.json)
  }
}
