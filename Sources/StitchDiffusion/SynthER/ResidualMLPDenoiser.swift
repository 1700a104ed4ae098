import Foundation
import StitchNN

import StitchTensor

/// SynthER's denoiser network (Lu, Ball, Teh & Parker-Holder, "Synthetic Experience Replay", NeurIPS 2023,
/// arXiv 2303.06614, App. B; `synther/diffusion/denoiser_network.py::ResidualMLPDenoiser`, docs/facts.md §2h):
/// h = proj(x) + time_mlp(c_noise), time_mlp = Linear(17 → dim_t) → SiLU → Linear(dim_t → dim_t) over random
/// Fourier features [c, sin 2πcw, cos 2πcw] (8 fixed frequencies w ~ N(0, 1)); then the residual MLP
/// Linear(dim_t → width) → `depth` blocks z + Linear(ReLU(z)) → ReLU → Linear(width → d). The paper uses
/// width 2048 (or 1024), depth 6, dim_t 128, no LayerNorm.
public struct ResidualMLPDenoiser: Layer, Sendable {
  public var proj: Linear
  public var timeHidden: Linear
  public var timeOut: Linear
  public var inputLayer: Linear
  public var blocks: [Linear]
  public var output: Linear
  /// The 8 random Fourier frequencies: fixed, not trained (SynthER's `is_random=True`); saved in checkpoints.
  public var frequencies: Tensor

  public struct Size: Codable, Sendable, Equatable {
    public var width: Int
    public var depth: Int
    public var timeDimension: Int
    public init(width: Int, depth: Int = 6, timeDimension: Int = 128) {
      self.width = width
      self.depth = depth
      self.timeDimension = timeDimension
    }
  }

  public init(dimension: Int, size: Size, rng: inout RandomStream) {
    frequencies = Tensor.normal([8], using: &rng)
    proj = Linear(inputSize: dimension, outputSize: size.timeDimension, rng: &rng)
    timeHidden = Linear(inputSize: 17, outputSize: size.timeDimension, activation: .silu, rng: &rng)
    timeOut = Linear(inputSize: size.timeDimension, outputSize: size.timeDimension, rng: &rng)
    inputLayer = Linear(inputSize: size.timeDimension, outputSize: size.width, rng: &rng)
    blocks = (0..<size.depth).map { _ in Linear(inputSize: size.width, outputSize: size.width, rng: &rng) }
    output = Linear(inputSize: size.width, outputSize: dimension, rng: &rng)
  }

  public var dimension: Int { output.outputSize }

  /// F(x, c_noise) for x `[B, d]` and c_noise `[B]`.
  public func callAsFunction(_ x: Tensor, _ noise: Tensor) -> Tensor {
    let c = noise.reshaped([noise.count, 1]).detached()
    let angles = c * frequencies.detached().reshaped([1, 8]) * (2 * Float.pi)
    let fourier = Tensor.concat([c, angles.sine(), angles.cosine()])
    var z = inputLayer(proj(x) + timeOut(timeHidden(fourier)))
    for block in blocks { z = z + block(z.relu()) }
    return output(z.relu())
  }

  public func callAsFunction(_ input: Tensor) -> Tensor { input }

  /// Trainable parameters (the Fourier frequencies are visited separately by `visitAll`).
  public mutating func visitParameters(_ prefix: String, _ visit: (String, inout Tensor) -> Void) {
    proj.visitParameters(prefix + "proj.", visit)
    timeHidden.visitParameters(prefix + "time_mlp.1.", visit)
    timeOut.visitParameters(prefix + "time_mlp.3.", visit)
    inputLayer.visitParameters(prefix + "residual_mlp.network.0.", visit)
    for i in blocks.indices { blocks[i].visitParameters(prefix + "residual_mlp.network.\(i + 1).linear.", visit) }
    output.visitParameters(prefix + "residual_mlp.final_linear.", visit)
  }

  /// Matrix-product FLOPs of one forward pass per row (2·in·out per layer).
  public var forwardFlopsPerRow: Double {
    let layers = [proj, timeHidden, timeOut, inputLayer, output] + blocks
    return layers.reduce(0) { $0 + 2 * Double($1.inputSize * $1.outputSize) }
  }
}

/// EDM preconditioning and loss (Karras et al. 2022, Table 1; SynthER's `ElucidatedDiffusion`):
/// D(x; σ) = c_skip·x + c_out·F(c_in·x, ¼ ln σ), loss E[λ(σ)·‖D(x₀ + σn; σ) − x₀‖²/d] with ln σ ~ N(P_mean, P_std²)
/// and λ(σ) = (σ² + σ_d²)/(σ·σ_d)². SynthER: σ_data 1.0 (standardised data), P_mean −1.2, P_std 1.2,
/// σ ∈ [0.002, 80], ρ 7.
public struct EDMPreconditioning: Codable, Sendable, Equatable {
  public var sigmaData: Float = 1.0
  public var pMean: Float = -1.2
  public var pStd: Float = 1.2
  public var sigmaMin: Double = 0.002
  public var sigmaMax: Double = 80
  public init() {}

  /// D(x; σ) for rows x `[B, d]` and per-row σ `[B]`.
  public func denoise(_ net: ResidualMLPDenoiser, _ x: Tensor, sigma: Tensor) -> Tensor {
    let b = sigma.count
    let s = sigma.detached().reshaped([b, 1])
    let d2 = sigmaData * sigmaData
    let s2 = s.square()
    let cSkip = d2 / (s2 + d2)
    let root = (s2 + d2).sqrt()
    let cOut = s * sigmaData / root
    let cIn = 1 / root
    let cNoise = sigma.detached().log() * 0.25
    return cSkip * x + cOut * net(cIn * x, cNoise)
  }

  /// The EDM training loss on a batch of clean rows.
  public func loss(_ net: ResidualMLPDenoiser, clean: Tensor, rng: inout RandomStream) -> Tensor {
    let b = clean.shape[0]
    let sigma = (Tensor.normal([b], using: &rng) * pStd + pMean).exp()
    let noise = Tensor.normal(clean.shape, using: &rng)
    let noised = clean + sigma.reshaped([b, 1]) * noise
    let denoised = denoise(net, noised, sigma: sigma)
    let d2 = sigmaData * sigmaData
    let weight = (sigma.square() + d2) / (sigma * sigmaData).square()
    let perRow = (denoised - clean).square().mean(axis: 1)
    return (perRow * weight).mean()
  }
}
