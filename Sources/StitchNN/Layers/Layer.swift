@_exported import StitchTensor

/// A differentiable function with trainable parameters: a `ParameterGroup` you can call.
///
/// Layers are structs (swift-apis' shape): copying one copies its parameters, so `var target = critic` makes a
/// target network, and optimizers update them in place through `visitParameters`.
public protocol Layer: ParameterGroup {
  /// Applies the layer to a batch.
  func callAsFunction(_ input: Tensor) -> Tensor
}
