#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Layer normalization and log-softmax over the last axis.
extension Tensor {
  /// Layer normalization over the last axis: (x − μ)/√(σ² + ε), then ·γ + β when given
  /// (Ba, Kiros & Hinton 2016, arXiv 1607.06450, eq. 4; biased variance as in PyTorch's `LayerNorm`).
  ///
  /// One tape node for the whole layer (normalisation, scale and offset) with the closed-form gradients
  /// ∂x = (1/σ)·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) where ĝ = g·γ, ∂γ = Σ_rows g·x̂, ∂β = Σ_rows g; row sums use
  /// eight-lane partial sums so they vectorise (ReBRAC's critics normalise 1024×256 activations three times per
  /// forward pass, where the unfused form cost a fifth of the update).
  ///
  /// `scale` and `offset` are `[d]`, or `[E, 1, d]` for `[E, B, d]` input: E normalisations with their own scale
  /// and offset (an ensemble's per-member LayerNorm, `EnsembleLayerNorm`), still one node: ∂γ and ∂β then sum
  /// each member's rows. (Their unfused form, a broadcast product and sum with its two summing-back passes,
  /// took about a seventh of an RLPD update.) Other shapes take the unfused form.
  public func layerNormalized(epsilon: Float = 1e-5, scale: Tensor? = nil, offset: Tensor? = nil) -> Tensor {
    let d = shape.last ?? 0
    let rows = count / Swift.max(d, 1)
    // Groups of rows that share a scale and offset: 1, or E for per-member [E, 1, d] parameters.
    let perMember = rank == 3 ? [shape[0], 1, d] : nil
    func fits(_ t: Tensor?, _ wanted: [Int]?) -> Bool { t == nil || t!.shape == wanted }
    let groups: Int
    if fits(scale, [d]) && fits(offset, [d]) {
      groups = 1
    } else if let perMember, fits(scale, perMember) && fits(offset, perMember) {
      groups = perMember[0]
    } else {
      if let scale, scale.shape != [d] { return layerNormalized(epsilon: epsilon) * scale + (offset ?? Tensor.zeros([d])) }
      return layerNormalized(epsilon: epsilon, scale: scale) + offset!
    }
    let rowsPerGroup = rows / Swift.max(groups, 1)
    var normalized = Tensor(uninitializedShape: shape)
    var output = Tensor(uninitializedShape: shape)
    var inverseStd = [Float](repeating: 0, count: rows)
    let zero = [Float](repeating: 0, count: groups * d)
    let one = [Float](repeating: 1, count: groups * d)
    let gammaValues = scale?.scalars ?? one, betaValues = offset?.scalars ?? zero
    normalized.withUnsafeMutableBufferPointer { xhBuffer in output.withUnsafeMutableBufferPointer { dstBuffer in
      withUnsafeBufferPointer { srcBuffer in gammaValues.withUnsafeBufferPointer { gBuffer in
        betaValues.withUnsafeBufferPointer { bBuffer in inverseStd.withUnsafeMutableBufferPointer { invBuffer in
          ProductLanes.parallelFor(rows, elementsEach: d) { range in for r in range {
            let member = r / rowsPerGroup
            let g = gBuffer.baseAddress! + member * d, b = bBuffer.baseAddress! + member * d
            let x = srcBuffer.baseAddress! + r * d
            let xh = xhBuffer.baseAddress! + r * d, y = dstBuffer.baseAddress! + r * d
            let mean = LayerNormKernels.sum(x, d) / Float(d)
            let variance = LayerNormKernels.sumOfSquaredDeviations(x, d, mean) / Float(d)
            let inv = 1 / (variance + epsilon).squareRoot()
            invBuffer[r] = inv
            for j in 0..<d { let v = (x[j] - mean) * inv; xh[j] = v; y[j] = v * g[j] + b[j] }
          } }
        } }
      } }
    } }
    let xhat = normalized
    let inverseStdValues = inverseStd
    var inputs = [self]
    if let scale { inputs.append(scale) }
    if let offset { inputs.append(offset) }
    let scaleShape = scale?.shape, offsetShape = offset?.shape
    return Tape.record(output, inputs) { g, needs in
      var dx = Tensor(uninitializedShape: xhat.shape)
      var dGamma = [Float](repeating: 0, count: groups * d)
      var dBeta = [Float](repeating: 0, count: groups * d)
      // Rows are independent for ∂x, and each column's sums for ∂γ, ∂β run over the rows in order, so both
      // split over the lanes (rows for ∂x, columns for the sums) with results identical to one lane.
      dx.withUnsafeMutableBufferPointer { pd in g.withUnsafeBufferPointer { pg in xhat.withUnsafeBufferPointer { px in
        dGamma.withUnsafeMutableBufferPointer { dgBuffer in dBeta.withUnsafeMutableBufferPointer { dbBuffer in
          gammaValues.withUnsafeBufferPointer { gBuffer in inverseStdValues.withUnsafeBufferPointer { invBuffer in
            let dg = dgBuffer.baseAddress!, db = dbBuffer.baseAddress!
            ProductLanes.parallelFor(rows, elementsEach: d) { range in
              let s = UnsafeMutablePointer<Float>.allocate(capacity: d)
              defer { s.deallocate() }
              for r in range {
                let gm = gBuffer.baseAddress! + (r / rowsPerGroup) * d
                let go = pg.baseAddress! + r * d, xo = px.baseAddress! + r * d, out = pd.baseAddress! + r * d
                for j in 0..<d { s[j] = go[j] * gm[j] }
                let mg = LayerNormKernels.sum(s, d) / Float(d)
                let mgx = LayerNormKernels.dot(s, xo, d) / Float(d)
                let inv = invBuffer[r]
                for j in 0..<d { out[j] = inv * (s[j] - mg - xo[j] * mgx) }
              }
            }
            // Parameter columns c = member·d + j; each sums its member's rows in order.
            ProductLanes.parallelFor(groups * d, elementsEach: rowsPerGroup) { columns in
              var c0 = columns.lowerBound
              while c0 < columns.upperBound {
                let member = c0 / d
                let c1 = Swift.min(columns.upperBound, (member + 1) * d)
                let (j0, j1) = (c0 - member * d, c1 - member * d)
                let dgm = dg + member * d, dbm = db + member * d
                for r in member * rowsPerGroup..<(member + 1) * rowsPerGroup {
                  let go = pg.baseAddress! + r * d, xo = px.baseAddress! + r * d
                  for j in j0..<j1 { dgm[j] += go[j] * xo[j]; dbm[j] += go[j] }
                }
                c0 = c1
              }
            }
          } }
        } }
      } } }
      var grads: [Tensor?] = [needs[0] ? dx : nil]
      if let scaleShape { grads.append(Tensor(shape: scaleShape, scalars: dGamma)) }
      if let offsetShape { grads.append(Tensor(shape: offsetShape, scalars: dBeta)) }
      return grads
    }
  }

  /// log softmax over the last axis: x − logΣexp(x).
  public func logSoftmax() -> Tensor {
    self - logSumExp(axis: -1, keepingDimension: true)
  }
}

/// Vectorisable row reductions for layer normalization: eight independent partial sums (so the compiler may
/// use SIMD lanes without reassociating one serial sum), combined in a fixed order (bit-reproducible).
enum LayerNormKernels {
  @inline(__always) static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>()
    var j = 0
    while j + 8 <= n { acc += UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self); j += 8 }
    var s = acc.sum()
    while j < n { s += x[j]; j += 1 }
    return s
  }

  @inline(__always) static func sumOfSquaredDeviations(_ x: UnsafePointer<Float>, _ n: Int, _ mean: Float) -> Float {
    var acc = SIMD8<Float>()
    let m = SIMD8<Float>(repeating: mean)
    var j = 0
    while j + 8 <= n { let c = UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self) - m; acc += c * c; j += 8 }
    var s = acc.sum()
    while j < n { let c = x[j] - mean; s += c * c; j += 1 }
    return s
  }

  @inline(__always) static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>()
    var j = 0
    while j + 8 <= n {
      acc += UnsafeRawPointer(a + j).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + j).loadUnaligned(as: SIMD8<Float>.self)
      j += 8
    }
    var s = acc.sum()
    while j < n { s += a[j] * b[j]; j += 1 }
    return s
  }
}
