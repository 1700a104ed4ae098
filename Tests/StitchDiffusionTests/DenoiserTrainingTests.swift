import Foundation
import Testing
@testable import StitchDiffusion
import StitchNN

import StitchTensor

@Suite struct DenoiserTrainingTests {
  /// 4000 points from the standard 2-D mixture, standardised like SynthER's data is not needed here (σ_data 1 and
  /// the mixture's scale are comparable).
  static func mixtureData(_ n: Int) -> [Float] {
    var rng = RandomStream(seed: 21)
    let m = GaussianMixture.standard
    var out: [Float] = []
    for _ in 0..<n {
      let u = rng.nextDouble()
      let k = u < m.weights[0] ? 0 : (u < m.weights[0] + m.weights[1] ? 1 : 2)
      for j in 0..<2 { out.append(Float(m.means[k][j] + m.scales[k] * rng.nextNormal())) }
    }
    return out
  }

  /// A small denoiser trained with the EDM loss reproduces the mixture's three modes: samples (DPM-Solver++2M,
  /// 20 steps, on the EMA weights) fall near the modes in proportions within 0.1 of the weights.
  @Test func smallDenoiserReproducesTheMixtureModes() throws {
    var config = DiffusionTrainingConfiguration(size: .init(width: 64, depth: 2, timeDimension: 32), batchSize: 256, steps: 2500)
    config.learningRate = 2e-3
    config.emaDecay = 0.9
    var trainer = DiffusionTrainer(dimension: 2, configuration: config, seed: 3)
    try trainer.train(data: Self.mixtureData(4000))
    let model = trainer.model
    var rng = RandomStream(seed: 4)
    let n = 1000
    var x = (0..<(2 * n)).map { _ in model.schedule.maxTime * rng.nextNormal() }
    try DPMSolverPlusPlus(.twoM).sample(&x, times: StepSpacing.karras.times(20, schedule: model.schedule), schedule: model.schedule,
                                        model: model.denoiser(), rng: &rng)
    let m = GaussianMixture.standard
    var counts = [0, 0, 0], far = 0
    for r in 0..<n {
      let d = m.means.map { ($0[0] - x[2 * r]) * ($0[0] - x[2 * r]) + ($0[1] - x[2 * r + 1]) * ($0[1] - x[2 * r + 1]) }
      let k = d.firstIndex(of: d.min()!)!
      counts[k] += 1
      if d[k].squareRoot() > 3 * m.scales[k] { far += 1 }
    }
    for k in 0..<3 {
      #expect(Swift.abs(Double(counts[k]) / Double(n) - m.weights[k]) < 0.1, "mode \(k): \(counts[k]) of \(n), weight \(m.weights[k])")
    }
    #expect(Double(far) / Double(n) < 0.1, "\(far) samples lie more than 3 scales from every mode")
  }

  @Test func trainingResumesBitExactly() throws {
    let config = DiffusionTrainingConfiguration(size: .init(width: 16, depth: 1, timeDimension: 8), batchSize: 32, steps: 60)
    let data = Self.mixtureData(200)
    var whole = DiffusionTrainer(dimension: 2, configuration: config, seed: 8)
    try whole.train(data: data)
    var first = DiffusionTrainer(dimension: 2, configuration: config, seed: 8)
    try first.train(data: data, until: 25)
    let bytes = try SafeTensors.encode(first.checkpoint().tensors, metadata: first.checkpoint().metadata)
    let decoded = try SafeTensors.decode(bytes)
    var c = Checkpoint()
    c.tensors = decoded.tensors
    c.metadata = decoded.metadata
    var resumed = try DiffusionTrainer(resuming: c)
    try resumed.train(data: data)
    let a = whole.checkpoint(), b = resumed.checkpoint()
    for (k, t) in a.tensors { #expect(t.isIdentical(to: b.tensors[k]!), "\(k) differs after resume") }
  }
}

/// No rows to train on is an error naming it, not a trap (issue 21 §3.3: `stitch synth` on an empty dataset).
@Suite struct DenoiserInputTests {
  @Test func noTrainingRowsIsAnError() {
    let config = DiffusionTrainingConfiguration(size: .init(width: 8, depth: 1, timeDimension: 8), batchSize: 4, steps: 2)
    var trainer = DiffusionTrainer(dimension: 3, configuration: config, seed: 0)
    #expect(throws: DiffusionTrainingError.noRows(values: 2, dimension: 3)) { try trainer.train(data: [1, 2]) }
    #expect(throws: DiffusionTrainingError.noRows(values: 0, dimension: 3)) { try trainer.train(data: []) }
  }
}
