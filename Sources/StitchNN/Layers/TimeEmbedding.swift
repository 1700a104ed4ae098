#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Embeddings of a scalar time or noise level for diffusion denoisers.
public enum TimeEmbedding {
  /// Sinusoidal embedding of Vaswani et al. 2017 (§3.5) as used by DDPM: for t `[B]` or `[B,1]` and even `size`,
  /// `[sin(t·ωₖ), cos(t·ωₖ)]` with ωₖ = 10000^(−k/(size/2−1)), k = 0..<size/2.
  public static func sinusoidal(_ t: Tensor, size: Int) -> Tensor {
    let half = size / 2
    let b = t.count
    var out = Tensor.zeros([b, 2 * half])
    let scale = Foundation_logf(10000) / Float(Swift.max(half - 1, 1))
    out.withUnsafeMutableBufferPointer { o in
      t.withUnsafeBufferPointer { pt in
        for i in 0..<b {
          for k in 0..<half {
            let arg = pt[i] * expf(-Float(k) * scale)
            o[i * 2 * half + k] = sinf(arg)
            o[i * 2 * half + half + k] = cosf(arg)
          }
        }
      }
    }
    return out
  }
}

@inline(__always) func Foundation_logf(_ x: Float) -> Float { logf(x) }

/// Random Fourier features of a scalar: `[t, sin(2π·t·w), cos(2π·t·w)]` with fixed w ~ N(0, 1)
/// (Tancik et al. 2020; the "random" variant of lucidrains' `RandomOrLearnedSinusoidalPosEmb` that SynthER's
/// `ResidualMLPDenoiser` uses, where w is not trained). Output width 1 + 2·features.
public struct RandomFourierEmbedding: Layer {
  /// `[features]`, fixed (not visited as a trainable parameter).
  public let frequencies: Tensor

  public init(features: Int, rng: inout RandomStream) {
    frequencies = Tensor.normal([features], using: &rng)
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    let t = input.reshaped([input.count, 1])
    let angles = t * frequencies.reshaped([1, frequencies.count]) * (2 * Float.pi)
    return Tensor.concat([t, angles.sine(), angles.cosine()])
  }

  public mutating func visitParameters(_ prefix: String, _ visit: (String, inout Tensor) -> Void) {}
}

extension Tensor {
  /// sin(x) (gradient cos x).
  public func sine() -> Tensor {
    let x = detached()
    var out = Tensor.zeros(shape)
    out.withUnsafeMutableBufferPointer { o in x.withUnsafeBufferPointer { p in for i in 0..<p.count { o[i] = sinf(p[i]) } } }
    return out.recorded(from: self) { g in g * x.cosine() }
  }

  /// cos(x) (gradient −sin x).
  public func cosine() -> Tensor {
    let x = detached()
    var out = Tensor.zeros(shape)
    out.withUnsafeMutableBufferPointer { o in x.withUnsafeBufferPointer { p in for i in 0..<p.count { o[i] = cosf(p[i]) } } }
    return out.recorded(from: self) { g in -(g * x.sine()) }
  }
}
