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
      sgemm calls, each shape measured in this run) / (measured step time): 1.0 would mean zero overhead.
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
    BLAS.threads = options.threads
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
      var stepTime: Double
      if c.members == 1 {
        var model = MLP(inputSize: c.layers[0].0, hiddenSizes: hidden, outputSize: c.layers.last!.1, rng: &rng)
        var adam = Adam(learningRate: 1e-4)
        let rate = try options.harness.rate {
          let (_, g) = try valueWithGradient(at: model) { m in Tensor.meanSquaredError(m(x), y) }
          adam.update(&model, along: g)
        }
        stepTime = 1 / rate.median
      } else {
        var model = EnsembleMLP(members: c.members, inputSize: c.layers[0].0, hiddenSizes: hidden, outputSize: c.layers.last!.1, rng: &rng)
        var adam = Adam(learningRate: 1e-4)
        let rate = try options.harness.rate {
          let (_, g) = try valueWithGradient(at: model) { m in Tensor.meanSquaredError(m(x), y) }
          adam.update(&model, along: g)
        }
        stepTime = 1 / rate.median
      }
      // The products of one step: forward x·Wᵀ (B×in×out), backward dW (out×B×in) and dX (B×out×in), per member.
      var flops = 0.0, boundTime = 0.0
      for (i, (fanIn, fanOut)) in c.layers.enumerated() {
        var shapes = [(batch, fanIn, fanOut), (fanOut, batch, fanIn)]
        if i > 0 { shapes.append((batch, fanOut, fanIn)) }
        for (m, k, n) in shapes {
          let f = 2.0 * Double(m * k * n) * Double(c.members)
          flops += f
          boundTime += f / (try sgemmRate(m, k, n))
        }
      }
      results.append(BenchResult(name: c.name, stepsPerSecond: 1 / stepTime, gflops: flops / stepTime / 1e9,
                                 sgemmFraction: boundTime / stepTime, threads: options.threads,
                                 extra: [("mflop_per_step", flops / 1e6)]))
    }
    BenchReport.print(results, json: options.json)
  }

  /// Measured sgemm FLOP/s for an (m×k)·(k×n) product in this run (cached per shape).
  func sgemmRate(_ m: Int, _ k: Int, _ n: Int) throws -> Double {
    let key = "\(m)x\(k)x\(n)"
    if let r = BenchCore.cache[key] { return r }
    let probe = SgemmProbe(m, k, n)
    let rate = BenchHarness(seconds: max(0.3, options.seconds / 4), samples: 5).rate { probe.run() }.median * 2 * Double(m * k * n)
    BenchCore.cache[key] = rate
    return rate
  }

  nonisolated(unsafe) static var cache: [String: Double] = [:]
}
