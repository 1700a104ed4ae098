import COpenBLAS

import Dispatch

/// Matrix products straight to OpenBLAS's `cblas_sgemm`: rank 2 (`[M,K]·[K,N]`), or rank 3 as a batch of
/// independent products (`[E,M,K]·[E,K,N]`, one per ensemble member), each operand optionally transposed.
extension Tensor {
  /// op(a)·op(b), where op transposes the last two dimensions when asked.
  ///
  /// Gradients (for C = A·B): ∂A = G·Bᵀ, ∂B = Aᵀ·G, and the transposed cases follow by symmetry; each is itself
  /// one sgemm with transpose flags, never an explicit transpose copy.
  /// - Complexity: 2·M·K·N flops per batch member forward, twice that backward.
  public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    guard (a.rank == 2 && b.rank == 2) || (a.rank == 3 && b.rank == 3 && a.shape[0] == b.shape[0]) else {
      return Tape.fail("matmul: shapes \(a.shape) and \(b.shape) are not both rank 2 or rank 3 with equal batch", shape: [1, 1])
    }
    let r = a.rank
    let m = transposeA ? a.shape[r - 1] : a.shape[r - 2]
    let k = transposeA ? a.shape[r - 2] : a.shape[r - 1]
    let kb = transposeB ? b.shape[r - 1] : b.shape[r - 2]
    let n = transposeB ? b.shape[r - 2] : b.shape[r - 1]
    let batch = r == 3 ? a.shape[0] : 1
    let outShape = r == 3 ? [batch, m, n] : [m, n]
    guard k == kb else {
      return Tape.fail("matmul: inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")", shape: outShape)
    }
    let out = Tensor(uninitializedShape: outShape)
    gemm(a, b, into: out, m: m, n: n, k: k, batch: batch, transposeA: transposeA, transposeB: transposeB, beta: 0)
    let (ad, bd) = (a.detached(), b.detached())
    return Tape.record(out, [a, b]) { g, need in
      var da: Tensor? = nil, db: Tensor? = nil
      switch (transposeA, transposeB) {
      case (false, false):
        if need[0] { da = matmul(g, bd, transposeB: true) }
        if need[1] { db = matmul(ad, g, transposeA: true) }
      case (false, true):
        if need[0] { da = matmul(g, bd) }
        if need[1] { db = matmul(g, ad, transposeA: true) }
      case (true, false):
        if need[0] { da = matmul(bd, g, transposeB: true) }
        if need[1] { db = matmul(ad, g) }
      case (true, true):
        if need[0] { da = matmul(bd, g, transposeA: true, transposeB: true) }
        if need[1] { db = matmul(g, ad, transposeA: true, transposeB: true) }
      }
      return [da, db]
    }
  }

  /// C = op(A)·op(B) + beta·C for each batch member, on raw storage.
  static func gemm(_ a: Tensor, _ b: Tensor, into c: Tensor, m: Int, n: Int, k: Int, batch: Int,
                   transposeA: Bool, transposeB: Bool, beta: Float) {
    if SgemmRecorder.isRecording && m > 0 && n > 0 && k > 0 {
      SgemmRecorder.note(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, batch: batch)
    }
    let start = SgemmRecorder.isTiming ? DispatchTime.now().uptimeNanoseconds : 0
    defer { if SgemmRecorder.isTiming { SgemmRecorder.addTime(DispatchTime.now().uptimeNanoseconds - start) } }
    if m == 0 || n == 0 { return }
    if k == 0 {
      let pc = c.storage.buffer
      for i in 0..<(batch * m * n) { pc[i] = beta == 0 ? 0 : pc[i] * beta }  // β = 0: C may be uninitialised
      return
    }
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        ProductLanes.sgemm(pa.baseAddress!, pb.baseAddress!, c.storage.buffer.baseAddress!, m: m, n: n, k: k, batch: batch,
                           transposeA: transposeA, transposeB: transposeB, beta: beta)
      }
    }
  }

  /// The affine map of a linear layer, fused with its activation: act(x·Wᵀ + b).
  ///
  /// `weight` is stored as `[out, in]` (PyTorch's layout, so checkpoints load in PyTorch unchanged). Rank 2:
  /// x `[B, in]`, bias `[out]`. Rank 3 (ensembles): x `[E, B, in]`, weight `[E, out, in]`, bias `[E, out]`.
  /// The bias goes in either before the product (sgemm with β = 1) or after it, fused with the activation where
  /// possible (see the body), and the activation is applied in place.
  public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, activation: Activation = .identity) -> Tensor {
    let r = x.rank
    guard (r == 2 && weight.rank == 2) || (r == 3 && weight.rank == 3 && weight.shape[0] == x.shape[0]),
          x.shape[r - 1] == weight.shape[r - 1] else {
      return Tape.fail("linear: input \(x.shape) does not match weight \(weight.shape) ([out, in] or [E, out, in])", shape: [1, 1])
    }
    let batch = r == 3 ? x.shape[0] : 1
    let rows = x.shape[r - 2], inDim = x.shape[r - 1], outDim = weight.shape[r - 2]
    let outShape = r == 3 ? [batch, rows, outDim] : [rows, outDim]
    if let bias, bias.count != batch * outDim {
      return Tape.fail("linear: bias \(bias.shape) does not match \(batch > 1 || r == 3 ? "[\(batch), \(outDim)]" : "[\(outDim)]")", shape: outShape)
    }
    var pre = Tensor(uninitializedShape: outShape)
    // Two ways to add the bias, chosen by measurement (OpenBLAS 0.3.21, SkylakeX kernel; benchmarks/RESULTS.md,
    // "sgemm beta"): with few input columns (k = 11, 17) sgemm's β = 0 kernels run 22–28% slower than its β = 1
    // kernels, while at k = 256 and 1,024 the two are within 2%; so with k < 128 the bias is copied into the
    // output first and the product accumulated onto it; with more, β no longer matters and the bias is added
    // after the product, fused with ReLU when that is the activation, saving the copy.
    let prefill = bias != nil && inDim < 128
    let fusedRelu = activation == .relu && bias != nil && !prefill
    if let bias, prefill {
      let dst = pre.storage.buffer.baseAddress!
      bias.withUnsafeBufferPointer { pb in
        ProductLanes.parallelFor(batch * rows, elementsEach: outDim) { r in
          for row in r { (dst + row * outDim).update(from: pb.baseAddress! + row / rows * outDim, count: outDim) }
        }
      }
    }
    gemm(x, weight, into: pre, m: rows, n: outDim, k: inDim, batch: batch, transposeA: false, transposeB: true,
         beta: prefill ? 1 : 0)
    pre.node = nil
    if let bias, !prefill {
      let dst = pre.storage.buffer.baseAddress!
      bias.withUnsafeBufferPointer { pb in
        for e in 0..<batch {
          Kernels.addBiasRows(dst + e * rows * outDim, rows: rows, columns: outDim, bias: pb.baseAddress! + e * outDim,
                              relu: fusedRelu)
        }
      }
    }
    let out: Tensor, preD: Tensor
    if fusedRelu {
      out = pre
      preD = out
    } else if activation.needsInput {
      preD = pre
      out = activation.applyInPlace(pre)
    } else {
      out = activation.applyInPlace(consume pre)  // relu/identity reuse the buffer
      preD = out
    }
    let (xd, wd) = (x.detached(), weight.detached())
    let outD = out.detached()
    let biasShape = bias?.shape
    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    return Tape.record(out, inputs) { g, need in
      let gp = activation.backward(g, input: preD, output: outD)
      let dx = need[0] ? matmul(gp, wd) : nil
      let dw = need[1] ? matmul(gp, xd, transposeA: true) : nil
      var db: Tensor? = nil
      if need.count > 2, need[2], let biasShape {
        var sums = Tensor.zeros(biasShape)
        sums.withUnsafeMutableBufferPointer { s in
          gp.withUnsafeBufferPointer { pg in
            for e in 0..<batch {
              Kernels.addRows(pg.baseAddress! + e * rows * outDim, rows: rows, columns: outDim,
                              into: s.baseAddress! + e * outDim)
            }
          }
        }
        db = sums
      }
      return [dx, dw, db]
    }
  }
}
