import ArgumentParser
import Foundation

import Stitch

/// `stitch bench backends`: every sgemm backend on every product shape the updates use (issue 25).
struct BenchBackends: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "backends",
    abstract: "GFLOP/s of each sgemm backend (OpenBLAS, oneDNN, libxsmm, BLIS) on the products of Stitch's updates.",
    discussion: """
      The shapes are recorded from one update of each algorithm in --algos (HalfCheetah's widths, as
      `stitch bench train --shapes` lists them) and from one training step of the 7-member dynamics ensemble
      (4 × 200 hidden, 256 rows per member; ensemble products count once per member, as Stitch runs them).
      Each backend runs each shape alone on warm buffers (median of 7 timed batches); a backend that declines a
      shape (libxsmm: a transposed B) shows "-", an absent one is listed with the reason. Every result is
      checked against OpenBLAS's (max relative difference) before it is timed. `best` is the fastest backend;
      `plan` the one Stitch's plan for this process gives (STITCH_SGEMM, `stitch system`); share = the shape's
      FLOPs over all the recorded updates' FLOPs.
      --threads 2 splits every product over Stitch's two lanes, as training with --lanes 2 does.
      Example:
        stitch bench backends --algos td3bc,iql --seconds 0.5 --json
      """)

  @OptionGroup var options: BenchOptions
  @Option(help: "Comma-separated algorithm ids whose updates give the shapes.") var algos = "td3bc,iql,cql,edac"
  @Flag(help: "Leave out the dynamics ensemble's shapes.") var noDynamics = false
  @Option(help: "Comma-separated backends (default: every one present).") var backends: String?

  func run() throws {
    try options.applyThreads()
    let wanted = try (backends?.split(separator: ",").map(String.init) ?? GemmBackend.allCases.map(\.rawValue)).map { name -> GemmBackend in
      guard let b = GemmBackend(rawValue: name) else {
        throw ValidationError("unknown backend \(name) (known: \(GemmBackend.allCases.map(\.rawValue).joined(separator: ", ")))")
      }
      return b
    }
    var present: [GemmBackend] = []
    for b in wanted {
      if b.isAvailable { present.append(b) } else { FileHandle.standardError.write(Data("note: \(b.rawValue) not measured: \(b.note)\n".utf8)) }
    }
    var counts: [SgemmRecorder.Shape: Int] = [:]
    for id in algos.split(separator: ",").map(String.init) {
      guard let type = AlgorithmRegistry.named(id) else { throw ValidationError("unknown algorithm \(id)") }
      for (shape, n) in try withAlgorithm(type, RecordShapes()) { counts[shape, default: 0] += n }
    }
    if !noDynamics { for (shape, n) in try Self.dynamicsShapes() { counts[shape, default: 0] += n } }
    let total = counts.reduce(0.0) { $0 + $1.key.flops * Double($1.value) }
    let shapes = counts.sorted { $0.key.flops * Double($0.value) > $1.key.flops * Double($1.value) }
    var rows: [[String]] = [["shape", "share"] + present.map(\.rawValue) + ["best", "plan"]]
    var json: [JSONText] = []
    var perShape: [[GemmBackend: Double]] = []
    var planned: [GemmBackend] = []
    let progress = ProgressReporter(label: "bench backends", total: shapes.count, unit: "shapes")
    for (done, (shape, count)) in shapes.enumerated() {
      let flop = shape.flops
      let reference = SgemmProbe(shape.m, shape.k, shape.n, transposeA: shape.transposeA, transposeB: shape.transposeB, plan: .openblas)
      reference.run()
      var rates: [GemmBackend: Double] = [:]
      var differences: [GemmBackend: Double] = [:]
      for b in present where b.accepts(transposeA: shape.transposeA, transposeB: shape.transposeB, beta: 0) {
        let probe = SgemmProbe(shape.m, shape.k, shape.n, transposeA: shape.transposeA, transposeB: shape.transposeB, plan: .only(b))
        probe.run()
        differences[b] = Self.maxRelativeDifference(probe.output, reference.output)
        rates[b] = options.harness.rate { probe.run() }.median * flop / 1e9
      }
      let best = rates.max { $0.value < $1.value }?.key
      perShape.append(rates)
      let plan = BLAS.backend(m: shape.m, n: shape.n, k: shape.k, transposeA: shape.transposeA, transposeB: shape.transposeB, beta: 0)
      planned.append(plan)
      let name = "\(shape.transposeA ? "T" : "N")\(shape.transposeB ? "T" : "N") \(shape.m)×\(shape.n)×\(shape.k)"
      let share = flop * Double(count) / total
      rows.append([name, String(format: "%.3f", share)] + present.map { b in
        guard let r = rates[b] else { return "-" }
        return String(format: "%.1f", r) + ((differences[b] ?? 0) > 1e-4 ? " (differs \(String(format: "%.0e", differences[b]!)))" : "")
      } + [best?.rawValue ?? "-", plan.rawValue])
      json.append(.object([
        ("transpose_a", .bool(shape.transposeA)), ("transpose_b", .bool(shape.transposeB)),
        ("m", .number(Double(shape.m))), ("n", .number(Double(shape.n))), ("k", .number(Double(shape.k))),
        ("calls", .number(Double(count))), ("flop_share", .number(share)),
        ("gflops", .object(rates.sorted { $0.key.rawValue < $1.key.rawValue }.map { ($0.key.rawValue, .number($0.value)) })),
        ("max_relative_difference", .object(differences.sorted { $0.key.rawValue < $1.key.rawValue }.map { ($0.key.rawValue, .number($0.value)) })),
        ("best", best.map { .string($0.rawValue) } ?? .null), ("plan", .string(plan.rawValue)),
      ]))
      progress.update(done + 1)
    }
    progress.finish()
    // The FLOP-weighted rate of the recorded updates' products (total FLOPs / total seconds) with each shape on
    // one backend (OpenBLAS where it declines), on the fastest, and on the plan's choice.
    func weighted(_ pick: (Int) -> Double) -> Double {
      total / shapes.indices.reduce(0.0) { $0 + shapes[$1].key.flops * Double(shapes[$1].value) / (pick($1) * 1e9) } / 1e9
    }
    let openblasRates = perShape.map { $0[.openblas] ?? .nan }
    var summary: [(String, Double)] = present.map { b in (b.rawValue, weighted { perShape[$0][b] ?? openblasRates[$0] }) }
    summary.append(("best", weighted { perShape[$0].values.max() ?? openblasRates[$0] }))
    summary.append(("plan", weighted { perShape[$0][planned[$0]] ?? openblasRates[$0] }))
    let machine = MachineInfo.current().fields.filter { ["cpu", "openblas_core", "sgemm_plan"].contains($0.0) }
    if options.json {
      Swift.print(JSONText.object([
        ("results", .array(json)),
        ("threads", .number(Double(options.threads))),
        ("weighted_gflops", .object(summary.map { ($0.0, .number($0.1)) })),
        ("backends", .object(GemmBackend.allCases.map { ($0.rawValue, .object([
          ("available", .bool($0.isAvailable)), ("version", .string($0.version)), ("note", .string($0.note))])) })),
        ("machine", .object(machine.map { ($0.0, .string($0.1)) })),
      ]))
    } else {
      let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max()! }
      for row in rows { Swift.print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")) }
      Swift.print("FLOP-weighted over the recorded updates: " + summary.map { "\($0.0) \(String(format: "%.1f", $0.1))" }.joined(separator: ", "))
      Swift.print("GFLOP/s, threads \(options.threads); machine: " + machine.map { "\($0.0)=\($0.1)" }.joined(separator: ", "))
    }
  }

  /// The products of one dynamics-ensemble training step (forward, loss, backward) at HalfCheetah's widths.
  static func dynamicsShapes() throws -> [SgemmRecorder.Shape: Int] {
    var rng = RandomStream(seed: 0)
    let model = DynamicsEnsemble(members: 7, observationDim: 17, actionDim: 6, hiddenSizes: [200, 200, 200, 200], rng: &rng)
    let x = Tensor.normal([7, 256, 23], using: &rng), y = Tensor.normal([7, 256, 18], using: &rng)
    return try SgemmRecorder.record { _ = try valueWithGradient(at: model) { m in m.loss(scaledInputs: x, targets: y) } }
  }

  static func maxRelativeDifference(_ a: [Float], _ b: [Float]) -> Double {
    var worst = 0.0
    for (x, y) in zip(a, b) { worst = Swift.max(worst, Double(abs(x - y)) / (1 + Double(abs(y)))) }
    return worst
  }

  /// Records the products of two updates of an algorithm at HalfCheetah's widths (halved: per update).
  struct RecordShapes: AlgorithmVisitor {
    func visit<A: Algorithm>(_ type: A.Type) throws -> [SgemmRecorder.Shape: Int] {
      let (od, ad) = A.id == "sac" ? (11, 3) : (17, 6)
      let task = TaskSpec(id: A.id == "sac" ? "Hopper-v4" : "HalfCheetah-v4", observationDim: od, actionDim: ad)
      let b = A.trainingDefaults.batchSize
      var rng = RandomStream(seed: 1)
      let batch = BenchTrain.Measure.randomBatch(size: b, observationDim: od, actionDim: ad, using: &rng)
      var agent = A(configuration: A.defaultConfiguration, task: task, rng: RandomStream(seed: 0))
      _ = try agent.update(on: batch)
      var failure: (any Error)?
      let shapes = SgemmRecorder.record { do { _ = try agent.update(on: batch); _ = try agent.update(on: batch) } catch { failure = error } }
      if let failure { throw failure }
      return shapes
    }
  }
}
