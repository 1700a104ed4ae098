/// A multilayer perceptron: hidden linear layers with an activation (optionally LayerNorm before it), then an
/// output layer with an optional output activation.
///
/// Parameter names follow PyTorch's `nn.Sequential` numbering of the equivalent module, e.g. for
/// `MLP(inputSize: 17, hiddenSizes: [256, 256], outputSize: 6)`: `net.0.weight`, `net.2.weight`, `net.4.weight`
/// (activations take indices 1 and 3; with LayerNorm each hidden block is Linear, LayerNorm, activation).
///
/// ```swift
/// var rng = RandomStream(seed: 0)
/// let actor = MLP(inputSize: 17, hiddenSizes: [256, 256], outputSize: 6, outputActivation: .tanh, rng: &rng)
/// ```
public struct MLP: Layer, Sendable {
  public var hidden: [Linear]
  public var norms: [LayerNorm]
  public var output: Linear
  public let activation: Activation
  public let layerNorm: Bool

  public init(inputSize: Int, hiddenSizes: [Int], outputSize: Int, activation: Activation = .relu,
              layerNorm: Bool = false, outputActivation: Activation = .identity, rng: inout RandomStream) {
    var sizes = [inputSize]
    hidden = []
    norms = []
    for h in hiddenSizes {
      hidden.append(Linear(inputSize: sizes.last!, outputSize: h, activation: layerNorm ? .identity : activation, rng: &rng))
      if layerNorm { norms.append(LayerNorm(size: h)) }
      sizes.append(h)
    }
    output = Linear(inputSize: sizes.last!, outputSize: outputSize, activation: outputActivation, rng: &rng)
    self.activation = activation
    self.layerNorm = layerNorm
  }

  public var inputSize: Int { hidden.first?.inputSize ?? output.inputSize }
  public var outputSize: Int { output.outputSize }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    var h = input
    for (i, layer) in hidden.enumerated() {
      h = layer(h)
      if layerNorm { h = activation(norms[i](h)) }
    }
    return output(h)
  }

  public mutating func visitParameters(_ prefix: String, _ visit: (String, inout Tensor) -> Void) {
    let stride = layerNorm ? 3 : 2
    for i in hidden.indices {
      hidden[i].visitParameters(prefix + "net.\(i * stride).", visit)
      if layerNorm { norms[i].visitParameters(prefix + "net.\(i * stride + 1).", visit) }
    }
    output.visitParameters(prefix + "net.\(hidden.count * stride).", visit)
  }
}

/// An ensemble of E MLPs evaluated together on `[E, B, in]` inputs (or `[B, in]`, which is shared by all members).
///
/// With `layerNorm`, each hidden block is linear, a per-member LayerNorm (`EnsembleLayerNorm`), then the
/// activation (RLPD's critics: Dense → LayerNorm → ReLU); parameters are then numbered as `MLP`'s with LayerNorm
/// (`net.0` linear, `net.1` norm, `net.3` linear, …); without it, `net.0`, `net.1`, … as before.
public struct EnsembleMLP: Layer, Sendable {
  public var layers: [EnsembleLinear]
  /// One per hidden layer with `layerNorm`, else empty.
  public var norms: [EnsembleLayerNorm] = []
  public let members: Int
  /// The hidden activation, applied after the norm (with `layerNorm`; without it each layer applies its own).
  public let hiddenActivation: Activation

  public init(members: Int, inputSize: Int, hiddenSizes: [Int], outputSize: Int, activation: Activation = .relu,
              layerNorm: Bool = false, layerNormEpsilon: Float = 1e-6, outputActivation: Activation = .identity, rng: inout RandomStream) {
    self.members = members
    hiddenActivation = activation
    var sizes = [inputSize] + hiddenSizes
    layers = []
    for i in 0..<hiddenSizes.count {
      layers.append(EnsembleLinear(members: members, inputSize: sizes[i], outputSize: sizes[i + 1], activation: layerNorm ? .identity : activation, rng: &rng))
      if layerNorm { norms.append(EnsembleLayerNorm(members: members, size: sizes[i + 1], epsilon: layerNormEpsilon)) }
    }
    sizes.append(outputSize)
    layers.append(EnsembleLinear(members: members, inputSize: sizes[sizes.count - 2], outputSize: outputSize, activation: outputActivation, rng: &rng))
  }

  /// An ensemble made of existing layers (all with the same number of members).
  public init(layers: [EnsembleLinear], hiddenActivation: Activation = .identity) {
    precondition(!layers.isEmpty && layers.allSatisfy { $0.members == layers[0].members }, "EnsembleMLP: layers disagree on members")
    self.layers = layers
    members = layers[0].members
    self.hiddenActivation = hiddenActivation
  }

  public var layerNorm: Bool { !norms.isEmpty }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    var h = input
    if h.rank == 2 {
      // Share one batch across members: [B, in] → [E, B, in].
      h = Tensor.zeros([members] + h.shape) + h
    }
    for (i, layer) in layers.enumerated() {
      h = layer(h)
      if i < norms.count { h = hiddenActivation(norms[i](h)) }
    }
    return h
  }

  public mutating func visitParameters(_ prefix: String, _ visit: (String, inout Tensor) -> Void) {
    guard layerNorm else {
      for i in layers.indices { layers[i].visitParameters(prefix + "net.\(i).", visit) }
      return
    }
    for i in layers.indices {
      layers[i].visitParameters(prefix + "net.\(i * 3).", visit)
      if i < norms.count { norms[i].visitParameters(prefix + "net.\(i * 3 + 1).", visit) }
    }
  }
}

extension EnsembleMLP {
  /// The ensemble of the given members only, in that order (a copy of their parameters): REDQ's and RLPD's target
  /// over a random subset of the critics evaluates just the subset.
  public func selecting(members indices: [Int]) -> EnsembleMLP {
    func rows(_ t: Tensor) -> Tensor {
      let per = t.count / Swift.max(t.shape[0], 1)
      var scalars: [Float] = []
      scalars.reserveCapacity(per * indices.count)
      t.withUnsafeBufferPointer { p in for i in indices { scalars.append(contentsOf: p[i * per ..< (i + 1) * per]) } }
      return Tensor(shape: [indices.count] + t.shape.dropFirst(), scalars: scalars)
    }
    var copy = EnsembleMLP(layers: layers.map { l in
      var s = l
      s.weight = rows(l.weight)
      s.bias = rows(l.bias)
      return s
    }, hiddenActivation: hiddenActivation)
    copy.norms = norms.map { n in
      var s = n
      s.scale = rows(n.scale)
      s.offset = rows(n.offset)
      return s
    }
    return copy
  }
}
