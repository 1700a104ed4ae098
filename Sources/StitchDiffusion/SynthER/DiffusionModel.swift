import Foundation
import StitchNN

import StitchTensor

/// Hyperparameters of denoiser training. `cpu` is Stitch's default, sized for a 2-core machine; `paper` is
/// SynthER's configuration (width 2048, batch 1024, 100k steps; docs/facts.md §2h), days of CPU time.
public struct DiffusionTrainingConfiguration: Codable, Sendable, Equatable {
  public var size: ResidualMLPDenoiser.Size
  public var batchSize: Int
  public var steps: Int
  /// Adam learning rate, cosine-annealed to 0 over `steps` (SynthER: 3e-4, betas (0.9, 0.99), no weight decay).
  public var learningRate: Float = 3e-4
  public var beta2: Float = 0.99
  /// EMA of the weights, updated every `emaEvery` steps (SynthER: 0.995 every 10).
  public var emaDecay: Float = 0.995
  public var emaEvery = 10
  public var preconditioning = EDMPreconditioning()

  public init(size: ResidualMLPDenoiser.Size, batchSize: Int, steps: Int) {
    self.size = size
    self.batchSize = batchSize
    self.steps = steps
  }

  /// Stitch's CPU default: width 512, 6 blocks, batch 256, 20k steps.
  public static let cpu = DiffusionTrainingConfiguration(size: .init(width: 512), batchSize: 256, steps: 20_000)
  /// SynthER's own: width 2048, 6 blocks, batch 1024, 100k steps.
  public static let paper = DiffusionTrainingConfiguration(size: .init(width: 2048), batchSize: 1024, steps: 100_000)
}

/// A trained (or training) EDM diffusion model over rows of dimension d: the network, its EMA copy (used for
/// sampling, as SynthER) and the preconditioning.
public struct DiffusionModel {
  public var net: ResidualMLPDenoiser
  public var ema: ResidualMLPDenoiser
  public var preconditioning: EDMPreconditioning

  public init(dimension: Int, size: ResidualMLPDenoiser.Size, preconditioning: EDMPreconditioning = EDMPreconditioning(), rng: inout RandomStream) {
    net = ResidualMLPDenoiser(dimension: dimension, size: size, rng: &rng)
    ema = net
    self.preconditioning = preconditioning
  }

  /// The EDM schedule this model samples on (α = 1, σ = t from σ_max to σ_min).
  public var schedule: EDMSchedule { EDMSchedule(sigmaMin: preconditioning.sigmaMin, sigmaMax: preconditioning.sigmaMax) }

  /// A sampler-facing denoiser (x̂₀ for rows at σ = t) running the EMA network in Float32.
  public func denoiser(useEMA: Bool = true) -> Denoiser {
    let network = useEMA ? ema : net
    let d = network.dimension
    let pre = preconditioning
    return { x, t in
      let rows = x.count / d
      let input = Tensor(shape: [rows, d], scalars: x.map { Float($0) })
      let sigma = Tensor(repeating: Float(t), shape: [rows])
      return pre.denoise(network, input, sigma: sigma).scalars.map { Double($0) }
    }
  }

  /// Stores both networks, the Fourier frequencies and the preconditioning.
  public func store(into c: inout Checkpoint) {
    c.store(net, as: "net.")
    c.store(ema, as: "ema.")
    c.tensors["fourier_frequencies"] = net.frequencies
    c.metadata["denoiser_width"] = String(net.output.inputSize)
    c.metadata["denoiser_depth"] = String(net.blocks.count)
    c.metadata["denoiser_time_dim"] = String(net.timeOut.outputSize)
    c.metadata["denoiser_dimension"] = String(net.dimension)
    c.metadata["edm"] = try! Checkpoint.json(preconditioning)
  }

  /// Rebuilds a model from a checkpoint written by `store(into:)`.
  public init(from c: Checkpoint) throws {
    guard let w = c.metadata["denoiser_width"].flatMap(Int.init), let depth = c.metadata["denoiser_depth"].flatMap(Int.init),
          let td = c.metadata["denoiser_time_dim"].flatMap(Int.init), let d = c.metadata["denoiser_dimension"].flatMap(Int.init),
          let freq = c.tensors["fourier_frequencies"], let edm = c.metadata["edm"] else {
      throw Checkpoint.RestoreError.badMetadata("denoiser size, Fourier frequencies or EDM settings")
    }
    var rng = RandomStream(seed: 0)
    self.init(dimension: d, size: .init(width: w, depth: depth, timeDimension: td), rng: &rng)
    preconditioning = try JSONDecoder().decode(EDMPreconditioning.self, from: Data(edm.utf8))
    try c.restore(&net, from: "net.")
    try c.restore(&ema, from: "ema.")
    net.frequencies = freq
    ema.frequencies = freq
  }
}

/// Trains a `DiffusionModel` with the EDM loss: Adam (β₂ 0.99) with cosine-annealed learning rate, EMA every
/// `emaEvery` steps, minibatches drawn uniformly from the rows. Checkpoints (model, optimizer, RNG, step) resume
/// bit-exactly.
public struct DiffusionTrainer {
  public var model: DiffusionModel
  public var optimizer: Adam
  public var configuration: DiffusionTrainingConfiguration
  public var step = 0
  var rng: RandomStream

  public init(dimension: Int, configuration: DiffusionTrainingConfiguration, seed: UInt64) {
    var root = RandomStream(seed: seed)
    var initRNG = root.child(named: "denoiser-init")
    model = DiffusionModel(dimension: dimension, size: configuration.size, preconditioning: configuration.preconditioning, rng: &initRNG)
    optimizer = Adam(learningRate: configuration.learningRate, beta1: 0.9, beta2: configuration.beta2)
    self.configuration = configuration
    rng = root.child(named: "denoiser-train")
  }

  /// Runs until `configuration.steps` (or `until`) on `data` (rows × d, row-major, already normalised).
  /// `progress(step, loss)` is called every 100 steps; `shouldStop` ends the loop early (Ctrl-C).
  public mutating func train(data: [Float], until: Int? = nil, progress: (Int, Float) -> Void = { _, _ in },
                             shouldStop: () -> Bool = { false }) throws {
    let d = model.net.dimension
    let rows = data.count / d
    guard rows > 0 else { throw DiffusionTrainingError.noRows(values: data.count, dimension: d) }
    let b = configuration.batchSize
    var batch = [Float](repeating: 0, count: b * d)
    let end = Swift.min(until ?? configuration.steps, configuration.steps)
    var running: Float = 0
    while step < end && !shouldStop() {
      for r in 0..<b {
        let i = Int(rng.next() % UInt64(rows))
        for j in 0..<d { batch[r * d + j] = data[i * d + j] }
      }
      let clean = Tensor(shape: [b, d], scalars: batch)
      var lossRNG = rng.child(named: "loss-\(step)")
      let pre = model.preconditioning
      let (loss, grad) = try valueWithGradient(at: model.net) { net in pre.loss(net, clean: clean, rng: &lossRNG) }
      optimizer.learningRate = LearningRateSchedule.cosine(steps: configuration.steps, minimum: 0).rate(base: configuration.learningRate, at: step)
      optimizer.update(&model.net, along: grad)
      step += 1
      if step % configuration.emaEvery == 0 { model.ema.moveTowards(model.net, rate: 1 - configuration.emaDecay) }
      running += loss
      if step % 100 == 0 { progress(step, running / 100); running = 0 }
    }
  }

  public func checkpoint() -> Checkpoint {
    var c = Checkpoint()
    model.store(into: &c)
    c.store(optimizer: optimizer, as: "optimizer.")
    c.metadata["step"] = String(step)
    c.metadata["rng"] = "\(rng.state),\(rng.increment)"
    c.metadata["training"] = try! Checkpoint.json(configuration)
    return c
  }

  /// Resumes from a checkpoint written by `checkpoint()`.
  public init(resuming c: Checkpoint) throws {
    guard let cfg = c.metadata["training"], let s = c.metadata["step"].flatMap(Int.init) else {
      throw Checkpoint.RestoreError.badMetadata("training")
    }
    configuration = try JSONDecoder().decode(DiffusionTrainingConfiguration.self, from: Data(cfg.utf8))
    model = try DiffusionModel(from: c)
    optimizer = Adam(learningRate: configuration.learningRate, beta1: 0.9, beta2: configuration.beta2)
    optimizer.prepare(for: model.net)
    try c.restore(optimizer: &optimizer, from: "optimizer.")
    step = s
    let parts = (c.metadata["rng"] ?? "").split(separator: ",").compactMap { UInt64($0) }
    guard parts.count == 2 else { throw Checkpoint.RestoreError.badMetadata("rng") }
    rng = RandomStream(state: parts[0], increment: parts[1])
  }
}

/// Data a denoiser cannot be trained on.
public enum DiffusionTrainingError: Error, CustomStringConvertible, Equatable {
  /// Fewer values than one row of the model's dimension.
  case noRows(values: Int, dimension: Int)
  public var description: String {
    switch self {
    case .noRows(let values, let dimension):
      return "no training rows: \(values) values given, rows of \(dimension) expected (is the dataset empty?)"
    }
  }
}
