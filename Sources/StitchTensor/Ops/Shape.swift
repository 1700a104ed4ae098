/// Concatenation and slicing along the last axis, and row gathering.
extension Tensor {
  /// Joins tensors along the last axis (all other dimensions equal), e.g. [observation, action] for a critic.
  public static func concat(_ parts: [Tensor]) -> Tensor {
    guard let first = parts.first else { return Tape.fail("concat: no tensors", shape: [0]) }
    let lead = Array(first.shape.dropLast())
    for p in parts where p.rank != first.rank || Array(p.shape.dropLast()) != lead {
      return Tape.fail("concat: shapes \(parts.map(\.shape)) differ outside the last axis", shape: first.shape)
    }
    let widths = parts.map { $0.shape.last ?? 1 }
    let total = widths.reduce(0, +)
    let rows = lead.reduce(1, *)
    let out = Tensor(uninitializedShape: lead + [total])
    let dst = out.storage.buffer
    var offset = 0
    for (p, w) in zip(parts, widths) {
      p.withUnsafeBufferPointer { src in
        for r in 0..<rows { for j in 0..<w { dst[r * total + offset + j] = src[r * w + j] } }
      }
      offset += w
    }
    return Tape.record(out, parts) { g, need in
      var grads: [Tensor?] = []
      var off = 0
      for (i, w) in widths.enumerated() {
        grads.append(need[i] ? g.slice(lastAxis: off..<(off + w)) : nil)
        off += w
      }
      return grads
    }
  }

  /// The columns `range` of the last axis.
  public func slice(lastAxis range: Range<Int>) -> Tensor {
    let w = shape.last ?? 0
    guard range.lowerBound >= 0, range.upperBound <= w else {
      return Tape.fail("slice: range \(range) outside last axis of shape \(shape)", shape: Array(shape.dropLast()) + [range.count])
    }
    let rows = count / Swift.max(w, 1), k = range.count
    let out = Tensor(uninitializedShape: Array(shape.dropLast()) + [k])
    let dst = out.storage.buffer
    withUnsafeBufferPointer { src in
      for r in 0..<rows { (dst.baseAddress! + r * k).update(from: src.baseAddress! + r * w + range.lowerBound, count: k) }
    }
    let inShape = shape
    return Tape.record(out, [self]) { g, _ in
      var d = Tensor.zeros(inShape)
      d.withUnsafeMutableBufferPointer { pd in g.withUnsafeBufferPointer { pg in
        for r in 0..<rows { (pd.baseAddress! + r * w + range.lowerBound).update(from: pg.baseAddress! + r * k, count: k) }
      } }
      return [d]
    }
  }

  /// Rows `indices` of the first axis (gradient scatters back, adding for repeated indices).
  public func gathering(rows indices: [Int]) -> Tensor {
    let n = shape.first ?? 0
    let width = count / Swift.max(n, 1)
    if let bad = indices.first(where: { $0 < 0 || $0 >= n }) {
      return Tape.fail("gather: index \(bad) outside 0..<\(n) for shape \(shape)", shape: [indices.count] + shape.dropFirst())
    }
    let out = Tensor(uninitializedShape: [indices.count] + shape.dropFirst())
    let dst = out.storage.buffer
    withUnsafeBufferPointer { src in
      for (r, i) in indices.enumerated() { for j in 0..<width { dst[r * width + j] = src[i * width + j] } }
    }
    let inShape = shape
    return Tape.record(out, [self]) { g, _ in
      var d = Tensor.zeros(inShape)
      d.withUnsafeMutableBufferPointer { pd in g.withUnsafeBufferPointer { pg in
        for (r, i) in indices.enumerated() { for j in 0..<width { pd[i * width + j] += pg[r * width + j] } }
      } }
      return [d]
    }
  }
}
