import ArgumentParser
import Foundation

import Stitch

/// `stitch bench core`: full training steps (forward, backward, Adam) of the networks Stitch trains, against the
/// sgemm-bound rate of the same matrix products measured in the same run.
struct BenchCore: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "core",
    abstract: "Time full training steps (forward, backward, Adam) of MLPs and an ensemble; compare with raw sgemm.",
    discussion: """
      Networks at batch 256: MLP 17→256→256→6, MLP 42→1024×4→42, and a 10-member ensemble 17→256→256→1.
      gflops counts matrix-product FLOPs (forward 2·B·in·out per layer; backward twice that, minus the input
      gradient of the first layer, which is not needed). sgemm_fraction = (time the same products take as bare
      sgemm calls on warm buffers, with the step's transposes) / (step time), the median over 7 pairs of batches
      that alternate the step and the bare products: 1.0 would mean zero overhead.
      Example:
        stitch bench core --json
      """)

  @OptionGroup var options: BenchOptions

  struct Case {
    var name: String
    var layers: [(Int, Int)]  // (in, out)
    var members: Int
  }

  func run() throws {
    try options.applyThreads()
    let batch = 256
    let cases = [
      Case(name: "mlp 17-256-256-6", layers: [(17, 256), (256, 256), (256, 6)], members: 1),
      Case(name: "mlp 42-1024x4-42", layers: [(42, 1024), (1024, 1024), (1024, 1024), (1024, 1024), (1024, 42)], members: 1),
      Case(name: "ensemble10 17-256-256-1", layers: [(17, 256), (256, 256), (256, 1)], members: 10),
    ]
    var results: [BenchResult] = []
    for c in cases {
      var rng = RandomStream(seed: 0)
      let x = Tensor.normal([batch, c.layers[0].0], using: &rng)
      let y = Tensor.normal(c.members > 1 ? [c.members, batch, c.layers.last!.1] : [batch, c.layers.last!.1], using: &rng)
      let hidden = c.layers.dropLast().map(\.1)
      // The products of one step, each with the transposes the step uses: forward x·Wᵀ (B×in×out, W stored
      // [out, in]), weight gradient Gᵀ·x (out×B×in) and input gradient G·W (B×out×in, not for the first layer),
      // per member; timed bare on warm buffers, alternating with the step itself.
      var flops = 0.0
      var probes: [SgemmProbe] = []
      for (i, (fanIn, fanOut)) in c.layers.enumerated() {
        var shapes = [(batch, fanIn, fanOut, false, true), (fanOut, batch, fanIn, true, false)]
        if i > 0 { shapes.append((batch, fanOut, fanIn, false, false)) }
        for (m, k, n, ta, tb) in shapes {
          flops += 2.0 * Double(m * k * n) * Double(c.members)
          for _ in 0..<c.members { probes.append(SgemmProbe(m, k, n, transposeA: ta, transposeB: tb)) }
        }
      }
      let bare = { for p in probes { p.run() } }
      let measured: (stepsPerSecond: Double, fraction: Double)
      if c.members == 1 {
        var model = MLP(inputSize: c.layers[0].0, hiddenSizes: hidden, outputSize: c.layers.last!.1, rng: &rng)
        var adam = Adam(learningRate: 1e-4)
        measured = try options.harness.pairedFraction(step: {
          let (_, g) = try valueWithGradient(at: model) { m in Tensor.meanSquaredError(m(x), y) }
          adam.update(&model, along: g)
        }, bare: bare)
      } else {
        var model = EnsembleMLP(members: c.members, inputSize: c.layers[0].0, hiddenSizes: hidden, outputSize: c.layers.last!.1, rng: &rng)
        var adam = Adam(learningRate: 1e-4)
        measured = try options.harness.pairedFraction(step: {
          let (_, g) = try valueWithGradient(at: model) { m in Tensor.meanSquaredError(m(x), y) }
          adam.update(&model, along: g)
        }, bare: bare)
      }
      results.append(BenchResult(name: c.name, stepsPerSecond: measured.stepsPerSecond, gflops: flops * measured.stepsPerSecond / 1e9,
                                 sgemmFraction: measured.fraction, threads: options.threads,
                                 extra: [("mflop_per_step", flops / 1e6)]))
    }
    BenchReport.print(results, json: options.json)
  }
}
