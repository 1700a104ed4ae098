/// The random stream of an environment's resets: PCG-XSH-RR 64/32 seeded through SplitMix64
/// (O'Neill 2014; the same generator as StitchTensor's `RandomStream`, repeated here because StitchEnvironments
/// depends only on MuJoCo).
public struct EnvironmentRandom: RandomNumberGenerator, Sendable {
  var state: UInt64
  let increment: UInt64

  public init(seed: UInt64) {
    var z = seed &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    z ^= z >> 31
    increment = 0xDA3E_39CB_94B9_5BDB | 1
    state = 0
    _ = next32()
    state &+= z
    _ = next32()
  }

  mutating func next32() -> UInt32 {
    let old = state
    state = old &* 6_364_136_223_846_793_005 &+ increment
    let x = UInt32(truncatingIfNeeded: ((old >> 18) ^ old) >> 27)
    let r = UInt32(truncatingIfNeeded: old >> 59)
    return (x >> r) | (x << ((~r &+ 1) & 31))
  }

  public mutating func next() -> UInt64 { (UInt64(next32()) << 32) | UInt64(next32()) }

  /// Uniform in [low, high).
  public mutating func uniform(_ low: Double, _ high: Double) -> Double {
    low + (high - low) * Double(next() >> 11) * 0x1p-53
  }

  /// Standard normal (Box–Muller).
  public mutating func normal() -> Double {
    let u1 = 1 - Double(next() >> 11) * 0x1p-53, u2 = Double(next() >> 11) * 0x1p-53
    return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
  }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@inline(__always) func _log(_ x: Double) -> Double { log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { cos(x) }
