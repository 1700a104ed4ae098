/// An activation function that layers name (and `Tensor.linear` fuses into the affine map).
public enum Activation: String, Codable, Sendable, CaseIterable {
  case identity, relu, tanh, sigmoid, silu, mish, leakyRelu, softplus

  /// Applies the activation (differentiable).
  public func callAsFunction(_ x: Tensor) -> Tensor {
    switch self {
    case .identity: return x
    case .relu: return x.relu()
    case .tanh: return x.tanh()
    case .sigmoid: return x.sigmoid()
    case .silu: return x.silu()
    case .mish: return x.mish()
    case .leakyRelu: return x.leakyRelu()
    case .softplus: return x.softplus()
    }
  }

  /// Whether the derivative needs the pre-activation input (otherwise the output suffices).
  var needsInput: Bool {
    switch self {
    case .identity, .relu, .tanh, .sigmoid: return false
    default: return true
    }
  }

  /// Applies the activation to an unrecorded tensor, in place when it is uniquely held.
  func applyInPlace(_ x: Tensor) -> Tensor {
    switch self {
    case .identity: return x
    case .relu:
      var y = x
      y.withUnsafeMutableBufferPointer { p in
        ProductLanes.parallelFor(p.count) { r in for i in r { let v = p[i]; p[i] = v > 0 ? v : 0 } }
      }
      return y
    case .tanh: return Kernels.unary(x, TanhKernel.self)
    case .sigmoid: return Kernels.unary(x, SigmoidKernel.self)
    case .silu: return Kernels.unary(x, SiluKernel.self)
    case .mish: return Kernels.unary(x, MishKernel.self)
    case .softplus: return Kernels.unary(x, SoftplusKernel.self)
    case .leakyRelu: return Tape.suspended { x.leakyRelu() }
    }
  }

  /// The gradient with respect to the pre-activation, given the upstream gradient.
  func backward(_ g: Tensor, input: Tensor, output: Tensor) -> Tensor {
    switch self {
    case .identity: return g
    case .relu: return Kernels.zip(g, output, ReluGrad.self)
    case .tanh: return Kernels.zip(g, output, TanhGrad.self)
    case .sigmoid: return Kernels.zip(g, output, SigmoidGrad.self)
    case .silu: return Kernels.zip(g, input, SiluGrad.self)
    case .mish: return Kernels.zip(g, input, MishGrad.self)
    case .softplus: return Kernels.zip(g, input, SoftplusGrad.self)
    case .leakyRelu:
      var d = Tensor(uninitializedShape: g.shape)
      d.withUnsafeMutableBufferPointer { dst in
        g.withUnsafeBufferPointer { pg in input.withUnsafeBufferPointer { px in
          for i in 0..<dst.count { let gi = pg[i]; dst[i] = px[i] > 0 ? gi : 0.01 * gi }
        } }
      }
      return d
    }
  }
}
