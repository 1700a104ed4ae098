/// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay, as `torch.optim.SGD`:
///
///     g ← g + λθ;  b ← μb + (1 − dampening)g (b = g on the first step);  g ← g + μb (Nesterov) or g ← b;  θ ← θ − ηg
public struct SGD: Optimizer {
  public var learningRate: Float
  public var momentum: Float
  public var dampening: Float
  public var nesterov: Bool
  public var weightDecay: Float
  public var step = 0
  public var buffers: [Tensor] = []

  public init(learningRate: Float, momentum: Float = 0, dampening: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
    self.learningRate = learningRate
    self.momentum = momentum
    self.dampening = dampening
    self.nesterov = nesterov
    self.weightDecay = weightDecay
  }

  public mutating func update<Model: ParameterGroup>(_ model: inout Model, along gradient: Model) {
    step += 1
    let first = step == 1
    let (lr, mu, damp, wd, nest) = (learningRate, momentum, dampening, weightDecay, nesterov)
    var index = 0
    var bufs = buffers
    buffers = []
    model.updateParameters(alongside: gradient) { _, theta, grad in
      if index == bufs.count { bufs.append(Tensor.zeros(theta.shape)) }
      theta.withUnsafeMutableBufferPointer { p in
        bufs[index].withUnsafeMutableBufferPointer { pb in
          grad.withUnsafeBufferPointer { pg in
            for i in 0..<p.count {
              var g = pg[i] + wd * p[i]
              if mu != 0 {
                pb[i] = first ? g : mu * pb[i] + (1 - damp) * g
                g = nest ? g + mu * pb[i] : pb[i]
              }
              p[i] -= lr * g
            }
          }
        }
      }
      index += 1
    }
    buffers = bufs
  }

  public mutating func visitState(_ prefix: String, _ visit: (String, inout Tensor) -> Void) {
    for i in buffers.indices { visit(prefix + "momentum_buffer.\(i)", &buffers[i]) }
  }
}
