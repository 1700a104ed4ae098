#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sums, means, maxima and log-sum-exp, over one axis or over all elements.
///
/// Axis reductions remove the axis (`keepingDimension: true` keeps it with extent 1, which broadcasts back).
extension Tensor {
  /// (outer, axis extent, inner) sizes for a reduction over `axis`.
  func reductionSizes(_ axis: Int) -> (outer: Int, n: Int, inner: Int) {
    let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
    return (outer, shape[axis], inner)
  }

  func normalizedAxis(_ axis: Int, _ op: String) -> Int? {
    let a = axis < 0 ? axis + rank : axis
    return a >= 0 && a < rank ? a : nil
  }

  func reducedShape(_ axis: Int, keeping: Bool) -> [Int] {
    var s = shape
    if keeping { s[axis] = 1 } else { s.remove(at: axis) }
    return s
  }

  /// Sum of all elements (rank 0).
  public func sum() -> Tensor {
    var acc: Double = 0
    withUnsafeBufferPointer { p in for v in p { acc += Double(v) } }
    let out = Tensor(Float(acc))
    let s = shape
    return Tape.record(out, [self]) { g, _ in [Tensor(repeating: g.scalar, shape: s)] }
  }

  /// Mean of all elements (rank 0).
  public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }

  /// Sum over `axis` (negative counts from the end).
  public func sum(axis: Int, keepingDimension: Bool = false) -> Tensor {
    guard let a = normalizedAxis(axis, "sum") else { return Tape.fail("sum: axis \(axis) out of range for shape \(shape)", shape: []) }
    let (outer, n, inner) = reductionSizes(a)
    let outShape = reducedShape(a, keeping: keepingDimension)
    let out = Tensor(repeating: 0, shape: outShape)
    let dst = out.storage.buffer
    withUnsafeBufferPointer { src in
      for o in 0..<outer {
        for i in 0..<n {
          let d = dst.baseAddress! + o * inner, x = src.baseAddress! + (o * n + i) * inner
          for j in 0..<inner { d[j] += x[j] }
        }
      }
    }
    let keptShape = reducedShape(a, keeping: true), inShape = shape
    return Tape.record(out, [self]) { g, _ in
      [Kernels.broadcast(g.reshaped(keptShape), Tensor.zeros(inShape), outShape: inShape, AddKernel.self)]
    }
  }

  /// Mean over `axis`.
  public func mean(axis: Int, keepingDimension: Bool = false) -> Tensor {
    guard let a = normalizedAxis(axis, "mean") else { return Tape.fail("mean: axis \(axis) out of range for shape \(shape)", shape: []) }
    return sum(axis: a, keepingDimension: keepingDimension) * (1 / Float(Swift.max(shape[a], 1)))
  }

  /// Maximum over `axis`; the gradient flows to the first maximal element.
  public func max(axis: Int, keepingDimension: Bool = false) -> Tensor {
    guard let a = normalizedAxis(axis, "max"), shape[a] > 0 else { return Tape.fail("max: axis \(axis) out of range or empty for shape \(shape)", shape: []) }
    let (outer, n, inner) = reductionSizes(a)
    let out = Tensor(uninitializedShape: reducedShape(a, keeping: keepingDimension))
    var argmax = [Int](repeating: 0, count: outer * inner)
    let dst = out.storage.buffer
    withUnsafeBufferPointer { src in
      for o in 0..<outer { for j in 0..<inner {
        var best = src[o * n * inner + j], bi = 0
        for i in 1..<n { let v = src[(o * n + i) * inner + j]; if v > best { best = v; bi = i } }
        dst[o * inner + j] = best
        argmax[o * inner + j] = bi
      } }
    }
    let inShape = shape
    return Tape.record(out, [self]) { g, _ in
      var d = Tensor.zeros(inShape)
      d.withUnsafeMutableBufferPointer { pd in g.withUnsafeBufferPointer { pg in
        for o in 0..<outer { for j in 0..<inner { pd[(o * n + argmax[o * inner + j]) * inner + j] = pg[o * inner + j] } }
      } }
      return [d]
    }
  }

  /// Maximum of all elements (rank 0).
  public func max() -> Tensor { reshaped([count]).max(axis: 0) }

  /// log Σ exp over `axis`, computed stably as m + log Σ exp(x − m). Its gradient is softmax(x).
  public func logSumExp(axis: Int, keepingDimension: Bool = false) -> Tensor {
    guard let a = normalizedAxis(axis, "logSumExp"), shape[a] > 0 else { return Tape.fail("logSumExp: axis \(axis) out of range for shape \(shape)", shape: []) }
    let (outer, n, inner) = reductionSizes(a)
    let out = Tensor(uninitializedShape: reducedShape(a, keeping: keepingDimension))
    let dst = out.storage.buffer
    withUnsafeBufferPointer { src in
      for o in 0..<outer { for j in 0..<inner {
        var m = -Float.infinity
        for i in 0..<n { m = Swift.max(m, src[(o * n + i) * inner + j]) }
        var s: Float = 0
        for i in 0..<n { s += expf(src[(o * n + i) * inner + j] - m) }
        dst[o * inner + j] = m + logf(s)
      } }
    }
    let x = detached(), keptShape = reducedShape(a, keeping: true)
    let od = out.detached()
    return Tape.record(out, [self]) { g, _ in
      [(x - od.reshaped(keptShape)).exp() * g.reshaped(keptShape)]
    }
  }

  /// log Σ exp over all elements (rank 0).
  public func logSumExp() -> Tensor { reshaped([count]).logSumExp(axis: 0) }
}
