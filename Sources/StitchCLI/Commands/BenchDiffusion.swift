import ArgumentParser
import Dispatch
import Foundation

import Stitch

/// `stitch bench diffusion`: SynthER denoiser training updates/s and sampling throughput at a given width.
struct BenchDiffusion: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "diffusion",
    abstract: "SynthER denoiser: training updates/s (EDM loss, Adam) and samples/s with Euler at 32 steps.",
    discussion: """
      denoiser-train: one update of SynthER's residual-MLP denoiser (6 blocks, time dimension 128) with the EDM
      loss and Adam on random 27-dimensional rows (Hopper transitions), batch --batch-size, width --width (1024 is the
      size the JAX anchor figures in docs/stack.md use; SynthER's paper uses 2048). mflop_per_step = 3 ×
      the forward matrix FLOPs (forward + backward). sample-euler: transitions per second made by the EDM Euler
      sampler at --sample-steps Karras steps, 256 rows per chunk, one chunk per thread (--threads 1: one chunk,
      2: two chunks in parallel). benchmarks/denoiser-vs-jax runs this beside a jit-compiled JAX version.
      Example:
        stitch bench diffusion --json --threads 1 --width 1024
      """)

  @OptionGroup var options: BenchOptions
  @Option(help: "Denoiser width.") var width: Int = 1024
  @Option(name: .customLong("batch-size"), help: "Training batch size (default 256).") var batchSizeOption: Int?
  @Option(name: .customLong("batch"), help: ArgumentHelp("Former spelling of --batch-size (kept for one release).", visibility: .hidden)) var batchAlias: Int?
  var batch: Int { batchSizeOption ?? batchAlias ?? 256 }
  @Option(help: "Euler sampler steps.") var sampleSteps: Int = 32

  func run() throws {
    if batchSizeOption != nil, batchAlias != nil { throw ValidationError("give the batch size once, with --batch-size") }
    guard width > 0, batch > 0, sampleSteps > 0 else { throw ValidationError("--width, --batch-size and --sample-steps must be positive") }
    let d = 27
    var rng = RandomStream(seed: 3)
    let data = (0..<(4096 * d)).map { _ in Float(rng.nextNormal()) }
    var config = DiffusionTrainingConfiguration(size: .init(width: width), batchSize: batch, steps: 1 << 40)
    config.emaEvery = 10
    var trainer = DiffusionTrainer(dimension: d, configuration: config, seed: 0)
    try options.applyThreads()
    try trainer.train(data: data, until: 3)  // warm-up: buffers, optimizer state
    let train = try options.harness.rate { try trainer.train(data: data, until: trainer.step + 1) }
    let flops = 3 * trainer.model.net.forwardFlopsPerRow * Double(batch)
    var results = [BenchResult(name: "denoiser-train", stepsPerSecond: train.median, gflops: flops * train.median / 1e9, sgemmFraction: nil,
                               threads: options.threads, extra: [("mflop_per_step", flops / 1e6), ("width", Double(width)), ("batch", Double(batch))])]
    guard let euler = Samplers.named("euler") else { throw ValidationError("no euler sampler") }
    let layout = SynthER.Layout(observationDim: 11, actionDim: 3, mean: .init(repeating: 0, count: d), std: .init(repeating: 1, count: d))
    let rows = 256 * Swift.max(1, options.threads)
    let sample = try options.harness.rate {
      _ = try SynthER.generate(model: trainer.model, layout: layout, count: rows, sampler: euler, steps: sampleSteps, seed: 5, chunk: 256)
    }
    let sampleFlops = trainer.model.ema.forwardFlopsPerRow * Double(rows * euler.evaluations(steps: sampleSteps))
    results.append(BenchResult(name: "sample-euler", stepsPerSecond: sample.median * Double(rows), gflops: sampleFlops * sample.median / 1e9,
                               sgemmFraction: nil, threads: options.threads,
                               extra: [("steps", Double(sampleSteps)), ("nfe", Double(euler.evaluations(steps: sampleSteps)))]))
    BenchReport.print(results, json: options.json)
  }
}
