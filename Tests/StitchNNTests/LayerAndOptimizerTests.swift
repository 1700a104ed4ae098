import Foundation
import Testing
import StitchNN

import StitchTestSupport

@Suite struct LayerAndOptimizerTests {
  @Test func linearInitialisationIsPyTorchDefault() {
    var rng = RandomStream(seed: 1)
    let layer = Linear(inputSize: 64, outputSize: 256, rng: &rng)
    let bound: Float = 1 / 8
    #expect(layer.weight.scalars.allSatisfy { Swift.abs($0) <= bound })
    #expect(layer.bias!.scalars.allSatisfy { Swift.abs($0) <= bound })
    // Uniform on [-b, b] has variance b²/3; 16384 samples give a standard error of about 1%.
    let w = layer.weight.scalars
    let variance = w.map { $0 * $0 }.reduce(0, +) / Float(w.count)
    #expect(Swift.abs(variance / (bound * bound / 3) - 1) < 0.05)
  }

  /// torch.nn.init.orthogonal_: orthonormal rows (wide or square) or columns (tall), scaled by the gain; and
  /// xavier_uniform_ stays inside gain·√(6 / (fan_in + fan_out)).
  @Test func orthogonalAndXavierInitialisationsHaveTheirDefiningProperties() {
    var rng = RandomStream(seed: 4)
    for (rows, cols, gain) in [(256, 256, Float(2).squareRoot()), (64, 23, 1), (1, 256, 0.01), (6, 40, 2)] {
      let w = Initializer.orthogonal(rows: rows, cols: cols, gain: gain, using: &rng).scalars
      // Gram matrix of the shorter side: W·Wᵀ when rows ≤ cols, Wᵀ·W otherwise; it must be gain²·I.
      let (k, len) = rows <= cols ? (rows, cols) : (cols, rows)
      var worst: Float = 0
      for a in 0..<k { for b in a..<k {
        var dot: Float = 0
        for i in 0..<len { dot += rows <= cols ? w[a * cols + i] * w[b * cols + i] : w[i * cols + a] * w[i * cols + b] }
        worst = Swift.max(worst, Swift.abs(dot - (a == b ? gain * gain : 0)))
      } }
      #expect(worst < 2e-5 * Swift.max(1, gain * gain), "\(rows)×\(cols): largest deviation from gain²·I \(worst)")
    }
    let x = Initializer.xavierUniform(rows: 6, cols: 256, gain: 1e-2, using: &rng).scalars
    let bound = 1e-2 * (6 / Float(262)).squareRoot()
    #expect(x.allSatisfy { Swift.abs($0) <= bound } && x.contains { Swift.abs($0) > bound / 2 })
  }

  @Test func mlpNamesFollowPyTorchSequential() {
    var rng = RandomStream(seed: 1)
    let plain = MLP(inputSize: 3, hiddenSizes: [4, 4], outputSize: 2, rng: &rng)
    #expect(plain.namedParameters.map(\.name) == ["net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias", "net.4.weight", "net.4.bias"])
    let normed = MLP(inputSize: 3, hiddenSizes: [4], outputSize: 2, layerNorm: true, rng: &rng)
    #expect(normed.namedParameters.map(\.name) == ["net.0.weight", "net.0.bias", "net.1.weight", "net.1.bias", "net.3.weight", "net.3.bias"])
  }

  @Test func layerGradientsMatchFiniteDifferences() throws {
    var rng = RandomStream(seed: 2)
    let mlp = MLP(inputSize: 3, hiddenSizes: [5], outputSize: 2, activation: .tanh, layerNorm: true, rng: &rng)
    let x = smoothTestInput([4, 3], seed: 3)
    var params = mlp.namedParameters.map(\.value)
    params.append(x)
    let r = try checkGradients(params) { p in
      var m = mlp
      var i = 0
      m.visitParameters("") { _, t in t = p[i]; i += 1 }
      return m(p[p.count - 1])
    }
    #expect(r.passed, "\(r)")
    let ensemble = EnsembleMLP(members: 3, inputSize: 3, hiddenSizes: [4], outputSize: 1, rng: &rng)
    let ex = smoothTestInput([3, 2, 3], seed: 4)
    let e = try checkGradients(ensemble.namedParameters.map(\.value) + [ex]) { p in
      var m = ensemble
      var i = 0
      m.visitParameters("") { _, t in t = p[i]; i += 1 }
      return m(p[p.count - 1])
    }
    #expect(e.passed, "\(e)")
  }

  @Test func ensembleMembersAreIndependentLinearLayers() {
    var rng = RandomStream(seed: 5)
    let layer = EnsembleLinear(members: 2, inputSize: 3, outputSize: 2, rng: &rng)
    let x = Tensor.normal([2, 4, 3], using: &rng)
    let y = layer(x)
    for e in 0..<2 {
      let w = Tensor(shape: [2, 3], scalars: Array(layer.weight.scalars[(e * 6)..<(e * 6 + 6)]))
      let b = Tensor(Array(layer.bias.scalars[(e * 2)..<(e * 2 + 2)]))
      let xe = Tensor(shape: [4, 3], scalars: Array(x.scalars[(e * 12)..<(e * 12 + 12)]))
      let ye = Tensor.linear(xe, weight: w, bias: b)
      #expect(zip(ye.scalars, y.scalars[(e * 8)..<(e * 8 + 8)]).allSatisfy { Swift.abs($0 - $1) < 1e-6 })
    }
  }

  @Test func adamFirstStepIsLearningRateTimesSign() {
    // With m̂ = g and v̂ = g² after one step, the update is −η·g/(|g| + ε) ≈ −η·sign(g).
    var p = Tensor([1, 1, 1])
    var adam = Adam(learningRate: 0.1)
    adam.update(&p, along: Tensor([3, -0.5, 2e-3]))
    let expected: [Float] = [0.9, 1.1, 1 - 0.1 * 2e-3 / (2e-3 + 1e-8)]
    #expect(zip(p.scalars, expected).allSatisfy { Swift.abs($0 - $1) < 1e-6 })
  }

  /// Adam and AdamW on a tensor large enough to be split over two lanes: bit-identical to one lane.
  @Test func adamOnTwoLanesMatchesOneLane() {
    var rng = RandomStream(seed: 12)
    let start = Tensor.normal([300, 301], using: &rng)
    let grads = (0..<3).map { _ in Tensor.normal([300, 301], using: &rng) }
    func run(_ lanes: Int, _ adam: Adam) -> Tensor {
      ProductLanes.with(lanes) {
        var p = start, opt = adam
        for g in grads { opt.update(&p, along: g) }
        return p
      }
    }
    for adam in [Adam(learningRate: 0.01, weightDecay: 0.1), Adam.adamW(learningRate: 0.01)] {
      let one = run(1, adam), two = run(2, adam)
      #expect(one.isIdentical(to: two))
      #expect(!one.isIdentical(to: start))
    }
  }

  @Test func adamVectorLanesMatchTheScalarFormulaBitForBit() {
    // 37 parameters: two 16-lane blocks and a 5-element scalar tail; L2 (coupled) weight decay on. Every element
    // must equal the per-element formula evaluated in Float with the same operation order.
    let n = 37
    var rng = RandomStream(seed: 11)
    let start = Tensor.normal([n], using: &rng)
    let grads = (0..<3).map { _ in Tensor.normal([n], using: &rng) }
    var p = start
    var adam = Adam(learningRate: 0.01, weightDecay: 0.1)
    for g in grads { adam.update(&p, along: g) }
    var theta = start.scalars, m = [Float](repeating: 0, count: n), v = m
    let (b1, b2, eps, lr, wd): (Float, Float, Float, Float, Float) = (0.9, 0.999, 1e-8, 0.01, 0.1)
    for (t, g) in grads.enumerated() {
      let c1 = 1 - powf(b1, Float(t + 1)), c2 = (1 - powf(b2, Float(t + 1))).squareRoot()
      for i in 0..<n {
        let gi = g.scalars[i] + wd * theta[i]
        m[i] = b1 * m[i] + (1 - b1) * gi
        v[i] = b2 * v[i] + (1 - b2) * gi * gi
        theta[i] -= (lr / c1) * m[i] / (v[i].squareRoot() / c2 + eps)
      }
    }
    #expect(p.scalars == theta)
    #expect(adam.firstMoments[0].scalars == m && adam.secondMoments[0].scalars == v)
  }

  @Test func adamWDecouplesWeightDecayAndSGDMomentumMatchesClosedForm() {
    var p = Tensor([2])
    var adamw = Adam.adamW(learningRate: 0.1, weightDecay: 0.5)
    adamw.update(&p, along: Tensor([0]))  // zero gradient: only the decay acts, θ(1 − ηλ) = 2·0.95
    #expect(Swift.abs(p.scalar - 1.9) < 1e-6)
    var q = Tensor([0])
    var sgd = SGD(learningRate: 0.1, momentum: 0.9)
    for _ in 0..<3 { sgd.update(&q, along: Tensor([1])) }
    // Buffers 1, 1.9, 2.71 → θ = −0.1·(1 + 1.9 + 2.71) = −0.561
    #expect(Swift.abs(q.scalar + 0.561) < 1e-6)
  }

  @Test func gradientClippingAndSchedulesMatchPyTorch() {
    var g = [Tensor([3]), Tensor([4])]
    let norm = clipGradientNorm(&g, maxNorm: 1)
    #expect(norm == 5)
    #expect(Swift.abs(g[0].scalar - 0.6) < 1e-6 && Swift.abs(g[1].scalar - 0.8) < 1e-6)
    let cosine = LearningRateSchedule.cosine(steps: 100, minimum: 0)
    #expect(cosine.rate(base: 1, at: 0) == 1)
    #expect(Swift.abs(cosine.rate(base: 1, at: 50) - 0.5) < 1e-6)
    #expect(cosine.rate(base: 1, at: 100) < 1e-7)
    #expect(LearningRateSchedule.linearWarmup(steps: 4).rate(base: 1, at: 1) == 0.5)
  }

  @Test func polyakAveragingClosedForm() {
    var target = Tensor([0, 10])
    target.moveTowards(Tensor([1, 0]), rate: 0.25)
    #expect(target.scalars == [0.25, 7.5])
  }

  @Test func tanhGaussianLogProbabilityMatchesChangeOfVariables() {
    // Density of a = tanh(u), u ~ N(μ, σ²) in 1-D: p(a) = N(atanh a) / (1 − a²).
    let dist = TanhGaussian(mean: Tensor(shape: [1, 1], scalars: [0.3]), logStd: Tensor(shape: [1, 1], scalars: [-0.2]))
    for a in [-0.9, -0.2, 0.0, 0.5, 0.99] as [Float] {
      let u = Double(atanh(a)), sigma = exp(-0.2)
      let normal = exp(-0.5 * pow((u - 0.3) / sigma, 2)) / (sigma * (2 * Double.pi).squareRoot())
      let expected = log(normal / (1 - Double(a) * Double(a)))
      let got = Double(dist.logProbability(action: Tensor(shape: [1, 1], scalars: [a])).scalar)
      #expect(Swift.abs(got - expected) < 1e-3, "a = \(a): \(got) vs \(expected)")
    }
  }

  @Test func sameSeedTrainsToBitIdenticalParameters() throws {
    func train() throws -> MLP {
      var rng = RandomStream(seed: 42)
      var init_ = rng.child(named: "init"), data = rng.child(named: "batches")
      var mlp = MLP(inputSize: 4, hiddenSizes: [32, 32], outputSize: 2, rng: &init_)
      var adam = Adam(learningRate: 1e-3)
      for _ in 0..<20 {
        let x = Tensor.normal([16, 4], using: &data), y = Tensor.normal([16, 2], using: &data)
        let (_, g) = try valueWithGradient(at: mlp) { m in Tensor.meanSquaredError(m(x), y) }
        adam.update(&mlp, along: g)
      }
      return mlp
    }
    let a = try train(), b = try train()
    for (pa, pb) in zip(a.namedParameters, b.namedParameters) { #expect(pa.value.isIdentical(to: pb.value)) }
  }

  @Test func checkpointRoundTripAndErrors() throws {
    var rng = RandomStream(seed: 9)
    let mlp = MLP(inputSize: 3, hiddenSizes: [4], outputSize: 2, rng: &rng)
    var adam = Adam(learningRate: 1e-3)
    var model = mlp
    let (_, g) = try valueWithGradient(at: model) { $0(Tensor.ones([1, 3])).sum() }
    adam.update(&model, along: g)
    var c = Checkpoint()
    c.store(model, as: "actor.")
    c.store(optimizer: adam, as: "actor_optimizer.")
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stitch-ckpt-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("checkpoint.safetensors")
    try c.write(to: url)
    let back = try Checkpoint.read(from: url)
    var restored = mlp
    try back.restore(&restored, from: "actor.")
    for (a, b) in zip(model.namedParameters, restored.namedParameters) { #expect(a.value.isIdentical(to: b.value)) }
    var adam2 = Adam(learningRate: 1e-3)
    adam2.prepare(for: model)
    try back.restore(optimizer: &adam2, from: "actor_optimizer.")
    #expect(adam2.step == 1 && adam2.secondMoments[0].isIdentical(to: adam.secondMoments[0]))
    var wrong = MLP(inputSize: 5, hiddenSizes: [4], outputSize: 2, rng: &rng)
    #expect(throws: Checkpoint.RestoreError.self) { try back.restore(&wrong, from: "actor.") }
    #expect(throws: Checkpoint.RestoreError.self) { try back.restore(&wrong, from: "critic.") }
    // A truncated checkpoint file is an error naming the file.
    let data = try Data(contentsOf: url)
    try data.prefix(data.count / 2).write(to: url)
    do { _ = try Checkpoint.read(from: url); Issue.record("expected an error") } catch {
      #expect("\(error)".contains(url.path))
    }
  }
}
