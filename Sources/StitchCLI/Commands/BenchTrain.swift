import ArgumentParser
import Dispatch
import Foundation

import Stitch

/// `stitch bench train`: gradient steps per second of every offline algorithm at its default sizes.
struct BenchTrain: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Gradient steps/s of each algorithm (offline: HalfCheetah dims; sac: Hopper dims), FLOPs and sgemm-bound fraction.",
    discussion: """
      Each offline algorithm is built with its default configuration for 17 observations and 6 actions (online
      SAC for Hopper's 11 and 3: the update alone, without environment steps) and updated on
      pre-generated random batches (batch 256, or the algorithm's reference batch: rebrac 1024).
      gflops = matrix-product FLOPs of one update (every sgemm call of an update, recorded) × steps/s.
      sgemm_fraction = (time the same sgemm calls take as bare sgemm on warm preallocated buffers) / (update
      time), the median over 7 pairs of batches alternating real updates with the bare products. fma_peak_fraction = gflops / (one core's FMA peak × threads), the peak measured by an FMA loop on this CPU (or --peak).
      Where the rest goes: sgemm_time_share = wall time inside sgemm calls / wall time of the updates (the rest
      is Stitch's own work: elementwise ops, Adam, the tape); in_step_sgemm_vs_bare = (bare time of the step's
      sgemm calls) / (their time inside the step): below 1 when products run slower inside a step (cold caches).
      benchmarks/train-vs-jax runs this beside jit-compiled JAX updates of TD3+BC, IQL and CQL.
      Example:
        stitch bench train --json --threads 1
      """)

  @OptionGroup var options: BenchOptions
  @Option(help: "Comma-separated algorithm ids (default: every offline algorithm).") var algos: String?
  @Option(help: "FMA peak GFLOP/s of one core, for fma_peak_fraction (default: measured on this CPU, see `stitch system`).") var peak: Double?
  @Flag(help: "Also list each algorithm's matrix products per update (M×N×K, transposes, count, MFLOP) on stderr, to audit its FLOPs against a reference implementation's.") var shapes = false

  func run() throws {
    try options.applyThreads()
    guard let peak = peak ?? BLAS.measuredFMAPeakGFLOPS, peak > 0 else {
      throw ValidationError("could not measure this CPU's FMA peak (no AVX2/AVX-512 found); pass --peak GFLOP/s")
    }
    let types = try (algos?.split(separator: ",").map(String.init) ?? (AlgorithmRegistry.offline.map { $0.id } + ["sac"])).map { id -> any Algorithm.Type in
      guard let t = AlgorithmRegistry.named(id) else { throw ValidationError("unknown algorithm \(id)") }
      return t
    }
    var results: [BenchResult] = []
    for type in types { results.append(try withAlgorithm(type, Measure(options: options, peak: peak, listShapes: shapes))) }
    BenchReport.print(results, json: options.json)
  }

  struct Measure: AlgorithmVisitor {
    let options: BenchOptions
    let peak: Double
    var listShapes = false
    /// Two updates' products (so delayed actor steps count once), largest FLOPs first, as M×N×K with the
    /// operands' transposes (N: as stored, T: transposed), calls per update and MFLOP per update.
    static func printShapes(_ shapes: [SgemmRecorder.Shape: Int], algorithm: String) {
      var lines = ["\(algorithm): matrix products per update (two updates recorded, halved)"]
      for (shape, count) in shapes.sorted(by: { $0.key.flops * Double($0.value) > $1.key.flops * Double($1.value) }) {
        let ops = (shape.transposeA ? "T" : "N") + (shape.transposeB ? "T" : "N")
        lines.append(String(format: "  %@ %5d×%-5d×%5d  calls %4.1f  MFLOP %8.2f", ops, shape.m, shape.n, shape.k,
                            Double(count) / 2, shape.flops * Double(count) / 2 / 1e6))
      }
      let total = shapes.reduce(0.0) { $0 + $1.key.flops * Double($1.value) } / 2 / 1e6
      lines.append(String(format: "  total MFLOP per update %.1f", total))
      FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }

    /// A batch of random rows (normal observations and rewards, uniform actions in [−1, 1]).
    static func randomBatch(size b: Int, observationDim od: Int, actionDim ad: Int, using rng: inout RandomStream) -> Batch {
      var batch = Batch(size: b, observationDim: od, actionDim: ad)
      batch.observations = Tensor.normal([b, od], using: &rng)
      batch.actions = Tensor.uniform([b, ad], in: -1...1, using: &rng)
      batch.rewards = Tensor.normal([b, 1], using: &rng)
      batch.nextObservations = Tensor.normal([b, od], using: &rng)
      batch.nextActions = Tensor.uniform([b, ad], in: -1...1, using: &rng)
      return batch
    }

    func visit<A: Algorithm>(_ type: A.Type) throws -> BenchResult {
      // Offline algorithms at HalfCheetah's sizes; online SAC at Hopper's (11 observations, 3 actions).
      let (env, od, ad) = A.id == "sac" ? ("Hopper-v4", 11, 3) : ("HalfCheetah-v4", 17, 6)
      let task = TaskSpec(id: env, observationDim: od, actionDim: ad)
      let b = A.trainingDefaults.batchSize
      var rng = RandomStream(seed: 1)
      let batches: [Batch] = (0..<16).map { _ in Self.randomBatch(size: b, observationDim: od, actionDim: ad, using: &rng) }
      var agent = A(configuration: A.defaultConfiguration, task: task, rng: RandomStream(seed: 0))
      // Warm up (buffer pools, optimizer state), then record the sgemm calls of two updates (delayed actor
      // updates alternate) and halve.
      for i in 0..<4 { _ = try agent.update(on: batches[i]) }
      var shapes: [SgemmRecorder.Shape: Int] = [:]
      var recordError: (any Error)? = nil
      shapes = SgemmRecorder.record { do { _ = try agent.update(on: batches[4]); _ = try agent.update(on: batches[5]) } catch { recordError = error } }
      if let recordError { throw recordError }
      let flopsPerStep = shapes.reduce(0.0) { $0 + $1.key.flops * Double($1.value) } / 2
      if listShapes { Self.printShapes(shapes, algorithm: A.id) }
      var t = 6
      // The sgemm bound: the recorded products of two updates run bare on warm buffers (with their transposes),
      // alternating with pairs of real updates.
      let probes = shapes.map { (SgemmProbe($0.key.m, $0.key.k, $0.key.n, transposeA: $0.key.transposeA, transposeB: $0.key.transposeB), $0.value) }
      let measured = try options.harness.pairedFraction(step: {
        _ = try agent.update(on: batches[t & 15]); _ = try agent.update(on: batches[(t + 1) & 15]); t += 2
      }, bare: { for (p, count) in probes { for _ in 0..<count { p.run() } } })
      let stepsPerSecond = 2 * measured.stepsPerSecond
      let boundSeconds = measured.fraction / stepsPerSecond
      // Where the step's time goes: seconds inside sgemm during a timed stretch of updates.
      let timedSteps = Swift.max(4, Int(stepsPerSecond * options.seconds / 7))
      var wall = 0.0
      var stepError: (any Error)? = nil
      let inGemm = SgemmRecorder.timeInGemm {
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<timedSteps { do { _ = try agent.update(on: batches[t & 15]); t += 1 } catch { stepError = error } }
        wall = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
      }
      if let stepError { throw stepError }
      let gemmPerStep = inGemm / Double(timedSteps)
      let gflops = flopsPerStep * stepsPerSecond / 1e9
      return BenchResult(name: A.id, stepsPerSecond: stepsPerSecond, gflops: gflops, sgemmFraction: measured.fraction,
                         threads: options.threads,
                         extra: [("batch", Double(b)), ("mflop_per_step", flopsPerStep / 1e6),
                                 ("fma_peak_fraction", gflops / (peak * Double(options.threads))),
                                 ("sgemm_time_share", inGemm / wall),
                                 ("in_step_sgemm_vs_bare", boundSeconds / gemmPerStep)])
    }
  }
}
