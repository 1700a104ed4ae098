/// Addition, subtraction, multiplication and division with broadcasting (NumPy rules: a size-1 or missing
/// dimension stretches), and negation. Gradients of a broadcast operand are summed back to its shape.
enum AddKernel: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a + b } }
enum SubKernel: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a - b } }
enum MulKernel: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a * b } }
enum DivKernel: BinaryKernel { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a / b } }
enum NegKernel: UnaryKernel { @inline(__always) static func apply(_ x: Float) -> Float { -x } }

extension Tensor {
  static func broadcastOrFail(_ op: String, _ a: Tensor, _ b: Tensor) -> [Int]? {
    Kernels.broadcastShape(a.shape, b.shape)
  }

  /// Elementwise sum with broadcasting.
  public static func + (a: Tensor, b: Tensor) -> Tensor {
    guard let shape = Kernels.broadcastShape(a.shape, b.shape) else {
      return Tape.fail("add: shapes \(a.shape) and \(b.shape) do not broadcast", shape: a.shape)
    }
    let out = Kernels.broadcast(a, b, outShape: shape, AddKernel.self)
    let (sa, sb) = (a.shape, b.shape)
    return Tape.record(out, [a, b]) { g, need in
      [need[0] ? Kernels.sum(g, toShape: sa) : nil, need[1] ? Kernels.sum(g, toShape: sb) : nil]
    }
  }

  /// Elementwise difference with broadcasting.
  public static func - (a: Tensor, b: Tensor) -> Tensor {
    guard let shape = Kernels.broadcastShape(a.shape, b.shape) else {
      return Tape.fail("subtract: shapes \(a.shape) and \(b.shape) do not broadcast", shape: a.shape)
    }
    let out = Kernels.broadcast(a, b, outShape: shape, SubKernel.self)
    let (sa, sb) = (a.shape, b.shape)
    return Tape.record(out, [a, b]) { g, need in
      [need[0] ? Kernels.sum(g, toShape: sa) : nil, need[1] ? Kernels.sum(-g, toShape: sb) : nil]
    }
  }

  /// Elementwise product with broadcasting.
  public static func * (a: Tensor, b: Tensor) -> Tensor {
    guard let shape = Kernels.broadcastShape(a.shape, b.shape) else {
      return Tape.fail("multiply: shapes \(a.shape) and \(b.shape) do not broadcast", shape: a.shape)
    }
    let out = Kernels.broadcast(a, b, outShape: shape, MulKernel.self)
    let (ad, bd) = (a.detached(), b.detached())
    return Tape.record(out, [a, b]) { g, need in
      [need[0] ? Kernels.sum(g * bd, toShape: ad.shape) : nil, need[1] ? Kernels.sum(g * ad, toShape: bd.shape) : nil]
    }
  }

  /// Elementwise quotient with broadcasting.
  public static func / (a: Tensor, b: Tensor) -> Tensor {
    guard let shape = Kernels.broadcastShape(a.shape, b.shape) else {
      return Tape.fail("divide: shapes \(a.shape) and \(b.shape) do not broadcast", shape: a.shape)
    }
    let out = Kernels.broadcast(a, b, outShape: shape, DivKernel.self)
    let (ad, bd) = (a.detached(), b.detached())
    let od = out.detached()
    return Tape.record(out, [a, b]) { g, need in
      [need[0] ? Kernels.sum(g / bd, toShape: ad.shape) : nil,
       need[1] ? Kernels.sum(-(g * od / bd), toShape: bd.shape) : nil]
    }
  }

  /// Elementwise negation.
  public static prefix func - (x: Tensor) -> Tensor {
    let out = Kernels.unary(x, NegKernel.self)
    return Tape.record(out, [x]) { g, _ in [-g] }
  }

  public static func + (a: Tensor, b: Float) -> Tensor { a + Tensor(b) }
  public static func + (a: Float, b: Tensor) -> Tensor { Tensor(a) + b }
  public static func - (a: Tensor, b: Float) -> Tensor { a - Tensor(b) }
  public static func - (a: Float, b: Tensor) -> Tensor { Tensor(a) - b }
  public static func * (a: Tensor, b: Float) -> Tensor { a * Tensor(b) }
  public static func * (a: Float, b: Tensor) -> Tensor { Tensor(a) * b }
  public static func / (a: Tensor, b: Float) -> Tensor { a / Tensor(b) }
  public static func / (a: Float, b: Tensor) -> Tensor { Tensor(a) / b }
}
