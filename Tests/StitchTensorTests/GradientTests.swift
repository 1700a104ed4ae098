import Testing
import StitchTensor

import StitchTestSupport

/// Every op's gradient against central finite differences (see `checkGradients` for the tolerance).
@Suite struct GradientTests {
  static let x = smoothTestInput([4, 5], seed: 1)
  static let y = smoothTestInput([4, 5], seed: 2)
  static let positive = smoothTestInput([4, 5], seed: 3).abs() + 0.5
  /// x shifted by at least 0.1 up or down per element, so min/max never switch operand within the FD step.
  static let apart = x + smoothTestInput([4, 5], seed: 9, margin: 0.1)

  typealias Case = (name: String, inputs: [Tensor], f: @Sendable ([Tensor]) -> Tensor)

  static let unaryCases: [Case] = [
    ("neg", [x], { -$0[0] }),
    ("exp", [x], { $0[0].exp() }),
    ("log", [positive], { $0[0].log() }),
    ("sqrt", [positive], { $0[0].sqrt() }),
    ("square", [x], { $0[0].square() }),
    ("abs", [x], { $0[0].abs() }),
    ("pow", [positive], { $0[0].pow(1.7) }),
    ("relu", [x], { $0[0].relu() }),
    ("leakyRelu", [x], { $0[0].leakyRelu(slope: 0.1) }),
    ("tanh", [x], { $0[0].tanh() }),
    ("sigmoid", [x], { $0[0].sigmoid() }),
    ("softplus", [x * 3], { $0[0].softplus() }),
    ("silu", [x * 2], { $0[0].silu() }),
    ("mish", [x * 2], { $0[0].mish() }),
    ("clamp", [x], { $0[0].clamped(min: -0.5, max: 0.5) }),
    ("clampStraightThrough", [x], { $0[0].clamped(min: -0.5, max: 0.5, straightThrough: true) * 0 + $0[0] }),
    ("reshape", [x], { $0[0].reshaped([5, 4]).square() }),
  ]

  static let binaryCases: [Case] = [
    ("add", [x, y], { $0[0] + $0[1] }),
    ("sub", [x, y], { $0[0] - $0[1] }),
    ("mul", [x, y], { $0[0] * $0[1] }),
    ("div", [x, positive], { $0[0] / $0[1] }),
    ("addRowBroadcast", [x, smoothTestInput([5], seed: 4)], { $0[0] + $0[1] }),
    ("mulColumnBroadcast", [x, smoothTestInput([4, 1], seed: 5)], { $0[0] * $0[1] }),
    ("divScalarTensor", [x, Tensor(1.7)], { $0[0] / $0[1] }),
    ("sub3dBroadcast", [smoothTestInput([2, 3, 4], seed: 6), smoothTestInput([2, 1, 4], seed: 7)], { $0[0] - $0[1] }),
    ("minimum", [x, apart], { Tensor.minimum($0[0], $0[1]) }),
    ("maximum", [x, apart], { Tensor.maximum($0[0], $0[1]) }),
  ]

  static let structuralCases: [Case] = [
    ("matmul", [smoothTestInput([3, 4], seed: 10), smoothTestInput([4, 5], seed: 11)], { Tensor.matmul($0[0], $0[1]) }),
    ("matmulTransA", [smoothTestInput([4, 3], seed: 12), smoothTestInput([4, 5], seed: 13)], { Tensor.matmul($0[0], $0[1], transposeA: true) }),
    ("matmulTransB", [smoothTestInput([3, 4], seed: 14), smoothTestInput([5, 4], seed: 15)], { Tensor.matmul($0[0], $0[1], transposeB: true) }),
    ("matmulTransBoth", [smoothTestInput([4, 3], seed: 16), smoothTestInput([5, 4], seed: 17)], { Tensor.matmul($0[0], $0[1], transposeA: true, transposeB: true) }),
    ("matmulBatched", [smoothTestInput([2, 3, 4], seed: 18), smoothTestInput([2, 4, 2], seed: 19)], { Tensor.matmul($0[0], $0[1]) }),
    ("linearRelu", [smoothTestInput([3, 4], seed: 20), smoothTestInput([5, 4], seed: 21), smoothTestInput([5], seed: 22)],
     { Tensor.linear($0[0], weight: $0[1], bias: $0[2], activation: .relu) }),
    ("linearTanhNoBias", [smoothTestInput([3, 4], seed: 23), smoothTestInput([5, 4], seed: 24)],
     { Tensor.linear($0[0], weight: $0[1], bias: nil, activation: .tanh) }),
    ("linearSiluEnsemble", [smoothTestInput([2, 3, 4], seed: 25), smoothTestInput([2, 5, 4], seed: 26), smoothTestInput([2, 5], seed: 27)],
     { Tensor.linear($0[0], weight: $0[1], bias: $0[2], activation: .silu) }),
    // 19 outputs: the bias gradient's 16-column vector block and a 3-column tail.
    ("linearWideEnsemble", [smoothTestInput([2, 3, 4], seed: 31), smoothTestInput([2, 19, 4], seed: 32), smoothTestInput([2, 19], seed: 33)],
     { Tensor.linear($0[0], weight: $0[1], bias: $0[2], activation: .tanh) }),
    // 130 inputs: the bias is added after the product (fused with ReLU), not copied in before it.
    ("linearReluWideInput", [smoothTestInput([3, 130], seed: 34), smoothTestInput([19, 130], seed: 35), smoothTestInput([19], seed: 36)],
     { Tensor.linear($0[0], weight: $0[1], bias: $0[2], activation: .relu) }),
    ("linearTanhWideInputEnsemble", [smoothTestInput([2, 3, 130], seed: 37), smoothTestInput([2, 5, 130], seed: 38), smoothTestInput([2, 5], seed: 39)],
     { Tensor.linear($0[0], weight: $0[1], bias: $0[2], activation: .tanh) }),
    ("linearMish", [smoothTestInput([3, 4], seed: 28), smoothTestInput([2, 4], seed: 29), smoothTestInput([2], seed: 30)],
     { Tensor.linear($0[0], weight: $0[1], bias: $0[2], activation: .mish) }),
    ("sumAll", [x], { $0[0].sum() }),
    ("meanAll", [x], { $0[0].mean() }),
    ("sumAxis0", [x], { $0[0].sum(axis: 0) }),
    ("sumAxis1Keep", [smoothTestInput([2, 3, 4], seed: 31)], { $0[0].sum(axis: 1, keepingDimension: true) }),
    ("meanAxisLast", [x], { $0[0].mean(axis: -1) }),
    ("maxAxis", [x], { $0[0].max(axis: 1) }),
    ("maxAll", [x], { $0[0].max() }),
    ("logSumExpAxis", [x], { $0[0].logSumExp(axis: 1) }),
    ("logSumExpAll", [x], { $0[0].logSumExp() }),
    ("concat", [x, smoothTestInput([4, 2], seed: 32)], { Tensor.concat([$0[0], $0[1]]).square() }),
    ("slice", [x], { $0[0].slice(lastAxis: 1..<4).square() }),
    ("gather", [x], { $0[0].gathering(rows: [3, 0, 3, 1]).square() }),
    ("layerNorm", [x * 2], { $0[0].layerNormalized() }),
    ("layerNormAffine", [x * 2, smoothTestInput([5], seed: 33), smoothTestInput([5], seed: 34)],
     { $0[0].layerNormalized(scale: $0[1], offset: $0[2]) }),
    // 19 columns: two eight-lane chunks of the vectorised row sums plus a scalar tail.
    ("layerNormAffineWide", [smoothTestInput([3, 19], seed: 35) * 2, smoothTestInput([19], seed: 36), smoothTestInput([19], seed: 37)],
     { $0[0].layerNormalized(scale: $0[1], offset: $0[2]) }),
    // Per-member scale and offset ([E, 1, d] for [E, B, d]: an ensemble's LayerNorm), 2 members × 3 rows × 11.
    ("layerNormPerMember", [smoothTestInput([2, 3, 11], seed: 38) * 2, smoothTestInput([2, 1, 11], seed: 39), smoothTestInput([2, 1, 11], seed: 40)],
     { $0[0].layerNormalized(scale: $0[1], offset: $0[2]) }),
    ("logSoftmax", [x * 2], { $0[0].logSoftmax() }),
    ("huber", [x * 3, y], { Tensor.huberLoss($0[0], $0[1], delta: 1) }),
    ("expectile", [x, y], { Tensor.expectileLoss($0[0], $0[1], expectile: 0.7) }),
    ("mse", [x, y], { Tensor.meanSquaredError($0[0], $0[1]) }),
  ]

  @Test(arguments: unaryCases.map { ($0.name, $0.inputs, $0.f) })
  func unary(_ name: String, _ inputs: [Tensor], _ f: @Sendable ([Tensor]) -> Tensor) throws {
    let r = try checkGradients(inputs, f)
    #expect(r.passed, "\(name): \(r)")
  }

  @Test(arguments: binaryCases.map { ($0.name, $0.inputs, $0.f) })
  func binary(_ name: String, _ inputs: [Tensor], _ f: @Sendable ([Tensor]) -> Tensor) throws {
    let r = try checkGradients(inputs, f)
    #expect(r.passed, "\(name): \(r)")
  }

  @Test(arguments: structuralCases.map { ($0.name, $0.inputs, $0.f) })
  func structural(_ name: String, _ inputs: [Tensor], _ f: @Sendable ([Tensor]) -> Tensor) throws {
    let r = try checkGradients(inputs, f)
    #expect(r.passed, "\(name): \(r)")
  }

  /// The checker itself must fail on a wrong gradient (so a passing check means something).
  @Test func linearEqualsItsComposedOpsOnBothBiasPaths() {
    // Both ways of adding the bias (copied in before the product for narrow inputs, added after it for wide ones)
    // give exactly relu(x·Wᵀ + b) as the unfused ops compute it.
    for inDim in [17, 130] {
      let x = smoothTestInput([5, inDim], seed: 40), w = smoothTestInput([33, inDim], seed: 41), b = smoothTestInput([33], seed: 42)
      let fused = Tensor.linear(x, weight: w, bias: b, activation: .relu)
      let composed = (Tensor.matmul(x, w, transposeB: true) + b).relu()
      #expect(fused.shape == [5, 33])
      #expect(fused.scalars == composed.scalars, "inDim \(inDim)")
    }
  }

  @Test func checkerRejectsAWrongGradient() throws {
    // x.detached() * x has true gradient 2x but the tape only sees one factor: gradient x.
    let r = try checkGradients([GradientTests.x]) { $0[0].detached() * $0[0] }
    #expect(!r.passed)
  }
}

/// Shape errors outside gradient computation throw inside `checkingShapes` (before it, they stopped the program:
/// a library caller's wrong-width `act` crashed).
@Suite struct ShapeCheckingTests {
  @Test func aShapeErrorInInferenceThrowsNamingTheShapes() throws {
    let w = Tensor(shape: [4, 2], scalars: Array(repeating: 0.5, count: 8))
    let x = Tensor(shape: [1, 3], scalars: [1, 2, 3])
    do {
      _ = try checkingShapes { Tensor.matmul(x, w) }
      Issue.record("a [1, 3] × [4, 2] product did not throw")
    } catch let error as TensorError {
      guard case .shapeMismatch(let message) = error else { Issue.record("\(error)"); return }
      #expect(message.contains("[1, 3]") && message.contains("[4, 2]"), "\(message)")
    }
    // Inside withoutGradients too (it suspends the tape, not the check).
    #expect(throws: TensorError.self) { _ = try checkingShapes { withoutGradients { Tensor.matmul(x, w) } } }
    // A well-shaped body returns its value; the scope ends with it (the next error would be fatal again).
    let ok = try checkingShapes { Tensor.matmul(Tensor(shape: [1, 4], scalars: [1, 0, 0, 0]), w) }
    #expect(ok.scalars == [0.5, 0.5])
    // Inside a gradient computation the tape keeps the error, and valueWithGradient throws it as before.
    #expect(throws: TensorError.self) {
      _ = try valueWithGradient(at: [w]) { p in try checkingShapes { Tensor.matmul(x, p[0]).sum() } }
    }
  }
}

/// The fused per-member LayerNorm (`[E, 1, d]` scale and offset) computes each member exactly as a LayerNorm of
/// that member's rows with its own `[d]` parameters, forward and backward: bit-identical, not merely close.
@Suite struct PerMemberLayerNormTests {
  @Test func eachMemberIsItsOwnLayerNorm() throws {
    let (e, b, d) = (3, 5, 19)
    let x = smoothTestInput([e, b, d], seed: 41) * 2
    let gamma = smoothTestInput([e, 1, d], seed: 42), beta = smoothTestInput([e, 1, d], seed: 43)
    let upstream = smoothTestInput([e, b, d], seed: 44)
    let (_, fused) = try gradients(at: [x, gamma, beta]) { t in (t[0].layerNormalized(scale: t[1], offset: t[2]) * upstream).sum() }
    let y = x.layerNormalized(scale: gamma, offset: beta).scalars
    for m in 0..<e {
      let rows = Tensor(shape: [b, d], scalars: Array(x.scalars[m * b * d..<(m + 1) * b * d]))
      let g = Tensor(shape: [d], scalars: Array(gamma.scalars[m * d..<(m + 1) * d]))
      let o = Tensor(shape: [d], scalars: Array(beta.scalars[m * d..<(m + 1) * d]))
      let u = Tensor(shape: [b, d], scalars: Array(upstream.scalars[m * b * d..<(m + 1) * b * d]))
      let (_, single) = try gradients(at: [rows, g, o]) { t in (t[0].layerNormalized(scale: t[1], offset: t[2]) * u).sum() }
      #expect(Array(y[m * b * d..<(m + 1) * b * d]) == rows.layerNormalized(scale: g, offset: o).scalars, "member \(m): forward")
      #expect(Array(fused[0].scalars[m * b * d..<(m + 1) * b * d]) == single[0].scalars, "member \(m): ∂x")
      #expect(Array(fused[1].scalars[m * d..<(m + 1) * d]) == single[1].scalars, "member \(m): ∂γ")
      #expect(Array(fused[2].scalars[m * d..<(m + 1) * d]) == single[2].scalars, "member \(m): ∂β")
    }
    #expect(fused[1].shape == [e, 1, d] && fused[2].shape == [e, 1, d])
    // And as the unfused form it replaces (normalise, then a broadcast product and sum), to the bit: runs that
    // started before the fusion resume with the same numbers.
    let (_, unfused) = try gradients(at: [x, gamma, beta]) { t in ((t[0].layerNormalized() * t[1] + t[2]) * upstream).sum() }
    #expect((x.layerNormalized() * gamma + beta).scalars == y)
    for i in 0..<3 { #expect(unfused[i].scalars == fused[i].scalars, "gradient \(i) differs from the unfused form") }
  }
}
