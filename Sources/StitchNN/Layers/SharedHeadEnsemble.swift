/// E MLP backbones evaluated together, followed by one output layer that all members share: input `[B, in]`
/// (shared by the members) or `[E, B, in]` → output `[E, B, out]`.
///
/// This is WSRL's critic (github.com/zhouzypaul/wsrl @ 891ee35, `agents/sac.py` `create`, `networks/
/// actor_critic_nets.py` `Critic`): `ensemblize` vmaps only the `MLP` backbone over the members, and `Critic` then
/// applies a single `nn.Dense(1)` to the backbone's `[E, B, h]` output, so the members differ in their hidden
/// layers and share their output weights (RLPD's and CORL's ensembles, `EnsembleMLP`, have one head per member).
/// Each hidden block is linear, then (with `layerNorm`) a per-member LayerNorm, then the activation; the last
/// hidden block is activated too (`activate_final=True`).
///
/// Parameters: `net.{0,3,…}` the hidden linear layers (`[E, out, in]`, `[E, out]`), `net.{1,4,…}` their norms
/// (`[E, 1, d]`; without LayerNorm the linear layers are `net.0`, `net.1`, …), `head` the shared `[out, h]` layer.
public struct SharedHeadEnsemble: Layer, Sendable {
  public var layers: [EnsembleLinear]
  /// One per hidden layer with `layerNorm`, else empty.
  public var norms: [EnsembleLayerNorm]
  public var head: Linear
  public let activation: Activation

  public init(members: Int, inputSize: Int, hiddenSizes: [Int], outputSize: Int = 1, activation: Activation = .relu,
              layerNorm: Bool = true, layerNormEpsilon: Float = 1e-6, rng: inout RandomStream) {
    precondition(!hiddenSizes.isEmpty, "SharedHeadEnsemble needs at least one hidden layer")
    let sizes = [inputSize] + hiddenSizes
    layers = (0..<hiddenSizes.count).map { EnsembleLinear(members: members, inputSize: sizes[$0], outputSize: sizes[$0 + 1], rng: &rng) }
    norms = layerNorm ? hiddenSizes.map { EnsembleLayerNorm(members: members, size: $0, epsilon: layerNormEpsilon) } : []
    head = Linear(inputSize: hiddenSizes.last!, outputSize: outputSize, rng: &rng)
    self.activation = activation
  }

  public var members: Int { layers[0].members }
  public var layerNorm: Bool { !norms.isEmpty }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    var h = input.rank == 2 ? Tensor.zeros([members] + input.shape) + input : input
    for (i, layer) in layers.enumerated() {
      h = layer(h)
      h = activation(norms.isEmpty ? h : norms[i](h))
    }
    let (e, b, width) = (h.shape[0], h.shape[1], h.shape[2])
    return head(h.reshaped([e * b, width])).reshaped([e, b, head.outputSize])
  }

  /// The ensemble of members `indices` (repeats allowed), in that order, with the shared head. Built from this
  /// ensemble's parameters by differentiable row gathers, so evaluating it inside a gradient closure sends the
  /// gradient back to those members (twice to a member picked twice): REDQ-style subsets of the critics in a loss.
  public func selecting(members indices: [Int]) -> SharedHeadEnsemble {
    var copy = self
    for i in layers.indices {
      copy.layers[i].weight = layers[i].weight.gathering(rows: indices)
      copy.layers[i].bias = layers[i].bias.gathering(rows: indices)
    }
    for i in norms.indices {
      copy.norms[i].scale = norms[i].scale.gathering(rows: indices)
      copy.norms[i].offset = norms[i].offset.gathering(rows: indices)
    }
    return copy
  }

  public mutating func visitParameters(_ prefix: String, _ visit: (String, inout Tensor) -> Void) {
    let stride = layerNorm ? 3 : 1
    for i in layers.indices {
      layers[i].visitParameters(prefix + "net.\(i * stride).", visit)
      if layerNorm { norms[i].visitParameters(prefix + "net.\(i * stride + 1).", visit) }
    }
    head.visitParameters(prefix + "head.", visit)
  }
}
