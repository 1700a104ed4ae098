import Foundation
import Testing

import StitchNN

/// Stitch against a JAX/optax oracle (Tests/StitchNNTests/Fixtures/mlp_adam_oracle.safetensors, made by
/// scripts/fixtures/make_nn_fixtures.py): a 3-layer ReLU MLP's outputs, MSE loss, parameter gradients and the
/// parameters after 3 Adam steps, all within 1e-5 relative (plus 1e-6 absolute for values near zero).
@Suite struct OracleTests {
  static func fixture(_ name: String) throws -> URL {
    try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
  }

  func close(_ a: Tensor, _ b: Tensor, _ what: String) {
    #expect(a.shape == b.shape, "\(what): shape \(a.shape) vs \(b.shape)")
    let worst = zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) / (1e-6 + 1e-5 * Swift.abs($1)) }.max() ?? 0
    #expect(worst <= 1, "\(what): worst error ratio \(worst)")
  }

  @Test func mlpForwardGradientsAndAdamMatchJAX() throws {
    let (t, _) = try SafeTensors.read(try Self.fixture("mlp_adam_oracle.safetensors"))
    var rng = RandomStream(seed: 0)
    var mlp = MLP(inputSize: 5, hiddenSizes: [16, 16], outputSize: 3, activation: .relu, rng: &rng)
    var loaded = Checkpoint()
    for (k, v) in t where k.hasPrefix("param.") { loaded.tensors[String(k.dropFirst(6))] = v }
    try loaded.restore(&mlp, from: "")
    let x = try #require(t["input"]), y = try #require(t["target"])
    close(mlp(x), try #require(t["output"]), "output")
    let (loss, grad) = try valueWithGradient(at: mlp) { m in Tensor.meanSquaredError(m(x), y) }
    close(Tensor(loss), try #require(t["loss"]).reshaped([]), "loss")
    for (name, g) in grad.namedParameters { close(g, try #require(t["grad." + name]), "grad \(name)") }
    var adam = Adam(learningRate: 1e-3)
    for _ in 0..<3 {
      let (_, g) = try valueWithGradient(at: mlp) { m in Tensor.meanSquaredError(m(x), y) }
      adam.update(&mlp, along: g)
    }
    for (name, p) in mlp.namedParameters { close(p, try #require(t["adam3." + name]), "adam step 3 \(name)") }
  }
}
