import StitchTensor

/// The result of comparing reverse-mode gradients with central finite differences.
public struct GradientCheckResult: CustomStringConvertible {
  /// The largest |analytic − numeric| / (atol + rtol·|numeric|) over all checked elements; ≤ 1 passes.
  public var worstRatio: Double
  /// Where the worst element is: input index, flat index, analytic and numeric values.
  public var worst: (input: Int, index: Int, analytic: Double, numeric: Double)
  public var checked: Int
  public var passed: Bool { worstRatio <= 1 }
  public var description: String {
    "worst input \(worst.input)[\(worst.index)]: analytic \(worst.analytic), numeric \(worst.numeric) (ratio \(worstRatio), \(checked) elements)"
  }
}

/// Checks the gradient of `f` at `inputs` against central finite differences
/// (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h, element by element.
///
/// The scalar checked is Σ w ⊙ f(x) with fixed pseudo-random weights w, so every output element contributes with
/// a different weight (a plain sum can hide errors that cancel). Float32 forward passes limit the precision: with
/// h = 1e-2 the truncation error is O(h²) and the rounding error O(1e-7/h), so the default tolerance is
/// 2e-3 absolute + 2e-2 relative.
/// - Parameters:
///   - inputs: the points at which to differentiate (every element is checked, up to `maxElements` per input).
///   - f: the function, built from Stitch ops.
public func checkGradients(
  _ inputs: [Tensor], step h: Float = 1e-2, absoluteTolerance: Double = 2e-3, relativeTolerance: Double = 2e-2,
  maxElements: Int = 64, _ f: ([Tensor]) -> Tensor
) throws -> GradientCheckResult {
  let probe = f(inputs)
  var rng = RandomStream(seed: 1234, stream: 99)
  let weights = Tensor.uniform(probe.shape, in: 0.5...1.5, using: &rng)
  func scalarLoss(_ x: [Tensor]) -> Tensor { (f(x) * weights).sum() }
  let (_, analytic) = try valueWithGradient(at: inputs) { scalarLoss($0) }
  var result = GradientCheckResult(worstRatio: 0, worst: (0, 0, 0, 0), checked: 0)
  for (i, x) in inputs.enumerated() {
    let stride = max(1, x.count / maxElements)
    for j in Swift.stride(from: 0, to: x.count, by: stride) {
      var plus = inputs, minus = inputs
      plus[i][flat: j] = x[flat: j] + h
      minus[i][flat: j] = x[flat: j] - h
      let numeric = (Double(withoutGradients { scalarLoss(plus) }.scalar) - Double(withoutGradients { scalarLoss(minus) }.scalar)) / (2 * Double(h))
      let a = Double(analytic[i][flat: j])
      let ratio = Swift.abs(a - numeric) / (absoluteTolerance + relativeTolerance * Swift.abs(numeric))
      result.checked += 1
      if ratio > result.worstRatio || result.checked == 1 { result.worstRatio = ratio; result.worst = (i, j, a, numeric) }
    }
  }
  return result
}

/// Random test inputs bounded away from the kinks of piecewise functions (|x| ≥ margin), so finite differences
/// never straddle a kink.
public func smoothTestInput(_ shape: [Int], seed: UInt64, scale: Float = 1, margin: Float = 0.05) -> Tensor {
  var rng = RandomStream(seed: seed)
  var t = Tensor.uniform(shape, in: -scale...scale, using: &rng)
  t.withUnsafeMutableBufferPointer { p in
    for i in 0..<p.count where Swift.abs(p[i]) < margin { p[i] = p[i] < 0 ? -margin - 0.01 : margin + 0.01 }
  }
  return t
}
