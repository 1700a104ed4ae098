#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Unary elementwise functions and their derivatives.
///
/// Each backward pass is one fused loop over (upstream gradient, input or output), written so it vectorises.
enum ExpKernel: UnaryKernel { @inline(__always) static func apply(_ x: Float) -> Float { expf(x) } }
enum LogKernel: UnaryKernel { @inline(__always) static func apply(_ x: Float) -> Float { logf(x) } }
enum SqrtKernel: UnaryKernel { @inline(__always) static func apply(_ x: Float) -> Float { x.squareRoot() } }
enum SquareKernel: UnaryKernel { @inline(__always) static func apply(_ x: Float) -> Float { x * x } }
enum AbsKernel: UnaryKernel { @inline(__always) static func apply(_ x: Float) -> Float { Swift.abs(x) } }
enum ReluKernel: UnaryKernel { @inline(__always) static func apply(_ x: Float) -> Float { x > 0 ? x : 0 } }
enum TanhKernel: UnaryKernel { @inline(__always) static func apply(_ x: Float) -> Float { tanhf(x) } }
enum SigmoidKernel: UnaryKernel {
  @inline(__always) static func apply(_ x: Float) -> Float { 1 / (1 + expf(-x)) }
}
/// softplus(x) = log(1 + e^x), computed as max(x, 0) + log1p(e^{-|x|}) so it neither overflows nor underflows.
enum SoftplusKernel: UnaryKernel {
  @inline(__always) static func apply(_ x: Float) -> Float { Swift.max(x, 0) + log1pf(expf(-Swift.abs(x))) }
}

// Derivative kernels: (g, x) -> g * f'(x), or (g, y) -> g * f'(y) where y = f(x) is cheaper.
enum ReluGrad: BinaryKernel { @inline(__always) static func apply(_ g: Float, _ x: Float) -> Float { x > 0 ? g : 0 } }
enum TanhGrad: BinaryKernel { @inline(__always) static func apply(_ g: Float, _ y: Float) -> Float { g * (1 - y * y) } }
enum SigmoidGrad: BinaryKernel { @inline(__always) static func apply(_ g: Float, _ y: Float) -> Float { g * y * (1 - y) } }
enum SoftplusGrad: BinaryKernel {
  @inline(__always) static func apply(_ g: Float, _ x: Float) -> Float { g / (1 + expf(-x)) }
}
enum AbsGrad: BinaryKernel {
  @inline(__always) static func apply(_ g: Float, _ x: Float) -> Float { x > 0 ? g : (x < 0 ? -g : 0) }
}
enum SiluGrad: BinaryKernel {
  /// d/dx x·σ(x) = σ(x)·(1 + x·(1 − σ(x))).
  @inline(__always) static func apply(_ g: Float, _ x: Float) -> Float {
    let s = 1 / (1 + vectorExp(-x))
    return g * s * (1 + x * (1 - s))
  }
}
enum SiluKernel: UnaryKernel { @inline(__always) static func apply(_ x: Float) -> Float { x / (1 + vectorExp(-x)) } }
/// mish(x) = x·tanh(softplus(x)) (Misra 2019, arXiv 1908.08681, eq. 1).
enum MishKernel: UnaryKernel {
  @inline(__always) static func apply(_ x: Float) -> Float { x * tanhf(SoftplusKernel.apply(x)) }
}
enum MishGrad: BinaryKernel {
  /// d/dx x·tanh(sp(x)) = tanh(sp(x)) + x·σ(x)·(1 − tanh²(sp(x))).
  @inline(__always) static func apply(_ g: Float, _ x: Float) -> Float {
    let t = tanhf(SoftplusKernel.apply(x))
    let s = 1 / (1 + expf(-x))
    return g * (t + x * s * (1 - t * t))
  }
}

extension Tensor {
  @inline(__always)
  func unaryOp<F: UnaryKernel, G: BinaryKernel>(_ f: F.Type, gradFromInput g: G.Type) -> Tensor {
    let out = Kernels.unary(self, F.self)
    let x = detached()
    return Tape.record(out, [self]) { up, _ in [Kernels.zip(up, x, G.self)] }
  }

  @inline(__always)
  func unaryOp<F: UnaryKernel, G: BinaryKernel>(_ f: F.Type, gradFromOutput g: G.Type) -> Tensor {
    let out = Kernels.unary(self, F.self)
    let y = out.detached()
    return Tape.record(out, [self]) { up, _ in [Kernels.zip(up, y, G.self)] }
  }

  /// e^x.
  public func exp() -> Tensor {
    let out = Kernels.unary(self, ExpKernel.self)
    let y = out.detached()
    return Tape.record(out, [self]) { g, _ in [g * y] }
  }
  /// Natural logarithm.
  public func log() -> Tensor {
    let out = Kernels.unary(self, LogKernel.self)
    let x = detached()
    return Tape.record(out, [self]) { g, _ in [g / x] }
  }
  /// Square root.
  public func sqrt() -> Tensor {
    let out = Kernels.unary(self, SqrtKernel.self)
    let y = out.detached()
    return Tape.record(out, [self]) { g, _ in [g / (y * 2)] }
  }
  /// x².
  public func square() -> Tensor {
    let out = Kernels.unary(self, SquareKernel.self)
    let x = detached()
    return Tape.record(out, [self]) { g, _ in [g * x * 2] }
  }
  /// |x| (gradient 0 at 0).
  public func abs() -> Tensor { unaryOp(AbsKernel.self, gradFromInput: AbsGrad.self) }
  /// x^p for a scalar exponent p.
  public func pow(_ p: Float) -> Tensor {
    let x = detached()
    var out = Tensor(uninitializedShape: shape)
    out.withUnsafeMutableBufferPointer { dst in x.withUnsafeBufferPointer { src in for i in 0..<src.count { dst[i] = powf(src[i], p) } } }
    return Tape.record(out, [self]) { g, _ in
      var d = Tensor(uninitializedShape: x.shape)
      d.withUnsafeMutableBufferPointer { dst in x.withUnsafeBufferPointer { src in for i in 0..<src.count { dst[i] = p * powf(src[i], p - 1) } } }
      return [g * d]
    }
  }
  /// max(x, 0).
  public func relu() -> Tensor { unaryOp(ReluKernel.self, gradFromInput: ReluGrad.self) }
  /// x for x > 0, slope·x otherwise.
  public func leakyRelu(slope: Float = 0.01) -> Tensor {
    let x = detached()
    var out = Tensor(uninitializedShape: shape)
    out.withUnsafeMutableBufferPointer { dst in x.withUnsafeBufferPointer { src in for i in 0..<src.count { let v = src[i]; dst[i] = v > 0 ? v : slope * v } } }
    return Tape.record(out, [self]) { g, _ in
      var d = Tensor(uninitializedShape: x.shape)
      d.withUnsafeMutableBufferPointer { dst in
        g.withUnsafeBufferPointer { pg in x.withUnsafeBufferPointer { src in for i in 0..<src.count { let gi = pg[i]; dst[i] = src[i] > 0 ? gi : slope * gi } } }
      }
      return [d]
    }
  }
  /// Hyperbolic tangent.
  public func tanh() -> Tensor { unaryOp(TanhKernel.self, gradFromOutput: TanhGrad.self) }
  /// Logistic sigmoid 1/(1+e^{-x}).
  public func sigmoid() -> Tensor { unaryOp(SigmoidKernel.self, gradFromOutput: SigmoidGrad.self) }
  /// log(1 + e^x), numerically stable.
  public func softplus() -> Tensor { unaryOp(SoftplusKernel.self, gradFromInput: SoftplusGrad.self) }
  /// SiLU / swish: x·σ(x) (Elfwing et al. 2017; Ramachandran et al. 2017).
  public func silu() -> Tensor { unaryOp(SiluKernel.self, gradFromInput: SiluGrad.self) }
  /// Mish: x·tanh(softplus(x)).
  public func mish() -> Tensor { unaryOp(MishKernel.self, gradFromInput: MishGrad.self) }

  /// Clamps into [lower, upper]. The gradient is zero outside the interval, or passes through unchanged when
  /// `straightThrough` is true (the straight-through estimator, Bengio et al. 2013).
  public func clamped(min lower: Float, max upper: Float, straightThrough: Bool = false) -> Tensor {
    let x = detached()
    var out = Tensor(uninitializedShape: shape)
    out.withUnsafeMutableBufferPointer { dst in x.withUnsafeBufferPointer { src in for i in 0..<src.count { dst[i] = Swift.min(Swift.max(src[i], lower), upper) } } }
    return Tape.record(out, [self]) { g, _ in
      if straightThrough { return [g] }
      var d = Tensor(uninitializedShape: x.shape)
      d.withUnsafeMutableBufferPointer { dst in
        g.withUnsafeBufferPointer { pg in x.withUnsafeBufferPointer { src in
          for i in 0..<src.count { let v = src[i], gi = pg[i]; dst[i] = (v >= lower && v <= upper) ? gi : 0 }
        } }
      }
      return [d]
    }
  }

  /// Elementwise minimum of two tensors (broadcasting); the gradient goes to the smaller operand (to `a` on ties).
  public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { select(a, b, takeFirstWhen: { $0 <= $1 }, "minimum") }
  /// Elementwise maximum of two tensors (broadcasting); the gradient goes to the larger operand (to `a` on ties).
  public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { select(a, b, takeFirstWhen: { $0 >= $1 }, "maximum") }

  static func select(_ a: Tensor, _ b: Tensor, takeFirstWhen pick: @escaping (Float, Float) -> Bool, _ name: String) -> Tensor {
    guard let shape = Kernels.broadcastShape(a.shape, b.shape) else {
      return Tape.fail("\(name): shapes \(a.shape) and \(b.shape) do not broadcast", shape: a.shape)
    }
    let ea = Kernels.broadcast(a.detached(), Tensor.zeros(shape), outShape: shape, AddKernel.self)
    let eb = Kernels.broadcast(b.detached(), Tensor.zeros(shape), outShape: shape, AddKernel.self)
    var mask = Tensor(uninitializedShape: shape)
    var out = Tensor(uninitializedShape: shape)
    mask.withUnsafeMutableBufferPointer { m in out.withUnsafeMutableBufferPointer { o in
      ea.withUnsafeBufferPointer { pa in eb.withUnsafeBufferPointer { pb in
        for i in 0..<o.count { let first = pick(pa[i], pb[i]); m[i] = first ? 1 : 0; o[i] = first ? pa[i] : pb[i] }
      } }
    } }
    let (sa, sb) = (a.shape, b.shape)
    return Tape.record(out, [a, b]) { g, need in
      [need[0] ? Kernels.sum(g * mask, toShape: sa) : nil, need[1] ? Kernels.sum(g * (1 - mask), toShape: sb) : nil]
    }
  }
}
