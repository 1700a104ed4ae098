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
public struct EnsembleMLP: Layer, Sendable {
  public var layers: [EnsembleLinear]
  public let members: Int

  public init(members: Int, inputSize: Int, hiddenSizes: [Int], outputSize: Int, activation: Activation = .relu,
              outputActivation: Activation = .identity, rng: inout RandomStream) {
    self.members = members
    var sizes = [inputSize] + hiddenSizes
    layers = []
    for i in 0..<hiddenSizes.count {
      layers.append(EnsembleLinear(members: members, inputSize: sizes[i], outputSize: sizes[i + 1], activation: activation, rng: &rng))
    }
    sizes.append(outputSize)
    layers.append(EnsembleLinear(members: members, inputSize: sizes[sizes.count - 2], outputSize: outputSize, activation: outputActivation, rng: &rng))
  }

  /// An ensemble made of existing layers (all with the same number of members).
  public init(layers: [EnsembleLinear]) {
    precondition(!layers.isEmpty && layers.allSatisfy { $0.members == layers[0].members }, "EnsembleMLP: layers disagree on members")
    self.layers = layers
    members = layers[0].members
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    var h = input
    if h.rank == 2 {
      // Share one batch across members: [B, in] → [E, B, in].
      h = Tensor.zeros([members] + h.shape) + h
    }
    for layer in layers { h = layer(h) }
    return h
  }

  public mutating func visitParameters(_ prefix: String, _ visit: (String, inout Tensor) -> Void) {
    for i in layers.indices { layers[i].visitParameters(prefix + "net.\(i).", visit) }
  }
}
