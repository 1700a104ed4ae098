#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Adam (Kingma & Ba 2015, arXiv 1412.6980, Algorithm 1) and AdamW (Loshchilov & Hutter 2019, arXiv 1711.05101,
/// Algorithm 2), computed exactly as `torch.optim.Adam`/`AdamW` (single-tensor path):
///
///     g ← g + λθ                      (Adam's L2 weight decay)   |   θ ← θ(1 − ηλ)   (AdamW, decoupled)
///     m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²
///     θ ← θ − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// (ε is added outside the square root, after the bias correction, as PyTorch does.)
public struct Adam: Optimizer {
  public var learningRate: Float
  public var beta1: Float
  public var beta2: Float
  public var epsilon: Float
  public var weightDecay: Float
  /// True for AdamW's decoupled weight decay, false for Adam's L2 term.
  public var decoupledWeightDecay: Bool
  public var step = 0
  public var firstMoments: [Tensor] = []
  public var secondMoments: [Tensor] = []

  public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
              weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.weightDecay = weightDecay
    self.decoupledWeightDecay = decoupledWeightDecay
  }

  /// AdamW with PyTorch's default weight decay 0.01.
  public static func adamW(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                           epsilon: Float = 1e-8, weightDecay: Float = 0.01) -> Adam {
    Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
         decoupledWeightDecay: true)
  }

  public mutating func update<Model: ParameterGroup>(_ model: inout Model, along gradient: Model) {
    step += 1
    let t = Float(step)
    let correction1 = 1 - powf(beta1, t)
    let correction2Root = (1 - powf(beta2, t)).squareRoot()
    let stepSize = learningRate / correction1
    let (b1, b2, eps, wd, lr) = (beta1, beta2, epsilon, weightDecay, learningRate)
    let decoupled = decoupledWeightDecay
    var index = 0
    var m = firstMoments, v = secondMoments
    firstMoments = []; secondMoments = []
    model.updateParameters(alongside: gradient) { _, theta, grad in
      if index == m.count {
        m.append(Tensor.zeros(theta.shape))
        v.append(Tensor.zeros(theta.shape))
      }
      theta.withUnsafeMutableBufferPointer { p in
        m[index].withUnsafeMutableBufferPointer { pm in
          v[index].withUnsafeMutableBufferPointer { pv in
            grad.withUnsafeBufferPointer { pg in
              // Halves of a large tensor on the two lanes when the thread has two (elementwise: same result).
              ProductLanes.parallelFor(p.count) { r in
                let (p, pm, pv) = (UnsafeMutableBufferPointer(rebasing: p[r]), UnsafeMutableBufferPointer(rebasing: pm[r]),
                                   UnsafeMutableBufferPointer(rebasing: pv[r]))
                if decoupled && wd != 0 { for i in 0..<p.count { p[i] *= 1 - lr * wd } }
                Adam.step(p, pm, pv, UnsafeBufferPointer(rebasing: pg[r]), b1: b1, b2: b2, eps: eps,
                          coupledDecay: decoupled ? 0 : wd, stepSize: stepSize, correction2Root: correction2Root)
              }
            }
          }
        }
      }
      index += 1
    }
    firstMoments = m
    secondMoments = v
  }

  /// One Adam step over a parameter buffer (Kingma & Ba 2015, Algorithm 1, PyTorch's arrangement of the bias
  /// corrections): 16 lanes at a time, then a scalar tail. Every lane does the same IEEE operations in the same
  /// order as the scalar tail (no fused multiply-add), so results do not depend on where a parameter falls.
  @inline(__always)
  static func step(_ p: UnsafeMutableBufferPointer<Float>, _ pm: UnsafeMutableBufferPointer<Float>,
                   _ pv: UnsafeMutableBufferPointer<Float>, _ pg: UnsafeBufferPointer<Float>,
                   b1: Float, b2: Float, eps: Float, coupledDecay wd: Float, stepSize: Float, correction2Root: Float) {
    typealias V = SIMD16<Float>
    let n = p.count
    let (a1, a2) = (1 - b1, 1 - b2)
    let (vb1, vb2, va1, va2) = (V(repeating: b1), V(repeating: b2), V(repeating: a1), V(repeating: a2))
    let (veps, vwd, vstep, vc2) = (V(repeating: eps), V(repeating: wd), V(repeating: stepSize), V(repeating: correction2Root))
    let (bp, bm, bv, bg) = (UnsafeMutableRawPointer(p.baseAddress!), UnsafeMutableRawPointer(pm.baseAddress!),
                            UnsafeMutableRawPointer(pv.baseAddress!), UnsafeRawPointer(pg.baseAddress!))
    var i = 0
    while i &+ 16 <= n {
      let o = i &* 4
      let theta = bp.loadUnaligned(fromByteOffset: o, as: V.self)
      var g = bg.loadUnaligned(fromByteOffset: o, as: V.self)
      if wd != 0 { g = g + vwd * theta }
      let mi = vb1 * bm.loadUnaligned(fromByteOffset: o, as: V.self) + va1 * g
      let vi = vb2 * bv.loadUnaligned(fromByteOffset: o, as: V.self) + va2 * g * g
      bm.storeBytes(of: mi, toByteOffset: o, as: V.self)
      bv.storeBytes(of: vi, toByteOffset: o, as: V.self)
      bp.storeBytes(of: theta - vstep * mi / (vi.squareRoot() / vc2 + veps), toByteOffset: o, as: V.self)
      i &+= 16
    }
    while i < n {
      let g = wd != 0 ? pg[i] + wd * p[i] : pg[i]
      let mi = b1 * pm[i] + a1 * g
      let vi = b2 * pv[i] + a2 * g * g
      pm[i] = mi
      pv[i] = vi
      p[i] -= stepSize * mi / (vi.squareRoot() / correction2Root + eps)
      i &+= 1
    }
  }

  public mutating func visitState(_ prefix: String, _ visit: (String, inout Tensor) -> Void) {
    for i in firstMoments.indices {
      visit(prefix + "exp_avg.\(i)", &firstMoments[i])
      visit(prefix + "exp_avg_sq.\(i)", &secondMoments[i])
    }
  }

  /// Creates zero moments shaped like `model`'s parameters (so a checkpoint can be loaded into them).
  public mutating func prepare<Model: ParameterGroup>(for model: Model) {
    guard firstMoments.isEmpty else { return }
    for (_, p) in model.namedParameters {
      firstMoments.append(Tensor.zeros(p.shape))
      secondMoments.append(Tensor.zeros(p.shape))
    }
  }
}
