/// Elementwise kernels shared by the ops: each operation is a zero-size type whose `apply` the compiler
/// specialises and inlines into the loop, so loops over contiguous buffers vectorise (see docs/stack.md: selects with
/// unconditional loads; build with -fno-math-errno for sqrt).
public protocol UnaryKernel { static func apply(_ x: Float) -> Float }
/// A kernel of two elementwise arguments.
public protocol BinaryKernel { static func apply(_ a: Float, _ b: Float) -> Float }

enum Kernels {
  /// y[i] = Op(x[i]).
  @inline(__always)
  static func unary<Op: UnaryKernel>(_ x: Tensor, _: Op.Type) -> Tensor {
    var out = Tensor(uninitializedShape: x.shape)
    let n = x.count
    x.withUnsafeBufferPointer { src in
      let dst = out.storage.buffer
      ProductLanes.parallelFor(n) { r in for i in r { dst[i] = Op.apply(src[i]) } }
    }
    out.node = nil
    return out
  }

  /// sums[j] += Σ_i x[i, j] over the rows of a row-major [rows, columns] block (a bias gradient), rows added in
  /// order (the same sums as a scalar loop), 16 columns at a time.
  @inline(__always)
  static func addRows(_ x: UnsafePointer<Float>, rows: Int, columns: Int, into sums: UnsafeMutablePointer<Float>) {
    // Halves of the columns on the two lanes (each column's sum in the same order either way).
    ProductLanes.parallelFor(columns / 16, elementsEach: 16 * rows) { blocks in
      let j0 = blocks.lowerBound * 16, j1 = blocks.upperBound == columns / 16 ? columns : blocks.upperBound * 16
      addRows(x + j0, rows: rows, columns: j1 - j0, stride: columns, into: sums + j0)
    }
  }

  /// `addRows` over `columns` columns of rows `stride` floats apart.
  @inline(__always)
  static func addRows(_ x: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int, into sums: UnsafeMutablePointer<Float>) {
    typealias V = SIMD16<Float>
    let raw = UnsafeRawPointer(x), out = UnsafeMutableRawPointer(sums)
    var j = 0
    while j &+ 16 <= columns {
      var acc = out.loadUnaligned(fromByteOffset: j &* 4, as: V.self)
      for i in 0..<rows { acc += raw.loadUnaligned(fromByteOffset: (i &* stride &+ j) &* 4, as: V.self) }
      out.storeBytes(of: acc, toByteOffset: j &* 4, as: V.self)
      j &+= 16
    }
    while j < columns {
      var acc = sums[j]
      for i in 0..<rows { acc += x[i &* stride &+ j] }
      sums[j] = acc
      j &+= 1
    }
  }

  /// x[i, j] += bias[j] over the rows of a row-major [rows, columns] block, then ReLU when asked, in one pass.
  @inline(__always)
  static func addBiasRows(_ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int, bias: UnsafePointer<Float>, relu: Bool) {
    ProductLanes.parallelFor(rows, elementsEach: columns) { r in addBiasRows(x, rows: r, columns: columns, bias: bias, relu: relu) }
  }

  @inline(__always)
  static func addBiasRows(_ x: UnsafeMutablePointer<Float>, rows: Range<Int>, columns: Int, bias: UnsafePointer<Float>, relu: Bool) {
    for i in rows {
      let row = x + i * columns
      if relu {
        for j in 0..<columns { let v = row[j] + bias[j]; row[j] = v > 0 ? v : 0 }
      } else {
        for j in 0..<columns { row[j] = row[j] + bias[j] }
      }
    }
  }

  /// z[i] = Op(a[i], b[i]) for tensors of equal element count (the shape of `a` is kept).
  @inline(__always)
  static func zip<Op: BinaryKernel>(_ a: Tensor, _ b: Tensor, _: Op.Type) -> Tensor {
    precondition(a.count == b.count)
    let out = Tensor(uninitializedShape: a.shape)
    let n = a.count
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        let dst = out.storage.buffer
        ProductLanes.parallelFor(n) { r in for i in r { dst[i] = Op.apply(pa[i], pb[i]) } }
      }
    }
    return out
  }

  /// The broadcast shape of two shapes (NumPy rules), or nil if they are incompatible.
  static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let r = max(a.count, b.count)
    var out = [Int](repeating: 1, count: r)
    for i in 0..<r {
      let da = i < r - a.count ? 1 : a[i - (r - a.count)]
      let db = i < r - b.count ? 1 : b[i - (r - b.count)]
      if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
    }
    return out
  }

  /// Row-major strides of `shape` padded to rank `r`, with 0 for broadcast (size-1 or missing) dimensions.
  static func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int] {
    let r = outShape.count
    var strides = [Int](repeating: 0, count: r)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
      let o = i + (r - shape.count)
      strides[o] = shape[i] == 1 && outShape[o] != 1 ? 0 : s
      s *= shape[i]
    }
    return strides
  }

  /// z = Op(a, b) with broadcasting; `outShape` must be their broadcast shape.
  @inline(__always)
  static func broadcast<Op: BinaryKernel>(_ a: Tensor, _ b: Tensor, outShape: [Int], _: Op.Type) -> Tensor {
    if a.shape == b.shape { return zip(a, b, Op.self) }
    let out = Tensor(uninitializedShape: outShape)
    let dst = out.storage.buffer
    let n = out.count
    if n == 0 { return out }
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        if b.count == 1 {
          let s = pb[0]
          if a.count == n { for i in 0..<n { dst[i] = Op.apply(pa[i], s) }; return }
        }
        if a.count == 1 {
          let s = pa[0]
          if b.count == n { for i in 0..<n { dst[i] = Op.apply(s, pb[i]) }; return }
        }
        let r = outShape.count
        let sa = broadcastStrides(a.shape, to: outShape), sb = broadcastStrides(b.shape, to: outShape)
        let inner = outShape[r - 1]
        let ia = sa[r - 1], ib = sb[r - 1]
        let outer = n / max(inner, 1)
        var index = [Int](repeating: 0, count: r)
        var offA = 0, offB = 0
        for o in 0..<outer {
          // Row pointers hoisted out of the inner loops: with no index arithmetic left to overflow-check, the
          // loops vectorise.
          let row = dst.baseAddress! + o * inner, x = pa.baseAddress! + offA, y = pb.baseAddress! + offB
          switch (ia, ib) {
          case (1, 1): for j in 0..<inner { row[j] = Op.apply(x[j], y[j]) }
          case (1, 0): let yv = y[0]; for j in 0..<inner { row[j] = Op.apply(x[j], yv) }
          case (0, 1): let xv = x[0]; for j in 0..<inner { row[j] = Op.apply(xv, y[j]) }
          default: let v = Op.apply(x[0], y[0]); for j in 0..<inner { row[j] = v }
          }
          // Advance the odometer over the outer dimensions.
          var d = r - 2
          while d >= 0 {
            index[d] += 1
            offA += sa[d]; offB += sb[d]
            if index[d] < outShape[d] { break }
            offA -= sa[d] * outShape[d]; offB -= sb[d] * outShape[d]
            index[d] = 0
            d -= 1
          }
        }
      }
    }
    return out
  }

  /// Sums `g` (of a broadcast shape) down to `shape`: the gradient of a broadcast operand.
  static func sum(_ g: Tensor, toShape shape: [Int]) -> Tensor {
    if g.shape == shape { return g }
    if Tensor.count(of: shape) == g.count { return g.reshaped(shape) }
    let out = Tensor(repeating: 0, shape: shape)
    let dst = out.storage.buffer
    let outShape = g.shape
    let r = outShape.count
    let s = broadcastStrides(shape, to: outShape)
    let inner = outShape[r - 1], step = s[r - 1]
    let outer = g.count / max(inner, 1)
    var index = [Int](repeating: 0, count: r)
    var off = 0
    g.withUnsafeBufferPointer { pg in
      for o in 0..<outer {
        let base = o * inner
        if step == 1 {
          for j in 0..<inner { dst[off + j] += pg[base + j] }
        } else {
          var acc: Float = 0
          for j in 0..<inner { acc += pg[base + j] }
          dst[off] += acc
        }
        var d = r - 2
        while d >= 0 {
          index[d] += 1
          off += s[d]
          if index[d] < outShape[d] { break }
          off -= s[d] * outShape[d]
          index[d] = 0
          d -= 1
        }
      }
    }
    return out
  }
}

extension Tensor {
  /// self += other (same element count), in place; used to accumulate gradients.
  mutating func addInPlace(_ other: Tensor) {
    makeUnique()
    let n = count
    let dst = storage.buffer
    other.withUnsafeBufferPointer { src in ProductLanes.parallelFor(n) { r in for i in r { dst[i] += src[i] } } }
  }
}
