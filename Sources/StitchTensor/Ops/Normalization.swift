#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Layer normalization and log-softmax over the last axis.
extension Tensor {
  /// Layer normalization over the last axis: (x − μ)/√(σ² + ε), then ·γ + β when given
  /// (Ba, Kiros & Hinton 2016, arXiv 1607.06450, eq. 4; biased variance as in PyTorch's `LayerNorm`).
  public func layerNormalized(epsilon: Float = 1e-5, scale: Tensor? = nil, offset: Tensor? = nil) -> Tensor {
    let d = shape.last ?? 0
    let rows = count / Swift.max(d, 1)
    var normalized = Tensor(uninitializedShape: shape)
    var inverseStd = [Float](repeating: 0, count: rows)
    normalized.withUnsafeMutableBufferPointer { dst in
      withUnsafeBufferPointer { src in
        for r in 0..<rows {
          var mean: Float = 0
          for j in 0..<d { mean += src[r * d + j] }
          mean /= Float(d)
          var variance: Float = 0
          for j in 0..<d { let c = src[r * d + j] - mean; variance += c * c }
          variance /= Float(d)
          let inv = 1 / (variance + epsilon).squareRoot()
          inverseStd[r] = inv
          for j in 0..<d { dst[r * d + j] = (src[r * d + j] - mean) * inv }
        }
      }
    }
    let xhat = normalized
    // The normalisation itself, as one node with the closed-form gradient
    // ∂x = (1/σ)·(g − mean(g) − x̂·mean(g·x̂)) per row.
    let core = Tape.record(xhat, [self]) { g, _ in
      var dx = Tensor(uninitializedShape: xhat.shape)
      dx.withUnsafeMutableBufferPointer { pd in g.withUnsafeBufferPointer { pg in xhat.withUnsafeBufferPointer { px in
        for r in 0..<rows {
          var mg: Float = 0, mgx: Float = 0
          for j in 0..<d { mg += pg[r * d + j]; mgx += pg[r * d + j] * px[r * d + j] }
          mg /= Float(d); mgx /= Float(d)
          let inv = inverseStd[r]
          for j in 0..<d { pd[r * d + j] = inv * (pg[r * d + j] - mg - px[r * d + j] * mgx) }
        }
      } } }
      return [dx]
    }
    var out = core
    if let scale { out = out * scale }
    if let offset { out = out + offset }
    return out
  }

  /// log softmax over the last axis: x − logΣexp(x).
  public func logSoftmax() -> Tensor {
    self - logSumExp(axis: -1, keepingDimension: true)
  }
}
