import Foundation

import StitchTensor

/// DEIS, time-based Adams–Bashforth variant tAB-DEIS (Zhang & Chen, arXiv 2204.13902, §4 eq. 14–15): the
/// exponential integrator of the probability-flow ODE with ε̂ extrapolated by a polynomial in t through the last
/// r + 1 evaluations. In the VE view x̃ = x/α, ρ = σ/α the ODE is dx̃/dt = ε̂(t)·ρ'(t), so
/// x̃_t = x̃_s + Σⱼ Cⱼ·ε̂(τⱼ), Cⱼ = ∫_s^t Lⱼ(τ)·ρ'(τ) dτ with Lⱼ the Lagrange basis on the nodes τ₀ = s, τ₁, ...
/// The coefficients are integrated by parts (Cⱼ = [Lⱼρ]_s^t − ∫ Lⱼ'·ρ) with 16-point Gauss–Legendre quadrature
/// (the reference `th_deis` integrates them numerically too). Order 1 is DDIM. The first steps warm up with
/// lower orders.
public struct DEISSampler: DiffusionSampler {
  public var maxOrder: Int
  public init(order: Int) { maxOrder = Swift.min(Swift.max(order, 1), 3) }
  public var id: String { "deis-\(maxOrder)" }
  public var order: Int { maxOrder }

  public func sample(_ x: inout [Double], times: [Double], schedule: any NoiseSchedule, model: Denoiser, rng: inout RandomStream) throws {
    var eps: [[Double]] = []  // newest last
    var nodes: [Double] = []
    for i in 0..<(times.count - 1) {
      let s = times[i], t = times[i + 1]
      let aS = schedule.alpha(s), sS = schedule.sigma(s)
      let x0 = try model(x, s)
      eps.append(zip(x, x0).map { ($0 - aS * $1) / sS })
      nodes.append(s)
      if eps.count > maxOrder { eps.removeFirst(); nodes.removeFirst() }
      let k = eps.count
      let coefficients = Self.coefficients(nodes: Array(nodes.reversed()), from: s, to: t, schedule: schedule)
      var terms: [(Double, [Double])] = [(schedule.alpha(t) / aS, x)]
      for j in 0..<k { terms.append((schedule.alpha(t) * coefficients[j], eps[k - 1 - j])) }
      x = Vec.combine(terms)
    }
  }

  /// Cⱼ = ∫_s^t Lⱼ(τ) ρ'(τ) dτ for nodes[0] = s (newest first).
  static func coefficients(nodes: [Double], from s: Double, to t: Double, schedule: any NoiseSchedule) -> [Double] {
    func rho(_ tau: Double) -> Double { schedule.scaledSigma(tau) }
    func basis(_ j: Int, _ tau: Double) -> Double {
      var v = 1.0
      for m in nodes.indices where m != j { v *= (tau - nodes[m]) / (nodes[j] - nodes[m]) }
      return v
    }
    func basisDerivative(_ j: Int, _ tau: Double) -> Double {
      var total = 0.0
      for l in nodes.indices where l != j {
        var v = 1 / (nodes[j] - nodes[l])
        for m in nodes.indices where m != j && m != l { v *= (tau - nodes[m]) / (nodes[j] - nodes[m]) }
        total += v
      }
      return total
    }
    return nodes.indices.map { j in
      let boundary = basis(j, t) * rho(t) - basis(j, s) * rho(s)
      guard nodes.count > 1 else { return boundary }
      let half = 0.5 * (t - s), mid = 0.5 * (t + s)
      var integral = 0.0
      for (xg, wg) in GaussLegendre.nodes16 { let tau = mid + half * xg; integral += wg * basisDerivative(j, tau) * rho(tau) }
      return boundary - half * integral
    }
  }
}

/// 16-point Gauss–Legendre nodes and weights on [−1, 1], computed once by Newton's method on the Legendre
/// polynomial P₁₆ (Golub–Welsch would do as well): wᵢ = 2 / ((1 − xᵢ²)·P₁₆'(xᵢ)²).
enum GaussLegendre {
  static let nodes16: [(Double, Double)] = nodes(16)

  static func nodes(_ n: Int) -> [(Double, Double)] {
    (1...n).map { i in
      var x = cos(Double.pi * (Double(i) - 0.25) / (Double(n) + 0.5))
      var derivative = 0.0
      for _ in 0..<100 {
        var p0 = 1.0, p1 = x
        for k in 2...n { let p2 = (Double(2 * k - 1) * x * p1 - Double(k - 1) * p0) / Double(k); p0 = p1; p1 = p2 }
        derivative = Double(n) * (x * p1 - p0) / (x * x - 1)
        let dx = p1 / derivative
        x -= dx
        if Swift.abs(dx) < 1e-16 { break }
      }
      return (x, 2 / ((1 - x * x) * derivative * derivative))
    }
  }
}
